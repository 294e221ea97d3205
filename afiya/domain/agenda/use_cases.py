"""Use cases of the agenda: slots, booking, steps of an appointment, queue of the day.

Each checks the route permission at the appointment's facility (``authorize``), reads a
:class:`FacilityCalendar` in the caller's transaction, decides with the pure rules, and
writes through the store whose database guard refuses a concurrent double booking
(ADR 0106). Every read or write of an appointment is audited with its patient id.
Booking and rescheduling schedule the reminders in the job outbox (same transaction):
one job per (appointment, offset, channel), keyed by the reminder's idempotency key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.agenda.appointments import (
    Action,
    Actor,
    AgendaRules,
    Appointment,
    AppointmentStatus,
    apply_action,
)
from afiya.domain.agenda.booking import BookingRequest, book, reschedule
from afiya.domain.agenda.errors import SlotUnavailable
from afiya.domain.agenda.model import FacilityCalendar, Owner
from afiya.domain.agenda.queue import (
    PractitionerState,
    QueueEntry,
    QueuePosition,
    estimate_waits,
)
from afiya.domain.agenda.reminders import FacilityReminderSettings, plan_appointment_reminders
from afiya.domain.agenda.slots import Slot, SlotQuery, compute_slots, facility_zone
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.messaging.reminders import ReminderStatus
from afiya.domain.platform.jobs import JobRequest, JobScheduler
from afiya.domain.shared.errors import FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

REMINDER_JOB = "agenda.send_reminder"


@dataclass(frozen=True, slots=True)
class FacilityInfo:
    """What the agenda needs of an org unit: its scope path, display name and zone."""

    id: str
    path: str
    name: str
    time_zone: str
    kind: str = "facility"


class AgendaStore(Protocol):
    """The agenda's storage port (``SqlAgendaRepository``)."""

    async def facility(self, facility_id: str) -> FacilityInfo | None: ...

    async def agenda_rules(self, facility_id: str) -> AgendaRules: ...

    async def reminder_settings(self, facility_id: str) -> FacilityReminderSettings: ...

    async def load_calendar(
        self,
        *,
        facility_id: str,
        first_day: date,
        last_day: date,
        practitioner_ids: Sequence[str] | None = None,
    ) -> FacilityCalendar: ...

    async def get(self, appointment_id: str) -> Appointment | None: ...

    async def unit_path(self, appointment_id: str) -> str | None: ...

    async def add(self, appointment: Appointment, *, unit_path: str = "") -> None: ...

    async def save(
        self, appointment: Appointment, *, expected_version: int | None = None
    ) -> None: ...

    async def for_day(self, facility_id: str, day: date) -> Sequence[Appointment]: ...


class UnknownFacility(NotFound):
    code = "unknown_facility"
    default_message = N_("This facility does not exist.")


class UnknownAppointment(NotFound):
    code = "appointment_not_found"
    default_message = N_("This appointment does not exist.")


def owner_of(practitioner_id: str | None, resource_id: str | None) -> Owner:
    """The owner of a schedule or leave: exactly one of a practitioner or a resource."""
    if (practitioner_id is None) == (resource_id is None):
        raise ValidationFailed(
            [
                FieldError(
                    "practitioner_id",
                    Message(N_("Give either a practitioner or a resource, not both.")),
                )
            ]
        )
    if practitioner_id is not None:
        return Owner.practitioner(practitioner_id)
    return Owner.resource(str(resource_id))


def check_day_range(first_day: date, last_day: date, *, most: int = 31) -> None:
    """Slot searches cover 1 to ``most`` local days, in order."""
    if last_day < first_day or (last_day - first_day).days > most:
        raise ValidationFailed(
            [FieldError("last_day", Message(N_("Ask for 1 to 31 days, in order.")))]
        )


async def _facility(store: AgendaStore, facility_id: str) -> FacilityInfo:
    info = await store.facility(facility_id)
    if info is None:
        raise UnknownFacility(details={"facility_id": facility_id})
    return info


def _audit(action: str, a: Appointment, **details: object) -> AuditRecord:
    return AuditRecord(
        action, "appointment", a.id, patient_id=UUID(a.patient_id), details=dict(details)
    )


