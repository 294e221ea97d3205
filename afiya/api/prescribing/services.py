"""The prescribing adapters the routes use, built once per process (kept in the container)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from afiya.adapters.db.repositories.prescribing_knowledge import CachedKnowledgeBuilder
from afiya.adapters.documents.prescription_pdf import FpdfPrescriptionRenderer


def _cached(request: Request[Any, Any, Any], name: str, factory: Any) -> Any:
    extras = request.app.state.container.extras
    if name not in extras:
        extras[name] = factory()
    return extras[name]


def knowledge(request: Request[Any, Any, Any]) -> CachedKnowledgeBuilder:
    """The knowledge base builder (national release + local rules, cached per version)."""
    return _cached(request, "prescribing.knowledge", CachedKnowledgeBuilder)  # type: ignore[no-any-return]


def renderer(request: Request[Any, Any, Any]) -> FpdfPrescriptionRenderer:
    return _cached(request, "prescribing.renderer", FpdfPrescriptionRenderer)  # type: ignore[no-any-return]
