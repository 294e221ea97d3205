"""FHIR Appointment (read, search, vread, history, create), Schedule, Slot, AuditEvent.

Appointments are booked through the agenda's use case, from ``/api/v1/appointments`` or
a FHIR create (:mod:`afiya.adapters.fhir.engine.agenda_writes`): slot rules,
double-booking guard, reminders. Every appointment returned is audited with its patient.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from afiya.adapters.fhir import resources as maps
from afiya.adapters.fhir.common import APPOINTMENT_TYPE_SYSTEM
from afiya.adapters.fhir.engine.agenda_writes import appointment_resource, create_appointment
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.adapters.fhir.engine.registry import (
    EVERYTHING_SOURCES,
    HistoryEntry,
    Resource,
    ResourceType,
    SearchResult,
    register,
    uuid_of,
)
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import authorize, has_permission, in_scope, scope_of
from afiya.domain.agenda import use_cases as agenda_use_cases
from afiya.domain.agenda.slots import SlotQuery
from afiya.domain.audit.model import AuditRecord
from afiya.domain.fhir.search import (
    Criterion,
    DateValue,
    ParamType,
    Prefix,
    SearchRequest,
    SearchSpec,
    TokenValue,
)
from afiya.domain.shared.errors import NotFound
from afiya.domain.shared.i18n import N_, Message

APPOINTMENT_SPEC = SearchSpec(
    params={
        "patient": ParamType.REFERENCE,
        "practitioner": ParamType.REFERENCE,
        "actor": ParamType.REFERENCE,
        "date": ParamType.DATE,
        "status": ParamType.TOKEN,
    },
    sorts=frozenset({"date", "_lastUpdated"}),
)  # _include=Appointment:patient: engine/includes.py, as for every type
SCHEDULE_SPEC = SearchSpec(params={"actor": ParamType.REFERENCE})
AUDIT_SPEC = SearchSpec(
    params={
        "patient": ParamType.REFERENCE,
        "entity": ParamType.REFERENCE,
        "date": ParamType.DATE,
        "action": ParamType.TOKEN,
    }
)


def _audit(appointment_id: str, patient_id: str, via: str) -> AuditRecord:
    return AuditRecord(
        "appointment.read",
        "appointment",
        appointment_id,
        patient_id=UUID(patient_id),
        details={"via": via},
    )


async def read_appointment(ctx: FhirContext, ident: str) -> Resource:
    stored = await ctx.uow.fhir.appointment(uuid_of(ident))
    if stored is None:
        raise NotFound()
    authorize(ctx.principal, Permission.APPOINTMENTS_READ, stored.unit_path)
    await ctx.record(_audit(ident, stored.appointment.patient_id, "fhir.read"))
    return appointment_resource(stored)


async def _appointment_versions(ctx: FhirContext, ident: str) -> tuple[Any, list[Any]]:
    current = await ctx.uow.fhir.appointment(uuid_of(ident))
    if current is None:
        raise NotFound()
    authorize(ctx.principal, Permission.APPOINTMENTS_READ, current.unit_path)
    return current, await ctx.uow.fhir.versions("appointment", uuid_of(ident))


async def vread_appointment(ctx: FhirContext, ident: str, version: int) -> Resource:
    current, versions = await _appointment_versions(ctx, ident)
    found = next((v for v in versions if v.version == version), None)
    if found is None:
        raise FhirError(
            404,
            "not-found",
            Message(N_("Version {version} of this resource does not exist."), {"version": version}),
        )
    await ctx.record(_audit(ident, current.appointment.patient_id, "fhir.vread"))
    return appointment_resource(ctx.uow.fhir.appointment_as_of(found))


async def appointment_history(ctx: FhirContext, ident: str) -> list[HistoryEntry]:
    current, versions = await _appointment_versions(ctx, ident)
    await ctx.record(_audit(ident, current.appointment.patient_id, "fhir.history"))
    return [
        HistoryEntry(
            v.version,
            v.operation,
            v.recorded_at,
            None
            if v.operation == "delete"
            else appointment_resource(ctx.uow.fhir.appointment_as_of(v)),
        )
        for v in reversed(versions)
    ]


async def search_appointments(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    authorize(ctx.principal, Permission.APPOINTMENTS_READ)
    found, total = await ctx.uow.fhir.appointment_page(scope_of(ctx.principal), request)
    for s in found:
        await ctx.record(_audit(s.appointment.id, s.appointment.patient_id, "fhir.search"))
    return SearchResult([appointment_resource(s) for s in found], total)


async def appointments_of(ctx: FhirContext, patient_id: UUID) -> list[Resource]:
    """$everything: the patient's appointments the caller may read."""
    if not has_permission(ctx.principal, Permission.APPOINTMENTS_READ):
        return []
    request = SearchRequest(
        "Appointment", (Criterion("patient", None, (str(patient_id),)),), count=1000
    )
    return (await search_appointments(ctx, request)).resources