async def schedule_reminders(
    appointment: Appointment,
    *,
    store: AgendaStore,
    jobs: JobScheduler,
    now: datetime,
) -> int:
    """Put the appointment's reminders in the outbox; return how many.

    Planned as if the patient consented: consent, language and phone are read when the
    job runs (a patient may consent or opt out in between), and a refusal is logged.
    """
    settings = await store.reminder_settings(appointment.facility_id)
    plan = plan_appointment_reminders(
        appointment, settings, consents={c: True for c in settings.channels}, now=now
    )
    count = 0
    for item in plan:
        if item.status is ReminderStatus.SKIPPED or item.send_at is None:
            continue
        await jobs.schedule(
            JobRequest(
                REMINDER_JOB,
                {
                    "appointment_id": appointment.id,
                    "idempotency_key": item.idempotency_key,
                    "channel": item.channel,
                },
                item.idempotency_key,
                run_after=None if item.status is ReminderStatus.DUE else item.send_at,
            )
        )
        count += 1
    return count


async def find_slots(
    facility_id: str,
    query: SlotQuery,
    *,
    principal: Principal,
    store: AgendaStore,
    now: datetime,
) -> list[Slot]:
    """Free slots of a type at a facility (availability minus leave and bookings)."""
    info = await _facility(store, facility_id)
    authorize(principal, Permission.APPOINTMENTS_READ, info.path)
    calendar = await store.load_calendar(
        facility_id=facility_id,
        first_day=query.first_day,
        last_day=query.last_day,
        practitioner_ids=sorted(query.practitioner_ids) if query.practitioner_ids else None,
    )
    return compute_slots(calendar, query, now)


async def book_appointment(
    facility_id: str,
    request: BookingRequest,
    *,
    principal: Principal | None,
    store: AgendaStore,
    audit: AuditLog,
    jobs: JobScheduler,
    now: datetime,
) -> Appointment:
    """Book one start. Rules: see :func:`afiya.domain.agenda.booking.book`.

    A retry with the same appointment id returns the first booking (offline clients).
    The database guard may still refuse (a concurrent booking won): ``SlotUnavailable``.
    ``principal`` is ``None`` for patient self-service channels (USSD, SMS).
    """
    info = await _facility(store, facility_id)
    if principal is not None:
        authorize(principal, Permission.APPOINTMENTS_WRITE, info.path)
    existing = await store.get(request.appointment_id)
    if existing is not None:
        if existing.patient_id != request.patient_id:
            raise SlotUnavailable(["id_taken"])
        await audit.record(_audit("appointment.read", existing, retried=True))
        return existing
    day = request.starts_at.astimezone(facility_zone(info.time_zone)).date()
    calendar = await store.load_calendar(facility_id=facility_id, first_day=day, last_day=day)
    appointment = book(calendar, request, now=now)
    await store.add(appointment, unit_path=info.path)
    await audit.record(_audit("appointment.book", appointment, starts_at=str(request.starts_at)))
    await schedule_reminders(appointment, store=store, jobs=jobs, now=now)
    return appointment


async def get_appointment(
    appointment_id: str, *, principal: Principal, store: AgendaStore, audit: AuditLog
) -> Appointment:
    """One appointment, within the caller's facilities; the read is audited."""
    appointment, _ = await _load(appointment_id, principal, Permission.APPOINTMENTS_READ, store)
    await audit.record(_audit("appointment.read", appointment))
    return appointment


async def _load(
    appointment_id: str, principal: Principal | None, permission: Permission, store: AgendaStore
) -> tuple[Appointment, str]:
    appointment = await store.get(appointment_id)
    path = await store.unit_path(appointment_id)
    if appointment is None or path is None:
        raise UnknownAppointment(details={"appointment_id": appointment_id})
    if principal is not None:
        authorize(principal, permission, path)
    return appointment, path


