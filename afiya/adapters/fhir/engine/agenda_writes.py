"""FHIR Appointment create: a booking through the agenda's ``book_appointment`` use case.

The use case does what ``/api/v1/appointments`` does: ``appointments:write`` at the
facility of the appointment type, the slot rules (availability, leave, closures, not in
the past, the type's horizon), the double-booking guard (409, also when a concurrent
booking wins at the database), reminders in the outbox, the audit event with the patient
and the change log. This module maps FHIR in (:mod:`afiya.adapters.fhir.agenda_in`) and
the stored appointment back out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from afiya.adapters.fhir import agenda_in as mapping
from afiya.adapters.fhir import resources as maps
from afiya.adapters.fhir.common import APPOINTMENT_TYPE_SYSTEM
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.adapters.fhir.engine.registry import Resource, WriteResult
from afiya.domain.access.permissions import Role
from afiya.domain.access.policy import Principal
from afiya.domain.agenda import use_cases
from afiya.domain.agenda.appointments import Actor, ActorKind, BookingChannel
from afiya.domain.agenda.booking import BookingRequest
from afiya.domain.agenda.errors import SlotUnavailable, UnknownAppointmentType
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

_PRACTITIONERS = {Role.DOCTOR.value, Role.NURSE.value, Role.MIDWIFE.value}


def appointment_resource(stored: Any) -> Resource:
    """The Appointment as read: the type is given as ``appointmentType`` and, as in
    Schedule and Slot, as ``serviceType``."""
    resource = maps.appointment(stored)
    resource["serviceType"] = [
        {
            "coding": [
                {"system": APPOINTMENT_TYPE_SYSTEM, "code": stored.appointment.appointment_type_id}
            ]
        }
    ]
    return resource


def _actor(principal: Principal) -> Actor:
    """As ``/api/v1``: doctors, nurses, midwives book as practitioners, others as reception."""
    if principal.roles & _PRACTITIONERS:
        return Actor(ActorKind.PRACTITIONER, str(principal.user_id))
    return Actor(ActorKind.RECEPTION, str(principal.user_id))


def _refuse(path: str, msgid: str, **params: object) -> ValidationFailed:
    return ValidationFailed([FieldError(path, Message(msgid, params), "invalid")])


async def _check_type(ctx: FhirContext, fields: mapping.BookingFields) -> str:
    """The facility of the type; the Location participant must be its service or facility;
    ``end``/``minutesDuration`` must be the type's duration."""
    assert fields.type_id is not None
    assert fields.starts_at is not None
    facility_id = await ctx.uow.agenda.type_facility(fields.type_id)
    kind = None
    if facility_id is not None:
        kind = next(
            (t for t in await ctx.uow.agenda.types(facility_id) if t.id == fields.type_id), None
        )
    if facility_id is None or kind is None:
        raise _refuse(fields.type_path, N_("This type of appointment is not offered here."))
    if fields.location_id is not None and fields.location_id not in (kind.service_id, facility_id):
        raise _refuse(
            fields.location_path,
            N_("The location must be the service or facility of the appointment type."),
        )
    minutes = int(kind.duration.total_seconds() // 60)
    if fields.ends_at is not None and fields.ends_at - fields.starts_at != kind.duration:
        raise _refuse(
            f"{mapping.R}.end",
            N_("This type of appointment lasts {minutes} minutes: end must agree."),
            minutes=minutes,
        )
    if fields.minutes is not None and timedelta(minutes=fields.minutes) != kind.duration:
        raise _refuse(
            f"{mapping.R}.minutesDuration",
            N_("This type of appointment lasts {minutes} minutes: end must agree."),
            minutes=minutes,
        )
    return facility_id


async def create_appointment(ctx: FhirContext, resource: Resource) -> WriteResult:
    """Book the appointment the resource describes (see the module docstring)."""
    fields = mapping.from_fhir(resource)
    if fields.errors:
        raise ValidationFailed(fields.errors)
    assert fields.patient_id is not None
    assert fields.practitioner_id is not None
    assert fields.starts_at is not None
    assert fields.type_id is not None
    if fields.starts_at.tzinfo is None:
        raise _refuse(f"{mapping.R}.start", N_("Give the start with its time zone."))
    if await ctx.uow.clinical.patient(UUID(fields.patient_id)) is None:
        raise _refuse(
            f"{mapping.R}.participant",
            N_("Patient/{id} is not an Afiya patient."),
            id=fields.patient_id,
        )
    facility_id = await _check_type(ctx, fields)
    try:
        booked = await use_cases.book_appointment(
            facility_id,
            BookingRequest(
                appointment_id=str(uuid7()),
                patient_id=fields.patient_id,
                practitioner_id=fields.practitioner_id,
                appointment_type_id=fields.type_id,
                starts_at=fields.starts_at,
                actor=_actor(ctx.principal),
                channel=BookingChannel.API,
                note=fields.note,
            ),
            principal=ctx.principal,
            store=ctx.uow.agenda,
            audit=ctx.uow.audit,
            jobs=ctx.uow.jobs,
            now=ctx.clock.now(),
        )
    except SlotUnavailable as exc:
        problems = ", ".join(exc.details.get("problems", []))
        raise FhirError(
            409,
            "conflict",
            Message(
                N_("This time cannot be booked ({problems}): choose a free slot."),
                {"problems": problems},
            ),
            expression=[f"{mapping.R}.start"],
            code=exc.code,
        ) from exc
    except UnknownAppointmentType as exc:
        raise _refuse(
            fields.type_path, N_("This type of appointment is not offered here.")
        ) from exc
    stored = await ctx.uow.fhir.appointment(UUID(booked.id))
    assert stored is not None
    return WriteResult(appointment_resource(stored), True, tuple(fields.not_stored))
