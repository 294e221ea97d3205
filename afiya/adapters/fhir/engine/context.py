"""What a FHIR interaction runs with: the caller, the unit of work, the base URL, headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from afiya.adapters.db.uow import UnitOfWork
from afiya.domain.access.policy import Principal
from afiya.domain.audit.model import AuditRecord
from afiya.domain.shared.clock import Clock


@dataclass
class FhirContext:
    principal: Principal
    uow: UnitOfWork
    base: str  # absolute URL of the FHIR base, without the trailing slash
    clock: Clock
    headers: Mapping[str, str] = field(default_factory=dict)
    translate: Any = None
    allow_http: bool = False  # rest-hook endpoints over plain http (tests, LAN)
    quiet: bool = False  # the subscription matcher: evaluates criteria, discloses nothing
    blobs: Any = None  # the blob store (documents and their Binary content)
    document_max_bytes: int = 20 * 1024 * 1024  # settings.document_max_bytes
    knowledge: Any = None  # the safety knowledge base builder the prescribing routes share

    async def record(self, record: AuditRecord) -> None:
        """Audit an access (not while matching criteria: nothing leaves the server then)."""
        if not self.quiet:
            await self.uow.audit.record(record)

    def url(self, resource_type: str, ident: object | None = None) -> str:
        return f"{self.base}/{resource_type}" + (f"/{ident}" if ident is not None else "")