async def take_step(
    appointment_id: str,
    action: Action,
    *,
    actor: Actor,
    principal: Principal | None,
    store: AgendaStore,
    audit: AuditLog,
    now: datetime,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Appointment:
    """Confirm, cancel, mark arrived or no-show, complete: the state machine's rules
    (:func:`~afiya.domain.agenda.appointments.apply_action`); repeated confirm/cancel
    change nothing. Cancelled and no-show appointments free their time at once."""
    appointment, _ = await _load(appointment_id, principal, Permission.APPOINTMENTS_WRITE, store)
    rules = await store.agenda_rules(appointment.facility_id)
    changed = apply_action(appointment, action, actor=actor, now=now, rules=rules, reason=reason)
    if changed is not appointment:
        await store.save(changed, expected_version=expected_version)
    await audit.record(_audit(f"appointment.{action.value}", changed, status=changed.status.value))
    return changed


async def reschedule_appointment(
    appointment_id: str,
    *,
    new_appointment_id: str,
    starts_at: datetime,
    actor: Actor,
    principal: Principal | None,
    store: AgendaStore,
    audit: AuditLog,
    jobs: JobScheduler,
    now: datetime,
    practitioner_id: str | None = None,
) -> tuple[Appointment, Appointment]:
    """Close the appointment as ``rescheduled`` and book the new start, in one
    transaction (rules: :func:`~afiya.domain.agenda.booking.reschedule`). The old
    reminders find a rescheduled appointment and send nothing; the new one gets its own."""
    appointment, path = await _load(appointment_id, principal, Permission.APPOINTMENTS_WRITE, store)
    info = await _facility(store, appointment.facility_id)
    day = starts_at.astimezone(facility_zone(info.time_zone)).date()
    calendar = await store.load_calendar(
        facility_id=appointment.facility_id, first_day=day, last_day=day
    )
    rules = await store.agenda_rules(appointment.facility_id)
    closed, moved = reschedule(
        calendar,
        appointment,
        new_appointment_id=new_appointment_id,
        starts_at=starts_at,
        actor=actor,
        now=now,
        practitioner_id=practitioner_id,
        rules=rules,
    )
    await store.save(closed)
    await store.add(moved, unit_path=path)
    await audit.record(_audit("appointment.reschedule", closed, to=moved.id))
    await audit.record(_audit("appointment.book", moved, rescheduled_from=closed.id))
    await schedule_reminders(moved, store=store, jobs=jobs, now=now)
    return closed, moved


async def day_list(
    facility_id: str,
    day: date,
    *,
    principal: Principal,
    store: AgendaStore,
    audit: AuditLog,
) -> list[Appointment]:
    """The facility's appointments on its local ``day`` (each read audited)."""
    info = await _facility(store, facility_id)
    authorize(principal, Permission.APPOINTMENTS_READ, info.path)
    found = list(await store.for_day(facility_id, day))
    for appointment in found:
        await audit.record(_audit("appointment.read", appointment, view="day_list"))
    return found


async def facility_for_setup(
    facility_id: str, *, principal: Principal, store: AgendaStore
) -> FacilityInfo:
    """The facility whose agenda (types, resources, schedules, leave, closures) the
    caller changes; only within the caller's facilities."""
    info = await _facility(store, facility_id)
    authorize(principal, Permission.APPOINTMENTS_WRITE, info.path)
    return info


async def facility_for_reading(
    facility_id: str, *, principal: Principal, store: AgendaStore
) -> FacilityInfo:
    """The facility whose agenda set-up the caller reads (no patient data)."""
    info = await _facility(store, facility_id)
    authorize(principal, Permission.APPOINTMENTS_READ, info.path)
    return info


async def day_queue(
    facility_id: str,
    *,
    principal: Principal,
    store: AgendaStore,
    audit: AuditLog,
    now: datetime,
) -> list[QueuePosition]:
    """Patients who arrived today for an appointment, in calling order, with estimated
    waits (practitioners with an appointment today count as present; each is free after
    the visits already started)."""
    info = await _facility(store, facility_id)
    authorize(principal, Permission.APPOINTMENTS_READ, info.path)
    today = now.astimezone(facility_zone(info.time_zone)).date()
    found = await store.for_day(facility_id, today)
    entries = [
        QueueEntry(
            ticket=a.id[-6:],
            patient_id=a.patient_id,
            arrived_at=a.arrived_at or now,
            expected_duration=a.ends_at - a.starts_at,
            practitioner_id=a.practitioner_id,
            appointment_id=a.id,
            appointment_start=a.starts_at,
        )
        for a in found
        if a.status is AppointmentStatus.ARRIVED
    ]
    present = [PractitionerState(p) for p in sorted({a.practitioner_id for a in found})]
    for appointment in found:
        if appointment.status is AppointmentStatus.ARRIVED:
            await audit.record(_audit("appointment.read", appointment, view="queue"))
    return estimate_waits(entries, present, now=now)
