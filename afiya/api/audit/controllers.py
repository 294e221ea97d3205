"""Reading the audit trail (auditors)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery

from afiya.api.dependencies import Uow
from afiya.api.pagination import Page, check_limit, decode_cursor, next_cursor
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.audit.model import AuditRecord


class AuditEventRead(msgspec.Struct):
    seq: int
    id: UUID
    occurred_at: datetime
    user_id: UUID | None
    username: str | None
    roles: str | None
    action: str
    resource_type: str
    resource_id: str | None
    patient_id: UUID | None
    outcome: str
    purpose: str | None
    ip: str | None
    node: str
    request_id: str | None
    hash: str


class AuditController(Controller):
    path = "/api/v1/audit-events"
    tags = ["audit"]

    @get(
        "/",
        operation_id="audit_list",
        summary="List audit events, newest first",
        opt={PERMISSION: Permission.AUDIT_READ},
    )
    async def list_events(
        self,
        uow: Uow,
        patient_id: FromQuery[UUID | None] = None,
        user_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> Page[AuditEventRead]:
        """Filter by patient (who saw this record?) or by user (what did they do?)."""
        limit = check_limit(limit)
        # Reading the trail is itself audited: it reveals who saw which patient.
        await uow.audit.record(
            AuditRecord(
                "audit.read",
                "audit_event",
                None,
                patient_id=patient_id,
                details={"user_id": str(user_id) if user_id else None},
            )
        )
        events = await uow.audit_store.list(
            patient_id=patient_id, user_id=user_id, after_seq=decode_cursor(cursor), limit=limit
        )
        items = [
            AuditEventRead(
                seq=e.seq,
                id=e.id,
                occurred_at=e.occurred_at,
                user_id=e.context.user_id,
                username=e.context.username,
                roles=e.context.roles,
                action=e.record.action,
                resource_type=e.record.resource_type,
                resource_id=e.record.resource_id,
                patient_id=e.record.patient_id,
                outcome=e.record.outcome.value,
                purpose=e.context.purpose,
                ip=e.context.ip,
                node=e.context.node,
                request_id=e.context.request_id,
                hash=e.hash,
            )
            for e in events
        ]
        return Page(
            items=items, next_cursor=next_cursor(items, limit, lambda e: e.seq), limit=limit
        )


CONTROLLERS = [AuditController]
