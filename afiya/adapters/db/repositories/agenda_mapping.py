"""Row <-> domain mapping of the agenda tables, and the set-up writers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.agenda import (
    AgendaClosureRow,
    AgendaLeaveRow,
    AgendaResourceRow,
    AgendaScheduleRow,
    AppointmentTypeRow,
)
from afiya.domain.agenda.appointments import (
    Action,
    Actor,
    ActorKind,
    Appointment,
    AppointmentStatus,
    BookingChannel,
    StatusChange,
)
from afiya.domain.agenda.model import (
    AppointmentType,
    Closure,
    Leave,
    Owner,
    OwnerKind,
    Resource,
    Schedule,
    WeeklySession,
)

_MIN = timedelta(minutes=1)


def _minutes(value: timedelta) -> int:
    return int(value // _MIN)


def ids_of(values: Sequence[Any]) -> frozenset[str]:
    return frozenset(str(v) for v in values)


def type_of(row: Any) -> AppointmentType:
    return AppointmentType(
        id=str(row.id),
        service_id=str(row.service_id),
        code=row.code,
        name=row.name,
        duration=timedelta(minutes=row.duration_minutes),
        buffer_before=timedelta(minutes=row.buffer_before_minutes),
        buffer_after=timedelta(minutes=row.buffer_after_minutes),
        resource_categories=tuple(row.resource_categories),
        min_notice=timedelta(minutes=row.min_notice_minutes),
        max_advance=timedelta(days=row.max_advance_days),
        self_bookable=row.self_bookable,
    )


def owner_of(kind: str, owner_id: Any) -> Owner:
    return Owner(OwnerKind(kind), str(owner_id))


def schedule_of(row: Any) -> Schedule:
    return Schedule(
        id=str(row.id),
        owner=owner_of(row.owner_kind, row.owner_id),
        facility_id=str(row.facility_id),
        service_id=str(row.service_id),
        sessions=tuple(
            WeeklySession(int(d), time.fromisoformat(s), time.fromisoformat(e))
            for d, s, e in row.sessions
        ),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        every_weeks=row.every_weeks,
        appointment_type_ids=ids_of(row.appointment_type_ids),
    )


def _history(items: Sequence[dict[str, Any]]) -> tuple[StatusChange, ...]:
    return tuple(
        StatusChange(
            Action(i["action"]),
            AppointmentStatus(i["from"]),
            AppointmentStatus(i["to"]),
            datetime.fromisoformat(i["at"]),
            Actor(ActorKind(i["actor_kind"]), i["actor_id"]),
            i.get("reason"),
        )
        for i in items
    )


def appointment_of(row: Any) -> Appointment:
    return Appointment(
        id=str(row.id),
        facility_id=str(row.facility_id),
        service_id=str(row.service_id),
        patient_id=str(row.patient_id),
        practitioner_id=str(row.practitioner_id),
        appointment_type_id=str(row.appointment_type_id),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        booked_at=row.booked_at,
        booked_by=Actor(ActorKind(row.booked_by_kind), row.booked_by_id),
        channel=BookingChannel(row.channel),
        resource_ids=tuple(row.resource_ids),
        buffer_before=timedelta(minutes=row.buffer_before_minutes),
        buffer_after=timedelta(minutes=row.buffer_after_minutes),
        status=AppointmentStatus(row.status),
        note=row.note,
        rescheduled_from_id=str(row.rescheduled_from_id) if row.rescheduled_from_id else None,
        rescheduled_to_id=str(row.rescheduled_to_id) if row.rescheduled_to_id else None,
        arrived_at=row.arrived_at,
        history=_history(row.history),
    )


def row_values(a: Appointment) -> dict[str, Any]:
    occupancy = a.occupancy
    return {
        "practitioner_id": UUID(a.practitioner_id),
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "occupancy_start": occupancy.start,
        "occupancy_end": occupancy.end,
        "buffer_before_minutes": _minutes(a.buffer_before),
        "buffer_after_minutes": _minutes(a.buffer_after),
        "resource_ids": list(a.resource_ids),
        "status": a.status.value,
        "note": a.note,
        "rescheduled_from_id": UUID(a.rescheduled_from_id) if a.rescheduled_from_id else None,
        "rescheduled_to_id": UUID(a.rescheduled_to_id) if a.rescheduled_to_id else None,
        "arrived_at": a.arrived_at,
        "history": [
            {
                "action": c.action.value,
                "from": c.from_status.value,
                "to": c.to_status.value,
                "at": c.at.isoformat(),
                "actor_kind": c.actor.kind.value,
                "actor_id": c.actor.id,
                "reason": c.reason,
            }
            for c in a.history
        ],
    }


class AgendaSetupWriter:
    """Writes types, resources, schedules, closures and leave (in the caller's unit)."""

    _session: AsyncSession

    async def add_resource(self, resource: Resource) -> None:
        self._session.add(
            AgendaResourceRow(
                id=UUID(resource.id),
                facility_id=UUID(resource.facility_id),
                kind=resource.kind.value,
                category=resource.category,
                name=resource.name,
                active=resource.active,
            )
        )
        await self._session.flush()

    async def add_type(self, facility_id: str, kind: AppointmentType) -> None:
        self._session.add(
            AppointmentTypeRow(
                id=UUID(kind.id),
                facility_id=UUID(facility_id),
                service_id=UUID(kind.service_id),
                code=kind.code,
                name=kind.name,
                duration_minutes=_minutes(kind.duration),
                buffer_before_minutes=_minutes(kind.buffer_before),
                buffer_after_minutes=_minutes(kind.buffer_after),
                resource_categories=list(kind.resource_categories),
                min_notice_minutes=_minutes(kind.min_notice),
                max_advance_days=kind.max_advance.days,
                self_bookable=kind.self_bookable,
            )
        )
        await self._session.flush()

    async def add_schedule(self, schedule: Schedule) -> None:
        self._session.add(
            AgendaScheduleRow(
                id=UUID(schedule.id),
                owner_kind=schedule.owner.kind.value,
                owner_id=UUID(schedule.owner.id),
                facility_id=UUID(schedule.facility_id),
                service_id=UUID(schedule.service_id),
                sessions=[
                    [s.weekday, s.start.isoformat("minutes"), s.end.isoformat("minutes")]
                    for s in schedule.sessions
                ],
                valid_from=schedule.valid_from,
                valid_until=schedule.valid_until,
                every_weeks=schedule.every_weeks,
                appointment_type_ids=sorted(schedule.appointment_type_ids),
            )
        )
        await self._session.flush()

    async def add_closure(self, closure: Closure) -> None:
        self._session.add(
            AgendaClosureRow(
                id=UUID(closure.id),
                facility_id=UUID(closure.facility_id),
                day=closure.day,
                reason=closure.reason,
                owner_kind=closure.owner.kind.value if closure.owner else None,
                owner_id=UUID(closure.owner.id) if closure.owner else None,
                start=closure.start,
                end=closure.end,
            )
        )
        await self._session.flush()

    async def add_leave(self, leave: Leave) -> None:
        self._session.add(
            AgendaLeaveRow(
                id=UUID(leave.id),
                owner_kind=leave.owner.kind.value,
                owner_id=UUID(leave.owner.id),
                starts_at=leave.starts_at,
                ends_at=leave.ends_at,
                kind=leave.kind.value,
            )
        )
        await self._session.flush()
