"""Agenda routes: set-up (types, resources, schedules, leave, closures), slots, queue."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from afiya.api.agenda.appointment_controllers import AppointmentController
from afiya.api.agenda.schemas import (
    AppointmentTypeCreate,
    AppointmentTypeRead,
    ClosureCreate,
    CreatedRead,
    LeaveCreate,
    QueueItemRead,
    ResourceCreate,
    ScheduleCreate,
    SlotRead,
)
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.agenda import use_cases
from afiya.domain.agenda.model import (
    AppointmentType,
    Closure,
    Leave,
    Owner,
    Resource,
    Schedule,
    WeeklySession,
)
from afiya.domain.agenda.slots import SlotQuery
from afiya.domain.shared.ids import uuid7


def _owner(practitioner_id: UUID | None, resource_id: UUID | None) -> Owner:
    return use_cases.owner_of(
        str(practitioner_id) if practitioner_id else None,
        str(resource_id) if resource_id else None,
    )


def _now(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.container.clock.now()


class AgendaController(Controller):
    path = "/api/v1/agenda"
    tags = ["agenda"]

    @post(
        "/appointment-types",
        operation_id="agenda_types_create",
        summary="Offer a type of appointment",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
    )
    async def create_type(
        self, data: JSONBody[AppointmentTypeCreate], principal: CurrentPrincipal, uow: Uow
    ) -> AppointmentTypeRead:
        """A visit type of a service: duration, buffers, resources it needs, horizon."""
        info = await use_cases.facility_for_setup(
            str(data.facility_id), principal=principal, store=uow.agenda
        )
        kind = AppointmentType(
            id=str(uuid7()),
            service_id=str(data.service_id),
            code=data.code,
            name=data.name,
            duration=timedelta(minutes=data.duration_minutes),
            buffer_before=timedelta(minutes=data.buffer_before_minutes),
            buffer_after=timedelta(minutes=data.buffer_after_minutes),
            resource_categories=tuple(data.resource_categories),
            min_notice=timedelta(minutes=data.min_notice_minutes),
            max_advance=timedelta(days=data.max_advance_days),
            self_bookable=data.self_bookable,
        )
        await uow.agenda.add_type(info.id, kind)
        return AppointmentTypeRead.of(kind)

    @get(
        "/appointment-types",
        operation_id="agenda_types_list",
        summary="Types of appointment of a facility",
        opt={PERMISSION: Permission.APPOINTMENTS_READ},
    )
    async def list_types(
        self, facility_id: FromQuery[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> list[AppointmentTypeRead]:
        """Every type the facility offers."""
        info = await use_cases.facility_for_reading(
            str(facility_id), principal=principal, store=uow.agenda
        )
        return [AppointmentTypeRead.of(t) for t in await uow.agenda.types(info.id)]

    @post(
        "/resources",
        operation_id="agenda_resources_create",
        summary="Add a bookable room or equipment",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
    )
    async def create_resource(
        self, data: JSONBody[ResourceCreate], principal: CurrentPrincipal, uow: Uow
    ) -> CreatedRead:
        """Appointment types ask for a resource category; any free one of it will do."""
        info = await use_cases.facility_for_setup(
            str(data.facility_id), principal=principal, store=uow.agenda
        )
        resource = Resource(str(uuid7()), info.id, data.kind, data.category, data.name)
        await uow.agenda.add_resource(resource)
        return CreatedRead(resource.id)

    @post(
        "/schedules",
        operation_id="agenda_schedules_create",
        summary="Add a weekly schedule",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
    )
    async def create_schedule(
        self, data: JSONBody[ScheduleCreate], principal: CurrentPrincipal, uow: Uow
    ) -> CreatedRead:
        """Sessions are in the facility's wall time (``08:00``-``12:30``, weekday 0 = Monday)."""
        info = await use_cases.facility_for_setup(
            str(data.facility_id), principal=principal, store=uow.agenda
        )
        schedule = Schedule(
            id=str(uuid7()),
            owner=_owner(data.practitioner_id, data.resource_id),
            facility_id=info.id,
            service_id=str(data.service_id),
            sessions=tuple(
                WeeklySession(s.weekday, time.fromisoformat(s.start), time.fromisoformat(s.end))
                for s in data.sessions
            ),
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            every_weeks=data.every_weeks,
            appointment_type_ids=frozenset(str(t) for t in data.appointment_type_ids),
        )
        await uow.agenda.add_schedule(schedule)
        return CreatedRead(schedule.id)

    @post(
        "/leaves",
        operation_id="agenda_leaves_create",
        summary="Record a leave",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
    )
    async def create_leave(
        self, data: JSONBody[LeaveCreate], principal: CurrentPrincipal, uow: Uow
    ) -> CreatedRead:
        """The owner is unavailable between the two instants, at every facility."""
        await use_cases.facility_for_setup(
            str(data.facility_id), principal=principal, store=uow.agenda
        )
        leave = Leave(
            str(uuid7()),
            _owner(data.practitioner_id, data.resource_id),
            data.starts_at,
            data.ends_at,
            data.kind,
        )
        await uow.agenda.add_leave(leave)
        return CreatedRead(leave.id)

    @post(
        "/closures",
        operation_id="agenda_closures_create",
        summary="Close a day or part of it",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
    )
    async def create_closure(
        self, data: JSONBody[ClosureCreate], principal: CurrentPrincipal, uow: Uow
    ) -> CreatedRead:
        """A public holiday for the whole facility, or a practitioner's afternoon off."""
        info = await use_cases.facility_for_setup(
            str(data.facility_id), principal=principal, store=uow.agenda
        )
        closure = Closure(
            id=str(uuid7()),
            facility_id=info.id,
            day=data.day,
            reason=data.reason,
            owner=Owner.practitioner(str(data.practitioner_id)) if data.practitioner_id else None,
            start=time.fromisoformat(data.start) if data.start else None,
            end=time.fromisoformat(data.end) if data.end else None,
        )
        await uow.agenda.add_closure(closure)
        return CreatedRead(closure.id)

    @get(
        "/slots",
        operation_id="agenda_slots",
        summary="Free slots",
        opt={PERMISSION: Permission.APPOINTMENTS_READ},
    )
    async def slots(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        uow: Uow,
        facility_id: FromQuery[UUID],
        appointment_type_id: FromQuery[UUID],
        first_day: FromQuery[date],
        last_day: FromQuery[date | None] = None,
        practitioner_id: FromQuery[UUID | None] = None,
        granularity_minutes: Annotated[int, QueryParameter(ge=5, le=240)] = 15,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> list[SlotRead]:
        """Availability minus leave and bookings, over at most 31 local days."""
        last = last_day or first_day
        use_cases.check_day_range(first_day, last)
        query = SlotQuery(
            appointment_type_id=str(appointment_type_id),
            first_day=first_day,
            last_day=last,
            granularity=timedelta(minutes=granularity_minutes),
            practitioner_ids=frozenset({str(practitioner_id)}) if practitioner_id else None,
            limit=limit,
        )
        found = await use_cases.find_slots(
            str(facility_id), query, principal=principal, store=uow.agenda, now=_now(request)
        )
        return [SlotRead.of(s) for s in found]

    @get(
        "/queue",
        operation_id="agenda_queue",
        summary="Queue of the day",
        opt={PERMISSION: Permission.APPOINTMENTS_READ},
    )
    async def queue(
        self,
        request: Request[Any, Any, Any],
        facility_id: FromQuery[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> list[QueueItemRead]:
        """Arrived patients in calling order with estimated waits (each read audited)."""
        positions = await use_cases.day_queue(
            str(facility_id),
            principal=principal,
            store=uow.agenda,
            audit=uow.audit,
            now=_now(request),
        )
        return [QueueItemRead.of(p) for p in positions]


CONTROLLERS = [AgendaController, AppointmentController]
