"""Bodies of the agenda and appointment routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from afiya.domain.agenda.appointments import Appointment
from afiya.domain.agenda.model import AppointmentType, LeaveKind, ResourceKind
from afiya.domain.agenda.queue import QueuePosition
from afiya.domain.agenda.slots import Slot

Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
HhMm = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=1440)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]


class AppointmentTypeCreate(msgspec.Struct, forbid_unknown_fields=True):
    facility_id: UUID
    service_id: UUID
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    name: Text200
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)]
    buffer_before_minutes: Minutes = 0
    buffer_after_minutes: Minutes = 0
    resource_categories: list[Annotated[str, msgspec.Meta(max_length=64)]] = []
    min_notice_minutes: Annotated[int, msgspec.Meta(ge=0, le=525600)] = 0
    max_advance_days: Annotated[int, msgspec.Meta(ge=1, le=730)] = 180
    self_bookable: bool = True


class AppointmentTypeRead(msgspec.Struct):
    id: str
    service_id: str
    code: str
    name: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    resource_categories: list[str]
    self_bookable: bool

    @classmethod
    def of(cls, t: AppointmentType) -> AppointmentTypeRead:
        return cls(
            t.id,
            t.service_id,
            t.code,
            t.name,
            int(t.duration.total_seconds() // 60),
            int(t.buffer_before.total_seconds() // 60),
            int(t.buffer_after.total_seconds() // 60),
            list(t.resource_categories),
            t.self_bookable,
        )


class ResourceCreate(msgspec.Struct, forbid_unknown_fields=True):
    facility_id: UUID
    kind: ResourceKind
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    name: Text200


class SessionIn(msgspec.Struct, forbid_unknown_fields=True):
    weekday: Annotated[int, msgspec.Meta(ge=0, le=6)]
    start: HhMm
    end: HhMm


class ScheduleCreate(msgspec.Struct, forbid_unknown_fields=True):
    facility_id: UUID
    service_id: UUID
    sessions: Annotated[list[SessionIn], msgspec.Meta(min_length=1, max_length=50)]
    valid_from: date
    practitioner_id: UUID | None = None
    resource_id: UUID | None = None
    valid_until: date | None = None
    every_weeks: Annotated[int, msgspec.Meta(ge=1, le=52)] = 1
    appointment_type_ids: list[UUID] = []


class LeaveCreate(msgspec.Struct, forbid_unknown_fields=True):
    facility_id: UUID
    starts_at: datetime
    ends_at: datetime
    kind: LeaveKind = LeaveKind.ANNUAL
    practitioner_id: UUID | None = None
    resource_id: UUID | None = None


class ClosureCreate(msgspec.Struct, forbid_unknown_fields=True):
    facility_id: UUID
    day: date
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""
    start: HhMm | None = None
    end: HhMm | None = None
    practitioner_id: UUID | None = None


class CreatedRead(msgspec.Struct):
    id: str


class SlotRead(msgspec.Struct):
    key: str
    starts_at: datetime
    ends_at: datetime
    practitioner_id: str
    appointment_type_id: str
    resource_ids: list[str]

    @classmethod
    def of(cls, s: Slot) -> SlotRead:
        return cls(
            s.key,
            s.starts_at,
            s.ends_at,
            s.practitioner_id,
            s.appointment_type_id,
            list(s.resource_ids),
        )


class AppointmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    patient_id: UUID
    practitioner_id: UUID
    appointment_type_id: UUID
    starts_at: datetime
    id: UUID | None = None
    resource_ids: list[UUID] | None = None
    channel: Annotated[str, msgspec.Meta(pattern=r"^(desk|phone|api)$")] = "desk"
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class StepBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None
    version: int | None = None


class RescheduleBody(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: datetime
    new_appointment_id: UUID | None = None
    practitioner_id: UUID | None = None


class AppointmentRead(msgspec.Struct):
    id: str
    facility_id: str
    service_id: str
    patient_id: str
    practitioner_id: str
    appointment_type_id: str
    starts_at: datetime
    ends_at: datetime
    status: str
    channel: str
    resource_ids: list[str]
    booked_at: datetime
    note: str
    rescheduled_from_id: str | None
    rescheduled_to_id: str | None
    arrived_at: datetime | None

    @classmethod
    def of(cls, a: Appointment) -> AppointmentRead:
        return cls(
            a.id,
            a.facility_id,
            a.service_id,
            a.patient_id,
            a.practitioner_id,
            a.appointment_type_id,
            a.starts_at,
            a.ends_at,
            a.status.value,
            a.channel.value,
            list(a.resource_ids),
            a.booked_at,
            a.note,
            a.rescheduled_from_id,
            a.rescheduled_to_id,
            a.arrived_at,
        )


class RescheduleRead(msgspec.Struct):
    previous: AppointmentRead
    appointment: AppointmentRead


class QueueItemRead(msgspec.Struct):
    position: int
    appointment_id: str | None
    patient_id: str
    practitioner_id: str | None
    arrived_at: datetime
    estimated_start: datetime | None
    estimated_wait_minutes: int | None

    @classmethod
    def of(cls, p: QueuePosition) -> QueueItemRead:
        wait = p.estimated_wait
        return cls(
            p.position,
            p.entry.appointment_id,
            p.entry.patient_id,
            p.practitioner_id,
            p.entry.arrived_at,
            p.estimated_start,
            None if wait is None else int(wait.total_seconds() // 60),
        )
