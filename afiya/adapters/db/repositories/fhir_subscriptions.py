"""Subscriptions, the change-log cursor, notifications and the delivery log in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import session_now
from afiya.adapters.db.models.fhir import (
    FhirChangeCursorRow,
    FhirDeliveryAttemptRow,
    FhirNotificationRow,
    FhirSubscriptionRow,
)
from afiya.domain.fhir.subscriptions import (
    DeliveryState,
    Payload,
    Subscription,
    SubscriptionStatus,
)
from afiya.domain.platform.crypto import FieldCipher


@dataclass(frozen=True, slots=True)
class NewNotification:
    subscription_id: UUID
    change_seq: int
    resource_type: str
    resource_id: UUID
    resource_version: int
    operation: str


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    subscription_id: UUID
    change_seq: int
    resource_type: str
    resource_id: UUID
    resource_version: int
    operation: str
    attempts: int
    next_attempt_at: datetime


class SqlFhirSubscriptionStore:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    # -- subscriptions ------------------------------------------------------------------
    def _to_domain(self, row: FhirSubscriptionRow) -> Subscription:
        headers: tuple[str, ...] = ()
        if row.headers_enc is not None:
            text = self._cipher.decrypt(
                bytes(row.headers_enc), f"fhir_subscription:{row.id}:headers"
            )
            headers = tuple(json.loads(text))
        return Subscription(
            id=row.id,
            status=SubscriptionStatus(row.status),
            criteria=row.criteria,
            resource_type=row.resource_type,
            endpoint=row.endpoint,
            payload=Payload(row.payload),
            owner_id=row.owner_id,
            headers=headers,
            reason=row.reason,
            end_at=row.end_at,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _headers(self, row_id: UUID, headers: Sequence[str]) -> bytes | None:
        if not headers:
            return None
        return self._cipher.encrypt(
            json.dumps(list(headers)), f"fhir_subscription:{row_id}:headers"
        )

    async def _row(self, subscription_id: UUID) -> FhirSubscriptionRow | None:
        row = await self._session.get(FhirSubscriptionRow, subscription_id)
        return row if row is not None and row.deleted_at is None else None

    async def get(self, subscription_id: UUID) -> Subscription | None:
        row = await self._row(subscription_id)
        return self._to_domain(row) if row else None

    async def save(self, subscription: Subscription) -> Subscription:
        """Insert or replace every field; returns it as stored (with its version)."""
        s = subscription
        row = await self._row(s.id)
        values: dict[str, Any] = {
            "status": s.status.value,
            "criteria": s.criteria,
            "resource_type": s.resource_type,
            "endpoint": s.endpoint,
            "payload": s.payload.value,
            "headers_enc": self._headers(s.id, s.headers),
            "reason": s.reason,
            "end_at": s.end_at,
            "owner_id": s.owner_id,
        }
        if row is None:
            row = FhirSubscriptionRow(id=s.id, **values)
            self._session.add(row)
        else:
            for key, value in values.items():
                if key == "headers_enc" and self._to_domain(row).headers == tuple(s.headers):
                    continue  # unchanged secret keeps its ciphertext
                if getattr(row, key) != value:
                    setattr(row, key, value)
        await self._session.flush()
        return self._to_domain(row)

    async def delete(self, subscription_id: UUID) -> bool:
        row = await self._row(subscription_id)
        if row is None:
            return False
        row.deleted_at = session_now(self._session)
        row.status = SubscriptionStatus.OFF.value
        await self._session.flush()
        return True

    async def owned(self, owner_id: UUID | None, *, offset: int, limit: int) -> list[Subscription]:
        stmt = select(FhirSubscriptionRow).where(FhirSubscriptionRow.deleted_at.is_(None))
        if owner_id is not None:
            stmt = stmt.where(FhirSubscriptionRow.owner_id == owner_id)
        stmt = stmt.order_by(FhirSubscriptionRow.id).offset(offset).limit(limit)
        return [self._to_domain(r) for r in (await self._session.execute(stmt)).scalars()]

    async def active(self, resource_types: Sequence[str]) -> list[Subscription]:
        stmt = select(FhirSubscriptionRow).where(
            FhirSubscriptionRow.deleted_at.is_(None),
            FhirSubscriptionRow.status == SubscriptionStatus.ACTIVE.value,
            FhirSubscriptionRow.resource_type.in_(list(resource_types)),
        )
        return [self._to_domain(r) for r in (await self._session.execute(stmt)).scalars()]

    # -- change-log cursor --------------------------------------------------------------
    async def cursor(self, node: str) -> int | None:
        row = await self._session.get(FhirChangeCursorRow, node, with_for_update=True)
        return None if row is None else row.last_node_seq

    async def set_cursor(self, node: str, last_node_seq: int) -> None:
        row = await self._session.get(FhirChangeCursorRow, node)
        if row is None:
            self._session.add(FhirChangeCursorRow(node=node, last_node_seq=last_node_seq))
        else:
            row.last_node_seq = last_node_seq
        await self._session.flush()

    # -- notifications and the delivery log ---------------------------------------------
    async def add_notifications(self, items: Sequence[NewNotification], now: datetime) -> int:
        """Insert the events not stored yet (a re-run of the matcher adds nothing)."""
        added = 0
        for item in items:
            exists = (
                await self._session.execute(
                    select(FhirNotificationRow.id).where(
                        FhirNotificationRow.subscription_id == item.subscription_id,
                        FhirNotificationRow.change_seq == item.change_seq,
                    )
                )
            ).first()
            if exists:
                continue
            await self._session.execute(
                insert(FhirNotificationRow).values(
                    subscription_id=item.subscription_id,
                    change_seq=item.change_seq,
                    resource_type=item.resource_type,
                    resource_id=item.resource_id,
                    resource_version=item.resource_version,
                    operation=item.operation,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            added += 1
        return added

    async def due_subscriptions(self, now: datetime) -> list[UUID]:
        """Subscriptions whose oldest pending event is due (events go out in order)."""
        n = FhirNotificationRow
        oldest = (
            select(n.subscription_id, func.min(n.id).label("first"))
            .where(n.status == "pending")
            .group_by(n.subscription_id)
            .subquery()
        )
        stmt = (
            select(n.subscription_id)
            .join(oldest, oldest.c.first == n.id)
            .where(n.next_attempt_at <= now)
            .order_by(n.subscription_id)
        )
        return list((await self._session.execute(stmt)).scalars())

    async def pending(self, subscription_id: UUID, limit: int) -> list[Notification]:
        """The oldest pending events, locked until commit: two delivery jobs of one
        subscription never send the same events side by side."""
        n = FhirNotificationRow
        stmt = (
            select(n)
            .where(n.subscription_id == subscription_id, n.status == "pending")
            .order_by(n.id)
            .limit(limit)
            .with_for_update()
        )
        return [
            Notification(
                r.id,
                r.subscription_id,
                r.change_seq,
                r.resource_type,
                r.resource_id,
                r.resource_version,
                r.operation,
                r.attempts,
                r.next_attempt_at,
            )
            for r in (await self._session.execute(stmt)).scalars()
        ]

    async def event_count(self, subscription_id: UUID, up_to: int) -> int:
        """The event number of a notification (1 for the subscription's first)."""
        n = FhirNotificationRow
        stmt = select(func.count()).where(n.subscription_id == subscription_id, n.id <= up_to)
        return int((await self._session.execute(stmt)).scalar_one())

    async def record_attempt(
        self,
        notification: Notification,
        *,
        at: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        next_attempt_at: datetime | None,
    ) -> None:
        """Log the attempt; a success marks the event delivered, a failure pushes it back."""
        await self._session.execute(
            insert(FhirDeliveryAttemptRow).values(
                subscription_id=notification.subscription_id,
                notification_id=notification.id,
                attempted_at=at,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
        )
        n = FhirNotificationRow
        values: dict[str, Any] = {"attempts": n.attempts + 1, "last_error": error}
        if next_attempt_at is None:
            values.update(status="delivered", delivered_at=at)
        else:
            values["next_attempt_at"] = next_attempt_at
        await self._session.execute(update(n).where(n.id == notification.id).values(**values))

    async def state(self, subscription_id: UUID) -> DeliveryState:
        n = FhirNotificationRow
        pending = (
            await self._session.execute(
                select(n.attempts, n.last_error)
                .where(n.subscription_id == subscription_id, n.status == "pending")
                .order_by(n.id)
            )
        ).all()
        if not pending:
            return DeliveryState()
        return DeliveryState(len(pending), int(pending[0][0]), pending[0][1])

    async def attempts(self, subscription_id: UUID) -> list[dict[str, Any]]:
        a = FhirDeliveryAttemptRow
        rows = await self._session.execute(
            select(a).where(a.subscription_id == subscription_id).order_by(a.id)
        )
        return [
            {
                "notification_id": r.notification_id,
                "attempted_at": r.attempted_at,
                "status_code": r.status_code,
                "error": r.error,
            }
            for r in rows.scalars()
        ]
