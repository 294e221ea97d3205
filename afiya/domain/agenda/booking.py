"""Booking, conflict detection and rescheduling. Pure rules over a :class:`FacilityCalendar`.

**The overlap rule.** Two appointments conflict when they share the practitioner or at
least one resource, both hold time (status booked, confirmed, arrived or completed), and
their occupancies ``[start - buffer_before, end + buffer_after)`` overlap as half-open
intervals: ``a.start < b.end and b.start < a.end``. Appointments that merely touch
(09:00-09:30 and 09:30-10:00, no buffers) do not conflict.

These functions decide on a snapshot read in the same transaction; two transactions
could both decide "free". The repository therefore inserts under a database guard that
applies the same rule (ADR 0106) and turns its refusal into :class:`SlotUnavailable`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from afiya.domain.agenda.appointments import (
    Action,
    Actor,
    ActorKind,
    AgendaRules,
    Appointment,
    AppointmentStatus,
    BookingChannel,
    apply_action,
)
from afiya.domain.agenda.errors import ActorNotAllowed, SlotUnavailable
from afiya.domain.agenda.intervals import require_aware
from afiya.domain.agenda.model import Booking, FacilityCalendar
from afiya.domain.agenda.slots import (
    Slot,
    SlotQuery,
    appointment_type,
    check_slot,
    compute_slots,
    facility_zone,
)


class ConflictKind(StrEnum):
    PRACTITIONER = "practitioner"
    RESOURCE = "resource"


@dataclass(frozen=True, slots=True)
class BookingConflict:
    """``appointment_id`` already holds the practitioner, or resource ``resource_id``."""

    kind: ConflictKind
    appointment_id: str
    resource_id: str | None = None


def find_conflicts(candidate: Booking, existing: Iterable[Booking]) -> list[BookingConflict]:
    """Every booking in ``existing`` that ``candidate`` would collide with.

    ``existing`` holds active bookings only (see ``AppointmentStatus.holds_time``); the
    candidate's own earlier version (same appointment id) is ignored.
    """
    found: list[BookingConflict] = []
    for other in existing:
        if other.appointment_id == candidate.appointment_id:
            continue
        if not candidate.occupancy.overlaps(other.occupancy):
            continue
        if other.practitioner_id == candidate.practitioner_id:
            found.append(BookingConflict(ConflictKind.PRACTITIONER, other.appointment_id))
        for resource_id in sorted(set(candidate.resource_ids) & set(other.resource_ids)):
            found.append(BookingConflict(ConflictKind.RESOURCE, other.appointment_id, resource_id))
    return found


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """A request to book one start.

    Attributes:
        appointment_id: made by the client (UUIDv7) so an offline retry books once.
        resource_ids: pin rooms or equipment; ``None`` lets the agenda pick free ones.
    """

    appointment_id: str
    patient_id: str
    practitioner_id: str
    appointment_type_id: str
    starts_at: datetime
    actor: Actor
    channel: BookingChannel = BookingChannel.DESK
    resource_ids: tuple[str, ...] | None = None
    note: str = ""


def _require_bookable_by(calendar: FacilityCalendar, type_id: str, actor: Actor) -> None:
    kind = appointment_type(calendar, type_id)
    if actor.kind is ActorKind.PATIENT and not kind.self_bookable:
        raise ActorNotAllowed(details={"action": "book", "actor": actor.kind.value})


def book(calendar: FacilityCalendar, request: BookingRequest, *, now: datetime) -> Appointment:
    """Book ``request`` if the start is free; the appointment is ``booked``.

    Rules: the visit lies in the practitioner's availability for the type; its
    occupancy (buffers included) touches no leave and no active booking of the
    practitioner or of the chosen resources; one free resource per required category;
    not in the past, not beyond the type's horizon, and (for patients booking
    themselves) not inside its minimum notice. Patients may book only self-bookable types,
    and only for themselves.

    Raises:
        SlotUnavailable: with every problem found.
        ActorNotAllowed: a patient booking a type reserved to staff, or for someone else.
        UnknownAppointmentType: the facility does not offer the type.
    """
    now = require_aware("now", now)
    actor = request.actor
    if actor.kind is ActorKind.PATIENT and actor.id != request.patient_id:
        raise ActorNotAllowed(details={"action": "book", "actor": actor.kind.value})
    _require_bookable_by(calendar, request.appointment_type_id, actor)
    kind = appointment_type(calendar, request.appointment_type_id)
    verdict = check_slot(
        calendar,
        appointment_type_id=kind.id,
        practitioner_id=request.practitioner_id,
        starts_at=request.starts_at,
        now=now,
        resource_ids=request.resource_ids,
        ignore_appointment_ids=frozenset({request.appointment_id}),
        enforce_notice=actor.kind is ActorKind.PATIENT,
    )
    if not verdict.free:
        raise SlotUnavailable([p.value for p in verdict.problems])
    start = require_aware("starts_at", request.starts_at)
    return Appointment(
        id=request.appointment_id,
        facility_id=calendar.facility_id,
        service_id=kind.service_id,
        patient_id=request.patient_id,
        practitioner_id=request.practitioner_id,
        appointment_type_id=kind.id,
        starts_at=start,
        ends_at=start + kind.duration,
        booked_at=now,
        booked_by=actor,
        channel=request.channel,
        resource_ids=verdict.resource_ids,
        buffer_before=kind.buffer_before,
        buffer_after=kind.buffer_after,
        note=request.note,
    )


def reschedule(
    calendar: FacilityCalendar,
    appointment: Appointment,
    *,
    new_appointment_id: str,
    starts_at: datetime,
    actor: Actor,
    now: datetime,
    practitioner_id: str | None = None,
    resource_ids: tuple[str, ...] | None = None,
    channel: BookingChannel | None = None,
    rules: AgendaRules | None = None,
) -> tuple[Appointment, Appointment]:
    """Move ``appointment`` to a new start: ``(old marked rescheduled, new booking)``.

    The old appointment's own time does not block the new one (moving 09:00 to 09:15 is
    fine). When the patient picks the new time themselves it is born ``confirmed``: they
    just said they will come. Both are saved in one transaction.

    Raises:
        ActorNotAllowed, TransitionNotAllowed, TooEarlyOrTooLate: as for
            :func:`~afiya.domain.agenda.appointments.apply_action` with ``RESCHEDULE``.
        SlotUnavailable: the new start is not free.
    """
    now = require_aware("now", now)
    closed = apply_action(appointment, Action.RESCHEDULE, actor=actor, now=now, rules=rules)
    _require_bookable_by(calendar, appointment.appointment_type_id, actor)
    kind = appointment_type(calendar, appointment.appointment_type_id)
    practitioner = practitioner_id or appointment.practitioner_id
    verdict = check_slot(
        calendar,
        appointment_type_id=kind.id,
        practitioner_id=practitioner,
        starts_at=starts_at,
        now=now,
        resource_ids=resource_ids,
        ignore_appointment_ids=frozenset({appointment.id, new_appointment_id}),
        enforce_notice=actor.kind is ActorKind.PATIENT,
    )
    if not verdict.free:
        raise SlotUnavailable([p.value for p in verdict.problems])
    start = require_aware("starts_at", starts_at)
    by_patient = actor.kind is ActorKind.PATIENT
    moved = Appointment(
        id=new_appointment_id,
        facility_id=appointment.facility_id,
        service_id=appointment.service_id,
        patient_id=appointment.patient_id,
        practitioner_id=practitioner,
        appointment_type_id=kind.id,
        starts_at=start,
        ends_at=start + kind.duration,
        booked_at=now,
        booked_by=actor,
        channel=channel or appointment.channel,
        resource_ids=verdict.resource_ids,
        buffer_before=kind.buffer_before,
        buffer_after=kind.buffer_after,
        status=AppointmentStatus.CONFIRMED if by_patient else AppointmentStatus.BOOKED,
        note=appointment.note,
        rescheduled_from_id=appointment.id,
    )
    return replace(closed, rescheduled_to_id=moved.id), moved


def rescheduling_options(
    calendar: FacilityCalendar,
    appointment: Appointment,
    *,
    now: datetime,
    count: int = 3,
    horizon: timedelta = timedelta(days=28),
    same_practitioner: bool = True,
    granularity: timedelta = timedelta(minutes=15),
) -> list[Slot]:
    """The next ``count`` free slots ``appointment`` could move to, soonest first.

    Searches from today (facility time) for ``horizon``, for the same type, with the same
    practitioner unless ``same_practitioner`` is false. The appointment's own time is
    free for the search but not offered back.
    """
    now = require_aware("now", now)
    zone = facility_zone(calendar.time_zone)
    first_day = now.astimezone(zone).date()
    query = SlotQuery(
        appointment_type_id=appointment.appointment_type_id,
        first_day=first_day,
        last_day=first_day + timedelta(days=max(horizon.days, 0)),
        granularity=granularity,
        practitioner_ids=frozenset({appointment.practitioner_id}) if same_practitioner else None,
        ignore_appointment_ids=frozenset({appointment.id}),
        limit=count + 1,
    )
    slots = [
        s
        for s in compute_slots(calendar, query, now)
        if not (
            s.starts_at == appointment.starts_at
            and s.practitioner_id == appointment.practitioner_id
        )
    ]
    return slots[:count]
