"""Agenda tables: schedules, extra sessions, closures, leave, resources, appointment types,
appointments with the resources they hold, and the reminder delivery log.

The double-booking guard (ADR 0106) lives in the database. Each appointment stores its
occupancy ``[occupancy_start, occupancy_end)`` (buffers included); triggers of migration
0005 refuse an overlapping holding row of one practitioner (on ``appointment``) or one
resource (on ``appointment_resource``): on PostgreSQL after a per-owner advisory lock held
to commit, on SQLite under the single writer lock.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, Syncable

#: Statuses that keep the practitioner and resources busy: the guard's ``WHERE``.
HOLDING = ("booked", "confirmed", "arrived", "completed")


class AgendaResourceRow(Syncable, Base):
    """A bookable room or piece of equipment of a facility."""

    __tablename__ = "agenda_resource"
    __table_args__ = (Index("ix_agenda_resource_facility_id", "facility_id"),)

    facility_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AppointmentTypeRow(Syncable, Base):
    """A kind of visit offered by a service of a facility."""

    __tablename__ = "appointment_type"
    __table_args__ = (Index("ix_appointment_type_facility_id", "facility_id"),)

    facility_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    service_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    resource_categories: Mapped[list[Any]] = mapped_column(JSON)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_advance_days: Mapped[int] = mapped_column(Integer, default=180)
    self_bookable: Mapped[bool] = mapped_column(Boolean, default=True)


class AgendaScheduleRow(Syncable, Base):
    """A recurring weekly schedule; ``sessions`` is ``[[weekday, "HH:MM", "HH:MM"], ...]``
    in the facility's wall time."""

    __tablename__ = "agenda_schedule"
    __table_args__ = (
        Index("ix_agenda_schedule_facility_id", "facility_id"),
        Index("ix_agenda_schedule_owner_id", "owner_id"),
    )

    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[UUID]
    facility_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    service_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    sessions: Mapped[list[Any]] = mapped_column(JSON)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    appointment_type_ids: Mapped[list[Any]] = mapped_column(JSON)


class AgendaExtraSessionRow(Syncable, Base):
    """A one-off session on a local date (a Saturday vaccination day)."""

    __tablename__ = "agenda_extra_session"
    __table_args__ = (Index("ix_agenda_extra_session_facility_id_day", "facility_id", "day"),)

    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[UUID]
    facility_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    service_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    appointment_type_ids: Mapped[list[Any]] = mapped_column(JSON)


class AgendaClosureRow(Syncable, Base):
    """A local day (or part of it) closed for the facility or one owner."""

    __tablename__ = "agenda_closure"
    __table_args__ = (Index("ix_agenda_closure_facility_id_day", "facility_id", "day"),)

    facility_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    owner_kind: Mapped[str | None] = mapped_column(String(16))
    owner_id: Mapped[UUID | None]
    start: Mapped[time | None] = mapped_column(Time)
    end: Mapped[time | None] = mapped_column(Time)


class AgendaLeaveRow(Syncable, Base):
    """An absence of a practitioner or resource between two UTC instants."""

    __tablename__ = "agenda_leave"
    __table_args__ = (Index("ix_agenda_leave_owner_id_starts_at", "owner_id", "starts_at"),)

    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[UUID]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))


class AppointmentRow(Syncable, Base):
    """An appointment. ``unit_path`` is the facility's path (scoping)."""

    __tablename__ = "appointment"
    __table_args__ = (
        Index(
            "ix_appointment_practitioner_id_occupancy_start", "practitioner_id", "occupancy_start"
        ),
        Index("ix_appointment_facility_id_starts_at", "facility_id", "starts_at"),
        Index("ix_appointment_patient_id_starts_at", "patient_id", "starts_at"),
        Index("ix_appointment_unit_path", "unit_path"),
    )

    facility_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    unit_path: Mapped[str] = mapped_column(String(255))
    service_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    practitioner_id: Mapped[UUID]
    appointment_type_id: Mapped[UUID] = mapped_column(ForeignKey("appointment_type.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    occupancy_start: Mapped[datetime]
    occupancy_end: Mapped[datetime]
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    resource_ids: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    booked_at: Mapped[datetime]
    booked_by_kind: Mapped[str] = mapped_column(String(16))
    booked_by_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    rescheduled_from_id: Mapped[UUID | None]
    rescheduled_to_id: Mapped[UUID | None]
    arrived_at: Mapped[datetime | None]
    history: Mapped[list[Any]] = mapped_column(JSON)


class AppointmentResourceRow(Base):
    """A resource an appointment holds, with a copy of its occupancy and status: the
    PostgreSQL exclusion constraint on resources compares these rows."""

    __tablename__ = "appointment_resource"
    __table_args__ = (
        Index(
            "ix_appointment_resource_resource_id_occupancy_start", "resource_id", "occupancy_start"
        ),
    )

    appointment_id: Mapped[UUID] = mapped_column(ForeignKey("appointment.id"), primary_key=True)
    resource_id: Mapped[UUID] = mapped_column(ForeignKey("agenda_resource.id"), primary_key=True)
    occupancy_start: Mapped[datetime]
    occupancy_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))


class ReminderDeliveryRow(Base):
    """Delivery log of one reminder (one idempotency key = one row, ever).

    ``status``: ``attempting`` (written and committed *before* the gateway is called),
    then ``sent``/``failed`` from the gateway's answer, then ``delivered``/``failed``...
    from delivery reports; ``skipped`` with ``error`` saying why (no consent, cancelled).
    """

    __tablename__ = "reminder_delivery"
    __table_args__ = (
        Index("ix_reminder_delivery_appointment_id", "appointment_id"),
        Index("ix_reminder_delivery_provider_message_id", "provider_message_id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    appointment_id: Mapped[UUID]
    patient_id: Mapped[UUID]
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    provider_status: Mapped[str | None] = mapped_column(String(64))
    segments: Mapped[int | None] = mapped_column(Integer)
    encoding: Mapped[str | None] = mapped_column(String(8))
    cost: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SmsCallbackSeenRow(Base):
    """Keys of provider callbacks already processed (replay guard shared by processes)."""

    __tablename__ = "sms_callback_seen"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime]
