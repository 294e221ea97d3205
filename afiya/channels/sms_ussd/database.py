""":class:`~afiya.channels.sms_ussd.services.UssdServices` over the real database.

One instance serves one USSD request inside its unit of work. Patients act on their own
appointments through the agenda use cases (actor ``patient``, no staff principal), so
the state machine's rules apply unchanged (a patient confirms or cancels before the
start, reschedules until the cut-off) and every read and write is audited with the
patient id.

Identification: the phone number's blind index finds the patients reachable at it (a
family often shares one phone); the secret then picks one: a date of birth written
``DDMMYYYY`` equal to the recorded one, or a PIN equal to the argon2id hash staff set
for that patient. Every stored PIN of the phone is verified even after a match, so the
time taken does not reveal which patient matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from afiya.adapters.db.uow import UnitOfWork
from afiya.channels.sms_ussd.services import (
    AppointmentSummary,
    Balance,
    ServiceNotAvailable,
    SlotOption,
)
from afiya.domain.agenda import use_cases
from afiya.domain.agenda.appointments import Action, Actor, ActorKind
from afiya.domain.agenda.slots import SlotQuery, compute_slots, facility_zone, parse_slot_key
from afiya.domain.audit.model import AuditRecord
from afiya.domain.shared.errors import NotFound
from afiya.domain.shared.ids import uuid7

#: Days searched ahead for reschedule options.
RESCHEDULE_HORIZON_DAYS = 14


class SqlUssdServices:
    """USSD use cases for one request (one unit of work)."""

    def __init__(self, uow: UnitOfWork, *, hasher: Any, now: datetime) -> None:
        """Args:
        uow: the request's unit of work (its audit context has no user).
        hasher: :class:`~afiya.adapters.crypto.passwords.Argon2PasswordHasher`.
        now: the request's time.
        """
        self._uow = uow
        self._hasher = hasher
        self._now = now

    def _actor(self, patient_id: str) -> Actor:
        return Actor(ActorKind.PATIENT, patient_id)

    async def identify_patient(self, *, phone_number: str, secret: str) -> str | None:
        candidates = await self._uow.patients.find_by_phone(phone_number)
        if not candidates:
            await self._hasher.dummy_verify()  # same cost as a phone with a PIN
            return None
        patients = await self._uow.patients.get_many(candidates)
        pins = await self._uow.messaging.pin_hashes(list(candidates))
        found: str | None = None
        if len(secret) == 8:
            for patient_id in sorted(candidates):
                patient = patients.get(patient_id)
                if (
                    patient is not None
                    and patient.birth_date is not None
                    and patient.birth_date.strftime("%d%m%Y") == secret
                ):
                    found = found or str(patient_id)
        else:
            if not pins:
                await self._hasher.dummy_verify()
            for patient_id in sorted(pins):
                if await self._hasher.verify(pins[patient_id], secret) and found is None:
                    found = str(patient_id)
        if found is not None:
            await self._uow.audit.record(
                AuditRecord(
                    "patient.ussd_identify",
                    "patient",
                    found,
                    patient_id=UUID(found),
                    details={"method": "birth_date" if len(secret) == 8 else "pin"},
                )
            )
        return found

    async def next_appointment(self, *, patient_id: str) -> AppointmentSummary | None:
        found = await self._uow.messaging.next_appointment(patient_id, now=self._now)
        if found is None:
            return None
        info = await self._uow.agenda.facility(found.facility_id)
        await self._uow.audit.record(
            AuditRecord(
                "appointment.read",
                "appointment",
                found.id,
                patient_id=UUID(patient_id),
                details={"channel": "ussd"},
            )
        )
        return AppointmentSummary(
            appointment_id=found.id,
            starts_at=found.starts_at,
            time_zone=info.time_zone if info else "UTC",
            facility=info.name if info else "",
        )

    async def _step(self, patient_id: str, appointment_id: str, action: Action) -> None:
        await use_cases.take_step(
            appointment_id,
            action,
            actor=self._actor(patient_id),
            principal=None,
            store=self._uow.agenda,
            audit=self._uow.audit,
            now=self._now,
        )

    async def confirm_appointment(self, *, patient_id: str, appointment_id: str) -> None:
        await self._step(patient_id, appointment_id, Action.CONFIRM)

    async def cancel_appointment(self, *, patient_id: str, appointment_id: str) -> None:
        await self._step(patient_id, appointment_id, Action.CANCEL)

    async def _own(self, patient_id: str, appointment_id: str) -> Any:
        appointment = await self._uow.agenda.get(appointment_id)
        if appointment is None or appointment.patient_id != patient_id:
            raise use_cases.UnknownAppointment(details={"appointment_id": appointment_id})
        return appointment

    async def reschedule_options(
        self, *, patient_id: str, appointment_id: str, limit: int
    ) -> Sequence[SlotOption]:
        """Free starts of the same type with the same practitioner, from tomorrow."""
        appointment = await self._own(patient_id, appointment_id)
        info = await self._uow.agenda.facility(appointment.facility_id)
        if info is None:
            raise NotFound()
        zone = facility_zone(info.time_zone)
        first = (self._now.astimezone(zone) + timedelta(days=1)).date()
        last = first + timedelta(days=RESCHEDULE_HORIZON_DAYS - 1)
        query = SlotQuery(
            appointment_type_id=appointment.appointment_type_id,
            first_day=first,
            last_day=last,
            practitioner_ids=frozenset({appointment.practitioner_id}),
            ignore_appointment_ids=frozenset({appointment.id}),
            limit=limit,
        )
        calendar = await self._uow.agenda.load_calendar(
            facility_id=appointment.facility_id,
            first_day=first,
            last_day=last,
            practitioner_ids=[appointment.practitioner_id],
        )
        slots = compute_slots(calendar, query, self._now)[:limit]
        return [SlotOption(slot.key, slot.starts_at) for slot in slots]

    async def reschedule_appointment(
        self, *, patient_id: str, appointment_id: str, slot_id: str
    ) -> AppointmentSummary:
        appointment = await self._own(patient_id, appointment_id)
        practitioner_id, type_id, starts_at = parse_slot_key(slot_id)
        if type_id != appointment.appointment_type_id:
            raise use_cases.UnknownAppointment(details={"appointment_id": appointment_id})
        _, moved = await use_cases.reschedule_appointment(
            appointment_id,
            new_appointment_id=str(uuid7()),
            starts_at=starts_at,
            actor=self._actor(patient_id),
            principal=None,
            store=self._uow.agenda,
            audit=self._uow.audit,
            jobs=self._uow.jobs,
            now=self._now,
            practitioner_id=practitioner_id,
        )
        info = await self._uow.agenda.facility(moved.facility_id)
        return AppointmentSummary(
            moved.id, moved.starts_at, info.time_zone if info else "UTC", info.name if info else ""
        )

    async def request_callback(
        self, *, phone_number: str, patient_id: str | None, language: str
    ) -> None:
        """A callback row for the staff of the patient's facility (or, for an unknown
        caller, of the facility that registered a patient with this number)."""
        owner: UUID | None = UUID(patient_id) if patient_id else None
        if owner is None:
            known = await self._uow.patients.find_by_phone(phone_number)
            reference = sorted(known)[0] if known else None
        else:
            reference = owner
        unit_path = (
            await self._uow.messaging.patient_unit_path(reference) if reference else None
        ) or "/"
        callback_id = await self._uow.messaging.add_callback(
            unit_path=unit_path,
            patient_id=owner,
            phone_number=phone_number,
            language=language,
            channel="ussd",
            now=self._now,
        )
        await self._uow.messaging.add_feed_item(
            kind="callback_requested",
            unit_path=unit_path,
            patient_id=owner,
            resource_type="callback_request",
            resource_id=callback_id,
            details={"channel": "ussd", "language": language},
            now=self._now,
        )
        await self._uow.audit.record(
            AuditRecord(
                "callback.request",
                "callback_request",
                callback_id,
                patient_id=owner,
                details={"channel": "ussd"},
            )
        )

    async def results_ready(self, *, patient_id: str) -> bool:
        """No results table exists yet (clinical record tables are being built): nothing
        is waiting, which is what the patient is told. See ADR 0108."""
        await self._uow.audit.record(
            AuditRecord(
                "results.ready_check",
                "patient",
                patient_id,
                patient_id=UUID(patient_id),
                details={"channel": "ussd", "source": "none"},
            )
        )
        return False

    async def bill_balance(self, *, patient_id: str) -> Balance | None:
        """No billing module yet: say so rather than "nothing to pay"."""
        raise ServiceNotAvailable()
