"""Test data for the agenda: a consultation type, a room, an all-week schedule of the demo
doctor at CH-TZ, and a patient with a phone, written through the real repositories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.domain.agenda.model import (
    AppointmentType,
    Owner,
    Resource,
    ResourceKind,
    Schedule,
    WeeklySession,
)
from afiya.domain.patients.model import Patient, Phone
from afiya.domain.shared.ids import uuid7

PHONE = "+22236123456"
BIRTH = date(1985, 3, 14)


@dataclass(frozen=True)
class AgendaIds:
    facility_id: str
    facility_path: str
    service_id: str
    practitioner_id: str
    type_id: str
    room_type_id: str
    room_id: str
    patient_id: str


async def add_patient(
    container,
    facility,
    *,
    phone: str = PHONE,
    language: str = "fr",
    consent: bool = True,
    birth_date: date = BIRTH,
    given: str = "Aminata",
) -> str:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        patient_id = uuid7()
        await uow.patients.add(
            Patient(
                id=patient_id,
                mrn=f"T{patient_id.hex[-10:]}",
                unit_id=facility.id,
                unit_path=facility.path,
                given_names=given,
                family_name="Ba",
                sex="female",
                birth_date=birth_date,
                birth_year=birth_date.year,
                phones=(Phone(phone),),
                language=language,
                sms_consent=consent,
            )
        )
        await uow.commit()
    return str(patient_id)


async def seed_agenda(container, **patient) -> AgendaIds:
    """Open Monday to Sunday, 08:00-17:00 local, from yesterday, for ``demo.doctor``."""
    async with container.uow(SYSTEM_CONTEXT) as uow:
        facility = await uow.orgunits.find_code("CH-TZ")
        service = await uow.orgunits.find_code("CH-TZ-S1")
        doctor = await uow.users.get_by_username("demo.doctor")
        fid, sid = str(facility.id), str(service.id)
        visit = AppointmentType(str(uuid7()), sid, "CONS", "Consultation", timedelta(minutes=30))
        room_visit = AppointmentType(
            str(uuid7()),
            sid,
            "ECHO",
            "Echographie",
            timedelta(minutes=30),
            buffer_after=timedelta(minutes=10),
            resource_categories=("ultrasound",),
        )
        await uow.agenda.add_type(fid, visit)
        await uow.agenda.add_type(fid, room_visit)
        room = Resource(str(uuid7()), fid, ResourceKind.EQUIPMENT, "ultrasound", "Echo 1")
        await uow.agenda.add_resource(room)
        sessions = tuple(WeeklySession(d, time(8), time(17)) for d in range(7))
        start = container.clock.now().date() - timedelta(days=1)
        for owner in (Owner.practitioner(str(doctor.id)), room.owner):
            await uow.agenda.add_schedule(
                Schedule(str(uuid7()), owner, fid, sid, sessions, valid_from=start)
            )
        await uow.commit()
    patient_id = await add_patient(container, facility, **patient)
    return AgendaIds(
        fid, facility.path, sid, str(doctor.id), visit.id, room_visit.id, room.id, patient_id
    )
