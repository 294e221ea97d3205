"""The clinical adapters the routes use, built once per process (kept in the container)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from afiya.adapters.documents import FpdfDocumentRenderer
from afiya.adapters.i18n import Translator
from afiya.adapters.icd10 import SimpleIcd10Catalogue
from afiya.adapters.imaging import PillowImageProcessor
from afiya.domain.shared.clock import Clock


def _cached(request: Request[Any, Any, Any], name: str, factory: Any) -> Any:
    extras = request.app.state.container.extras
    if name not in extras:
        extras[name] = factory()
    return extras[name]


def icd10(request: Request[Any, Any, Any]) -> SimpleIcd10Catalogue:
    return _cached(request, "clinical.icd10", SimpleIcd10Catalogue)  # type: ignore[no-any-return]


def renderer(request: Request[Any, Any, Any]) -> FpdfDocumentRenderer:
    """The PDF renderer (raises ``FontMissing`` when the DejaVu fonts are not installed)."""
    return _cached(request, "clinical.renderer", FpdfDocumentRenderer)  # type: ignore[no-any-return]


def images(request: Request[Any, Any, Any]) -> PillowImageProcessor:
    return _cached(request, "clinical.images", PillowImageProcessor)  # type: ignore[no-any-return]


def clock(request: Request[Any, Any, Any]) -> Clock:
    return request.app.state.container.clock  # type: ignore[no-any-return]


def translator_for(language: str) -> Translator:
    return Translator(language)
