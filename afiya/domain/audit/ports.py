"""Ports of the audit module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from afiya.domain.audit.model import AuditEvent, AuditRecord


class AuditLog(Protocol):
    """Appends events for the current actor, in the current unit of work."""

    async def record(self, record: AuditRecord) -> None: ...


class AuditStore(Protocol):
    """Reads the stored trail, oldest first."""

    def iter_events(self, after_seq: int = 0) -> AsyncIterator[AuditEvent]: ...