EVERYTHING_SOURCES.append(appointments_of)


async def read_schedule(ctx: FhirContext, ident: str) -> Resource:
    authorize(ctx.principal, Permission.APPOINTMENTS_READ)
    request = SearchRequest(
        "Schedule", (Criterion("_id", None, (TokenValue(None, str(uuid_of(ident))),)),), count=1
    )
    found, _ = await ctx.uow.fhir.schedule_page(scope_of(ctx.principal), request)
    if not found:
        raise NotFound()
    return maps.schedule(found[0])


async def search_schedules(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    authorize(ctx.principal, Permission.APPOINTMENTS_READ)
    found, total = await ctx.uow.fhir.schedule_page(scope_of(ctx.principal), request)
    return SearchResult([maps.schedule(s) for s in found], total)


async def read_audit_event(ctx: FhirContext, ident: str) -> Resource:
    """One event about a patient in the caller's scope (others answer 404)."""
    authorize(ctx.principal, Permission.AUDIT_READ)
    event = await ctx.uow.fhir.audit_event(uuid_of(ident))
    patient_id = event.record.patient_id if event else None
    patient = await ctx.uow.patients.get(patient_id) if patient_id else None
    if event is None or patient is None or not in_scope(ctx.principal, patient.unit_path):
        raise NotFound()
    await ctx.record(
        AuditRecord(
            "audit.read", "patient", str(patient.id), patient.id, details={"via": "fhir.AuditEvent"}
        )
    )
    return maps.audit_event(event)


async def search_audit_events(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Audit events of patients in the caller's scope (``patient`` is required)."""
    authorize(ctx.principal, Permission.AUDIT_READ)
    wanted = {
        uuid_of(str(v))
        for c in request.criteria
        if c.name in ("patient", "entity")
        for v in c.values
    }
    if not wanted:
        raise FhirError(
            400,
            "required",
            Message(N_("Search audit events by patient (patient=Patient/<id>).")),
            expression=["patient"],
        )
    found = await ctx.uow.patients.get_many(sorted(wanted))
    allowed = [p.id for p in found.values() if in_scope(ctx.principal, p.unit_path)]
    events, total = await ctx.uow.fhir.audit_page(request, allowed)
    for pid in allowed:
        await ctx.record(
            AuditRecord("audit.read", "patient", str(pid), pid, details={"via": "fhir.AuditEvent"})
        )
    return SearchResult([maps.audit_event(e) for e in events], total)


register(
    ResourceType(
        name="Appointment",
        read_permission=Permission.APPOINTMENTS_READ,
        search_spec=APPOINTMENT_SPEC,
        read=read_appointment,
        vread=vread_appointment,
        history=appointment_history,
        search=search_appointments,
        write_permission=Permission.APPOINTMENTS_WRITE,
        create=create_appointment,
        conditional_create=True,
        entities=("appointment",),
        subscribable=True,
        patient_data=True,
        param_docs={
            "patient": "Patient/{id}",
            "practitioner": "Practitioner/{id}",
            "actor": "Patient/{id} or Practitioner/{id}",
            "date": "start time, with prefixes",
            "status": "booked (booked or confirmed), arrived, fulfilled, cancelled, noshow",
        },
        documentation=(
            "Read, search, vread, history and create. Create books through the agenda's "
            "use case (slot rules, double-booking guard 409, reminders, audit): a Patient "
            "and a Practitioner participant, the appointment type as serviceType (or "
            "appointmentType) coded in " + APPOINTMENT_TYPE_SYSTEM + ", start (end and "
            "minutesDuration must be the type's duration), status booked, comment; a "
            "Location participant must be the type's service or facility. Refused (422): "
            "another status (proposed, pending...: the agenda keeps no requests), other "
            "participants, a missing type. Not kept (X-Afiya-Not-Stored): identifier, "
            "reasonCode, reasonReference, description, priority, serviceCategory, "
            "specialty, slot, basedOn, requestedPeriod, participant type/status. "
            "Conditional create: If-None-Exist with patient, practitioner and date. "
            "Confirming and cancelling go through /api/v1/appointments. Status: "
            "confirmed → booked, completed → fulfilled, no_show → noshow, rescheduled → "
            "cancelled (comment names the new appointment)."
        ),
    )
)
MAX_SLOT_DAYS = 31


def _slot_days(request: SearchRequest, today: date) -> tuple[date, date]:
    """The days the ``start`` criteria reach (default: a week from today), at most 31."""
    first, last = today, today + timedelta(days=6)
    for c in request.values("start"):
        for v in c.values:
            assert isinstance(v, DateValue)
            if v.prefix in (Prefix.GE, Prefix.GT, Prefix.SA, Prefix.EQ):
                first = max(first, v.start.date())
            if v.prefix in (Prefix.LE, Prefix.LT, Prefix.EB, Prefix.EQ):
                last = (v.end - timedelta(microseconds=1)).date()
    if last < first or (last - first).days >= MAX_SLOT_DAYS:
        raise FhirError(
            400,
            "too-costly",
            Message(N_("Ask for slots over 1 to {days} days."), {"days": MAX_SLOT_DAYS}),
            expression=["start"],
        )
    return first, last


async def search_slots(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Free slots computed from schedules (availability minus leave and bookings).

    ``schedule`` is required; ``service-type`` (appointment types) defaults to the types
    the schedule accepts (every type of its service when it names none); ``start``
    limits the days and the starts.
    """
    authorize(ctx.principal, Permission.APPOINTMENTS_READ)
    wanted = [v for c in request.values("schedule") for v in c.values]
    if not wanted:
        raise FhirError(
            400,
            "required",
            Message(N_("Search slots by schedule (schedule=Schedule/<id>).")),
            expression=["schedule"],
        )
    inner = SearchRequest(
        "Schedule",
        (Criterion("_id", None, tuple(TokenValue(None, str(v)) for v in wanted)),),
        count=len(wanted),
    )
    schedules, _ = await ctx.uow.fhir.schedule_page(scope_of(ctx.principal), inner)
    types = [v.code for c in request.values("service-type") for v in c.values]  # type: ignore[attr-defined]
    first, last = _slot_days(request, ctx.clock.now().date())
    starts = [v for c in request.values("start") for v in c.values]
    found: list[tuple[Any, Any]] = []
    for s in schedules:
        if s.owner_kind != "practitioner":
            continue
        accepted = [str(t) for t in s.appointment_type_ids] or [
            t.id
            for t in await ctx.uow.agenda.types(str(s.facility_id))
            if t.service_id == str(s.service_id)
        ]  # no list on the schedule: every type of its service
        for kind in types or accepted:
            query = SlotQuery(kind, first, last, practitioner_ids=frozenset({str(s.owner_id)}))
            for free in await agenda_use_cases.find_slots(
                str(s.facility_id),
                query,
                principal=ctx.principal,
                store=ctx.uow.agenda,
                now=ctx.clock.now(),
            ):
                if all(v.matches(free.starts_at) for v in starts):  # type: ignore[attr-defined]
                    found.append((free, s.id))
    found.sort(key=lambda item: (item[0].starts_at, item[0].key))
    page = found[request.offset : request.offset + request.count]
    return SearchResult([maps.slot(free, sid) for free, sid in page], len(found))


register(
    ResourceType(
        name="Slot",
        read_permission=Permission.APPOINTMENTS_READ,
        search_spec=SearchSpec(
            params={
                "schedule": ParamType.REFERENCE,
                "start": ParamType.DATE,
                "service-type": ParamType.TOKEN,
            }
        ),
        read=None,
        search=search_slots,
        param_docs={
            "schedule": "required: Schedule/{id}",
            "start": "date range (local days, at most 31), with prefixes",
            "service-type": "appointment type id(s); default: those of the schedule",
        },
        documentation=(
            "Free slots computed on demand from the schedule (availability minus leave, "
            "closures and bookings): search only, status free. Book through "
            "/api/v1/appointments with the slot's start (identifier = Afiya slot key)."
        ),
    )
)


register(
    ResourceType(
        name="Schedule",
        read_permission=Permission.APPOINTMENTS_READ,
        search_spec=SCHEDULE_SPEC,
        read=read_schedule,
        search=search_schedules,
        param_docs={"actor": "Practitioner/{id} or Location/{id} (the facility)"},
        documentation=(
            "Weekly schedules of practitioners and resources; sessions in the comment "
            "(facility local time). Slots are computed, not stored: see the ADR."
        ),
    )
)
register(
    ResourceType(
        name="AuditEvent",
        read_permission=Permission.AUDIT_READ,
        search_spec=AUDIT_SPEC,
        read=read_audit_event,
        search=search_audit_events,
        param_docs={
            "patient": "required: Patient/{id}",
            "date": "when, with prefixes",
            "action": "Afiya action code (patient.read, patient.update...)",
        },
        documentation=(
            "The hash-chained audit trail of patients in the caller's scope (AUDIT_READ); "
            "search needs patient. Events that name no patient are not served over FHIR."
        ),
    )
)
