"""Appointment routes: book, read, list, and every step of the state machine."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from afiya.api.agenda.schemas import (
    AppointmentCreate,
    AppointmentRead,
    RescheduleBody,
    RescheduleRead,
    StepBody,
)
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.pagination import Page, check_limit, decode_cursor, next_cursor
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission, Role
from afiya.domain.access.policy import Principal, scope_of
from afiya.domain.agenda import use_cases
from afiya.domain.agenda.appointments import Action, Actor, ActorKind, BookingChannel
from afiya.domain.agenda.booking import BookingRequest
from afiya.domain.audit.model import AuditRecord
from afiya.domain.shared.ids import uuid7

_PRACTITIONERS = {Role.DOCTOR.value, Role.NURSE.value, Role.MIDWIFE.value}


def actor_of(principal: Principal) -> Actor:
    """Receptionists act as reception; doctors, nurses, midwives as practitioners."""
    if principal.roles & _PRACTITIONERS:
        return Actor(ActorKind.PRACTITIONER, str(principal.user_id))
    return Actor(ActorKind.RECEPTION, str(principal.user_id))


def _now(request: Request[Any, Any, Any]) -> datetime:
    return request.app.state.container.clock.now()  # type: ignore[no-any-return]


class AppointmentController(Controller):
    path = "/api/v1/appointments"
    tags = ["appointments"]

    @post(
        "/",
        operation_id="appointments_book",
        summary="Book an appointment",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
    )
    async def book(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[AppointmentCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> AppointmentRead:
        """Books one start if free (409 ``slot_unavailable`` with every problem otherwise,
        also when a concurrent booking won). Send ``id`` (UUIDv7) so a retry books once.
        Reminders are scheduled with the booking."""
        facility_id = await uow.agenda.type_facility(str(data.appointment_type_id))
        appointment = await use_cases.book_appointment(
            facility_id or str(uuid7()),
            BookingRequest(
                appointment_id=str(data.id or uuid7()),
                patient_id=str(data.patient_id),
                practitioner_id=str(data.practitioner_id),
                appointment_type_id=str(data.appointment_type_id),
                starts_at=data.starts_at,
                actor=actor_of(principal),
                channel=BookingChannel(data.channel),
                resource_ids=(
                    None if data.resource_ids is None else tuple(str(r) for r in data.resource_ids)
                ),
                note=data.note,
            ),
            principal=principal,
            store=uow.agenda,
            audit=uow.audit,
            jobs=uow.jobs,
            now=_now(request),
        )
        return AppointmentRead.of(appointment)

    @get(
        "/",
        operation_id="appointments_list",
        summary="List appointments",
        opt={PERMISSION: Permission.APPOINTMENTS_READ},
    )
    async def list_appointments(
        self,
        principal: CurrentPrincipal,
        uow: Uow,
        facility_id: FromQuery[UUID | None] = None,
        patient_id: FromQuery[UUID | None] = None,
        practitioner_id: FromQuery[UUID | None] = None,
        status: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> Page[AppointmentRead]:
        """Appointments in the caller's facilities, by start time (each read audited)."""
        limit = check_limit(limit)
        after = decode_cursor(cursor)
        found = await uow.agenda.search(
            scope_of(principal),
            facility_id=str(facility_id) if facility_id else None,
            patient_id=str(patient_id) if patient_id else None,
            practitioner_id=str(practitioner_id) if practitioner_id else None,
            status=status,
            since=since,
            until=until,
            after=(datetime.fromisoformat(after[0]), after[1]) if after else None,
            limit=limit,
        )
        for a in found:
            await uow.audit.record(
                AuditRecord("appointment.read", "appointment", a.id, patient_id=UUID(a.patient_id))
            )
        return Page(
            items=[AppointmentRead.of(a) for a in found],
            next_cursor=next_cursor(found, limit, lambda a: [a.starts_at.isoformat(), a.id]),
            limit=limit,
        )

    @get(
        "/{appointment_id:uuid}",
        operation_id="appointments_get",
        summary="Read an appointment",
        opt={PERMISSION: Permission.APPOINTMENTS_READ},
    )
    async def get_appointment(
        self, appointment_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> AppointmentRead:
        """403 outside the caller's facilities."""
        found = await use_cases.get_appointment(
            str(appointment_id), principal=principal, store=uow.agenda, audit=uow.audit
        )
        return AppointmentRead.of(found)

    async def _step(
        self,
        request: Request[Any, Any, Any],
        appointment_id: UUID,
        action: Action,
        data: StepBody | None,
        principal: Principal,
        uow: Any,
    ) -> AppointmentRead:
        changed = await use_cases.take_step(
            str(appointment_id),
            action,
            actor=actor_of(principal),
            principal=principal,
            store=uow.agenda,
            audit=uow.audit,
            now=_now(request),
            reason=data.reason if data else None,
            expected_version=data.version if data else None,
        )
        return AppointmentRead.of(changed)

    @post(
        "/{appointment_id:uuid}/confirm",
        operation_id="appointments_confirm",
        summary="Confirm an appointment",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
        status_code=200,
    )
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        appointment_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        data: JSONBody[StepBody | None] = None,
    ) -> AppointmentRead:
        """Booked → confirmed, before the start; confirming again changes nothing."""
        return await self._step(request, appointment_id, Action.CONFIRM, data, principal, uow)

    @post(
        "/{appointment_id:uuid}/cancel",
        operation_id="appointments_cancel",
        summary="Cancel an appointment",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
        status_code=200,
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        appointment_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        data: JSONBody[StepBody | None] = None,
    ) -> AppointmentRead:
        """Booked or confirmed → cancelled; its time is free again at once."""
        return await self._step(request, appointment_id, Action.CANCEL, data, principal, uow)

    @post(
        "/{appointment_id:uuid}/arrived",
        operation_id="appointments_arrived",
        summary="Mark the patient arrived",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
        status_code=200,
    )
    async def arrived(
        self,
        request: Request[Any, Any, Any],
        appointment_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        data: JSONBody[StepBody | None] = None,
    ) -> AppointmentRead:
        """The patient is here: they join the queue of the day."""
        return await self._step(request, appointment_id, Action.MARK_ARRIVED, data, principal, uow)

    @post(
        "/{appointment_id:uuid}/no-show",
        operation_id="appointments_no_show",
        summary="Mark a no-show",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
        status_code=200,
    )
    async def no_show(
        self,
        request: Request[Any, Any, Any],
        appointment_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        data: JSONBody[StepBody | None] = None,
    ) -> AppointmentRead:
        """Only after the start plus the grace period."""
        return await self._step(request, appointment_id, Action.MARK_NO_SHOW, data, principal, uow)

    @post(
        "/{appointment_id:uuid}/complete",
        operation_id="appointments_complete",
        summary="Complete a visit",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
        status_code=200,
    )
    async def complete(
        self,
        request: Request[Any, Any, Any],
        appointment_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        data: JSONBody[StepBody | None] = None,
    ) -> AppointmentRead:
        """Arrived → completed, by a practitioner."""
        return await self._step(request, appointment_id, Action.COMPLETE, data, principal, uow)

    @post(
        "/{appointment_id:uuid}/reschedule",
        operation_id="appointments_reschedule",
        summary="Move an appointment",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
        status_code=200,
    )
    async def reschedule(
        self,
        request: Request[Any, Any, Any],
        appointment_id: FromPath[UUID],
        data: JSONBody[RescheduleBody],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> RescheduleRead:
        """Closes this appointment (``rescheduled``) and books the new start, atomically."""
        closed, moved = await use_cases.reschedule_appointment(
            str(appointment_id),
            new_appointment_id=str(data.new_appointment_id or uuid7()),
            starts_at=data.starts_at,
            actor=actor_of(principal),
            principal=principal,
            store=uow.agenda,
            audit=uow.audit,
            jobs=uow.jobs,
            now=_now(request),
            practitioner_id=str(data.practitioner_id) if data.practitioner_id else None,
        )
        return RescheduleRead(AppointmentRead.of(closed), AppointmentRead.of(moved))


CONTROLLERS = [AppointmentController]
