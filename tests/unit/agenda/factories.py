"""Small builders for agenda tests: a health centre in Nouakchott with two doctors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from afiya.domain.agenda.appointments import Actor, ActorKind, Appointment
from afiya.domain.agenda.model import (
    AppointmentType,
    FacilityCalendar,
    Owner,
    Resource,
    ResourceKind,
    Schedule,
    WeeklySession,
)

FACILITY = "cs-teyarett"
SERVICE = "general"
MONDAY = date(2025, 3, 10)  # a Monday
NOUAKCHOTT = "Africa/Nouakchott"  # UTC+0 all year
PARIS = "Europe/Paris"
RECEPTION = Actor(ActorKind.RECEPTION, "user-reception")
DOCTOR = Actor(ActorKind.PRACTITIONER, "user-doctor")
SYSTEM = Actor(ActorKind.SYSTEM, "job:no-shows")


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def weekdays(start: time, end: time, days: range = range(5)) -> tuple[WeeklySession, ...]:
    return tuple(WeeklySession(d, start, end) for d in days)


def schedule(
    practitioner: str = "dr-a",
    sessions: tuple[WeeklySession, ...] | None = None,
    *,
    valid_from: date = date(2025, 1, 1),
    valid_until: date | None = None,
    service: str = SERVICE,
    every_weeks: int = 1,
    types: frozenset[str] = frozenset(),
    resource: bool = False,
) -> Schedule:
    owner = Owner.resource(practitioner) if resource else Owner.practitioner(practitioner)
    return Schedule(
        id=f"sch-{practitioner}-{valid_from}",
        owner=owner,
        facility_id=FACILITY,
        service_id=service,
        sessions=sessions or weekdays(time(8), time(12)),
        valid_from=valid_from,
        valid_until=valid_until,
        every_weeks=every_weeks,
        appointment_type_ids=types,
    )


def consultation(**changes: object) -> AppointmentType:
    kind = AppointmentType(
        id="consult",
        service_id=SERVICE,
        code="CPC",
        name="Consultation",
        duration=timedelta(minutes=30),
    )
    return replace(kind, **changes)  # type: ignore[arg-type]


def room(resource_id: str = "room-1", category: str = "consultation_room") -> Resource:
    return Resource(resource_id, FACILITY, ResourceKind.ROOM, category, resource_id)


def calendar(**changes: object) -> FacilityCalendar:
    base = FacilityCalendar(
        facility_id=FACILITY,
        time_zone=NOUAKCHOTT,
        schedules=(schedule(),),
        appointment_types=(consultation(),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def appointment(
    start: datetime,
    *,
    appointment_id: str = "appt-1",
    patient: str = "pat-1",
    practitioner: str = "dr-a",
    minutes: int = 30,
    **changes: object,
) -> Appointment:
    base = Appointment(
        id=appointment_id,
        facility_id=FACILITY,
        service_id=SERVICE,
        patient_id=patient,
        practitioner_id=practitioner,
        appointment_type_id="consult",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        booked_at=start - timedelta(days=3),
        booked_by=RECEPTION,
    )
    return replace(base, **changes)  # type: ignore[arg-type]
