"""SQL repository of the messaging channels: USSD PINs and lockouts, replay keys, delivery
reports, callback requests and the staff feed. Every query of those tables lives here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.agenda import (
    AppointmentRow,
    ReminderDeliveryRow,
    SmsCallbackSeenRow,
)
from afiya.adapters.db.models.messaging import (
    CallbackRequestRow,
    StaffFeedItemRow,
    StaffFeedReadRow,
    UssdLockoutRow,
    UssdPinRow,
)
from afiya.adapters.db.models.patients import PatientRow
from afiya.adapters.db.repositories.orgunits import scope_clause
from afiya.domain.access.policy import Scope
from afiya.domain.messaging.model import DeliveryReport, DeliveryStatus, merge_delivery_status
from afiya.domain.platform.crypto import BlindIndex, FieldCipher
from afiya.domain.shared.ids import uuid7

#: Blind-index purpose of a phone number in the lockout table (not the patients' one:
#: a lockout row must not be joinable to a patient by its key).
LOCKOUT_PURPOSE = "ussd.lockout.phone"
_UPCOMING = ("booked", "confirmed")


@dataclass(frozen=True, slots=True)
class UpcomingAppointment:
    id: str
    patient_id: str
    facility_id: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """What a delivery report changed in the reminder log."""

    delivery_id: str
    appointment_id: str
    patient_id: str
    previous: str
    status: str


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    id: str
    unit_path: str
    patient_id: str | None
    phone_number: str
    language: str
    channel: str
    status: str
    requested_at: datetime
    handled_at: datetime | None


@dataclass(frozen=True, slots=True)
class FeedItem:
    id: str
    kind: str
    unit_path: str
    patient_id: str | None
    resource_type: str
    resource_id: str
    details: dict[str, Any]
    occurred_at: datetime
    read: bool


class SqlMessagingRepository:
    """Tables of ``models/messaging.py`` plus the reminder log's delivery reports."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher, index: BlindIndex) -> None:
        self._session = session
        self._cipher = cipher
        self._index = index

    # -- USSD PIN ------------------------------------------------------------------------
    async def set_pin(
        self, patient_id: UUID, pin_hash: str, *, now: datetime, by: UUID | None
    ) -> None:
        row = await self._session.get(UssdPinRow, patient_id)
        if row is None:
            self._session.add(
                UssdPinRow(patient_id=patient_id, pin_hash=pin_hash, set_at=now, set_by=by)
            )
        else:
            row.pin_hash, row.set_at, row.set_by = pin_hash, now, by
        await self._session.flush()

    async def pin_hashes(self, patient_ids: Sequence[UUID]) -> dict[UUID, str]:
        if not patient_ids:
            return {}
        rows = await self._session.execute(
            select(UssdPinRow.patient_id, UssdPinRow.pin_hash).where(
                UssdPinRow.patient_id.in_(list(patient_ids))
            )
        )
        return {patient_id: pin_hash for patient_id, pin_hash in rows.all()}

    # -- USSD lockout --------------------------------------------------------------------
    def _lockout_key(self, phone_number: str) -> bytes:
        return self._index.digest(phone_number, LOCKOUT_PURPOSE)

    async def failures(self, phone_number: str) -> tuple[datetime, ...]:
        row = await self._session.get(UssdLockoutRow, self._lockout_key(phone_number))
        if row is None:
            return ()
        return tuple(datetime.fromisoformat(value) for value in row.failures)

    async def save_failures(
        self, phone_number: str, failures: Sequence[datetime], *, now: datetime
    ) -> None:
        key = self._lockout_key(phone_number)
        row = await self._session.get(UssdLockoutRow, key)
        values = [moment.isoformat() for moment in failures]
        if row is None:
            if values:
                self._session.add(UssdLockoutRow(phone_bidx=key, failures=values, updated_at=now))
        elif values:
            row.failures, row.updated_at = values, now
        else:
            await self._session.delete(row)
        await self._session.flush()

    # -- appointments seen by the patient ---------------------------------------------------
    async def next_appointment(
        self, patient_id: str, *, now: datetime
    ) -> UpcomingAppointment | None:
        a = AppointmentRow
        row = (
            await self._session.execute(
                select(a.id, a.patient_id, a.facility_id, a.starts_at)
                .where(
                    a.patient_id == UUID(patient_id),
                    a.deleted_at.is_(None),
                    a.status.in_(_UPCOMING),
                    a.starts_at >= now,
                )
                .order_by(a.starts_at, a.id)
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        return UpcomingAppointment(str(row[0]), str(row[1]), str(row[2]), row[3])

    async def patient_unit_path(self, patient_id: UUID) -> str | None:
        return (
            await self._session.execute(
                select(PatientRow.unit_path).where(PatientRow.id == patient_id)
            )
        ).scalar_one_or_none()

    async def set_sms_consent(self, patient_ids: Sequence[UUID], consent: bool) -> list[UUID]:
        """Record an SMS opt-out (or opt-in) sent by the patient; return who changed.

        Through the ORM, so the change log carries it to other nodes like any edit."""
        if not patient_ids:
            return []
        rows = (
            await self._session.execute(
                select(PatientRow).where(PatientRow.id.in_(list(patient_ids)))
            )
        ).scalars()
        changed = []
        for row in rows:
            if row.sms_consent != consent:
                row.sms_consent = consent
                changed.append(row.id)
        await self._session.flush()
        return changed

    # -- replay guard ----------------------------------------------------------------------
    async def first_seen(self, key: str, *, now: datetime) -> bool:
        """Record ``key`` in this transaction; ``False`` when it was already there.

        ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent duplicate waits on the key's
        index entry and then inserts nothing, so exactly one request processes a callback.
        """
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        result = await self._session.execute(
            insert(SmsCallbackSeenRow)
            .values(key=key[:255], seen_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- delivery reports ----------------------------------------------------------------
    async def apply_delivery_report(
        self, report: DeliveryReport, *, now: datetime
    ) -> DeliveryUpdate | None:
        """Merge a provider's report into the reminder's log row (a late "sent" never
        overwrites "delivered"); ``None`` when no reminder was sent with that id."""
        row = (
            await self._session.execute(
                select(ReminderDeliveryRow)
                .where(ReminderDeliveryRow.provider_message_id == report.provider_message_id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        previous = row.status
        try:
            current = DeliveryStatus(previous)
        except ValueError:  # attempting / unconfirmed / skipped: the report settles it
            current = DeliveryStatus.QUEUED
        merged = merge_delivery_status(current, report.status)
        if merged is not current or previous not in DeliveryStatus.__members__.values():
            row.status = merged.value
            row.provider_status = report.provider_status
            if merged in (DeliveryStatus.FAILED, DeliveryStatus.REJECTED, DeliveryStatus.EXPIRED):
                row.error = report.failure_reason or report.provider_status
            row.updated_at = now
        return DeliveryUpdate(
            str(row.id), str(row.appointment_id), str(row.patient_id), previous, row.status
        )

    async def appointment_unit_path(self, appointment_id: str) -> str | None:
        return (
            await self._session.execute(
                select(AppointmentRow.unit_path).where(AppointmentRow.id == UUID(appointment_id))
            )
        ).scalar_one_or_none()

    # -- callback requests ---------------------------------------------------------------
    async def add_callback(
        self,
        *,
        unit_path: str,
        patient_id: UUID | None,
        phone_number: str,
        language: str,
        channel: str,
        now: datetime,
    ) -> str:
        row_id = uuid7()
        self._session.add(
            CallbackRequestRow(
                id=row_id,
                unit_path=unit_path,
                patient_id=patient_id,
                phone_enc=self._cipher.encrypt(phone_number, f"callback_request:{row_id}:phone"),
                language=language,
                channel=channel,
                status="open",
                requested_at=now,
            )
        )
        await self._session.flush()
        return str(row_id)

    def _callback(self, row: CallbackRequestRow) -> CallbackRequest:
        return CallbackRequest(
            id=str(row.id),
            unit_path=row.unit_path,
            patient_id=str(row.patient_id) if row.patient_id else None,
            phone_number=self._cipher.decrypt(
                bytes(row.phone_enc), f"callback_request:{row.id}:phone"
            ),
            language=row.language,
            channel=row.channel,
            status=row.status,
            requested_at=row.requested_at,
            handled_at=row.handled_at,
        )

    async def callbacks(
        self, scope: Scope, *, status: str | None, limit: int
    ) -> list[CallbackRequest]:
        c = CallbackRequestRow
        stmt = select(c).where(c.deleted_at.is_(None), scope_clause(c.unit_path, scope))  # type: ignore[arg-type]
        if status is not None:
            stmt = stmt.where(c.status == status)
        stmt = stmt.order_by(c.requested_at.desc(), c.id.desc()).limit(limit)
        return [self._callback(row) for row in (await self._session.execute(stmt)).scalars()]

    async def callback(self, callback_id: UUID) -> CallbackRequest | None:
        row = await self._session.get(CallbackRequestRow, callback_id)
        return None if row is None or row.deleted_at is not None else self._callback(row)

    async def close_callback(
        self, callback_id: UUID, *, by: UUID, now: datetime, note: str | None
    ) -> CallbackRequest | None:
        row = await self._session.get(CallbackRequestRow, callback_id)
        if row is None or row.deleted_at is not None:
            return None
        if row.status != "done":
            row.status, row.handled_at, row.handled_by, row.note = "done", now, by, note
            await self._session.flush()
        return self._callback(row)

    # -- staff feed ----------------------------------------------------------------------
    async def add_feed_item(
        self,
        *,
        kind: str,
        unit_path: str,
        patient_id: UUID | None,
        resource_type: str,
        resource_id: str,
        details: dict[str, Any],
        now: datetime,
    ) -> str:
        row_id = uuid7()
        self._session.add(
            StaffFeedItemRow(
                id=row_id,
                kind=kind,
                unit_path=unit_path,
                patient_id=patient_id,
                resource_type=resource_type,
                resource_id=resource_id,
                details=details,
                occurred_at=now,
            )
        )
        await self._session.flush()
        return str(row_id)

    async def feed(
        self,
        scope: Scope,
        *,
        user_id: UUID,
        unread_only: bool,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[FeedItem]:
        f, r = StaffFeedItemRow, StaffFeedReadRow
        read = exists().where(and_(r.item_id == f.id, r.user_id == user_id))
        stmt = select(f, read.label("read")).where(
            f.deleted_at.is_(None),
            scope_clause(f.unit_path, scope),  # type: ignore[arg-type]
        )
        if unread_only:
            stmt = stmt.where(~read)
        if before is not None:
            at, last_id = before
            stmt = stmt.where(
                (f.occurred_at < at) | ((f.occurred_at == at) & (f.id < UUID(last_id)))
            )
        stmt = stmt.order_by(f.occurred_at.desc(), f.id.desc()).limit(limit)
        return [
            FeedItem(
                id=str(row.id),
                kind=row.kind,
                unit_path=row.unit_path,
                patient_id=str(row.patient_id) if row.patient_id else None,
                resource_type=row.resource_type,
                resource_id=row.resource_id,
                details=dict(row.details),
                occurred_at=row.occurred_at,
                read=bool(is_read),
            )
            for row, is_read in (await self._session.execute(stmt)).all()
        ]

    async def feed_item_path(self, item_id: UUID) -> tuple[str, str | None] | None:
        row = await self._session.get(StaffFeedItemRow, item_id)
        if row is None or row.deleted_at is not None:
            return None
        return row.unit_path, str(row.patient_id) if row.patient_id else None

    async def mark_read(self, item_id: UUID, user_id: UUID, *, now: datetime) -> None:
        if await self._session.get(StaffFeedReadRow, (item_id, user_id)) is None:
            self._session.add(StaffFeedReadRow(item_id=item_id, user_id=user_id, read_at=now))
            await self._session.flush()
