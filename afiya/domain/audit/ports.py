"""Ports of the audit module."""

from __future__ import annotations

from typing import Protocol

from afiya.domain.audit.model import AuditRecord


class AuditLog(Protocol):
    """Appends events for the current actor, in the current unit of work."""

    async def record(self, record: AuditRecord) -> None: ...
