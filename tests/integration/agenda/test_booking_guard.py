"""The database refuses double bookings, whoever writes and however concurrently (ADR 0106)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from afiya.adapters.db.models.agenda import AppointmentRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.domain.agenda.appointments import Actor, ActorKind, AppointmentStatus
from afiya.domain.agenda.booking import BookingRequest, book
from afiya.domain.agenda.errors import SlotUnavailable
from afiya.domain.agenda.use_cases import book_appointment
from afiya.domain.shared.ids import uuid7
from tests.integration.agenda.setup import seed_agenda

DESK = Actor(ActorKind.RECEPTION, "desk")


def tomorrow_at(container, hour: int, minute: int = 0) -> datetime:
    zone = ZoneInfo("Africa/Nouakchott")
    day = container.clock.now().astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def request(ids, start, *, type_id=None, patient_id=None) -> BookingRequest:
    return BookingRequest(
        appointment_id=str(uuid7()),
        patient_id=patient_id or ids.patient_id,
        practitioner_id=ids.practitioner_id,
        appointment_type_id=type_id or ids.type_id,
        starts_at=start,
        actor=DESK,
    )


async def holding_count(container) -> int:
    async with container.sessions() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(AppointmentRow)
                .where(AppointmentRow.status.in_(["booked", "confirmed"]))
            )
        ).scalar_one()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_two_transactions_that_both_saw_the_slot_free_cannot_both_book_it(container):
    """Both read the calendar and decide "free" before either writes; the inserts then
    race. The guard lets exactly one commit and refuses the other with SlotUnavailable."""
    ids = await seed_agenda(container)
    start = tomorrow_at(container, 9)
    both_decided = asyncio.Barrier(2)

    async def attempt() -> str:
        async with container.uow(SYSTEM_CONTEXT) as uow:
            calendar = await uow.agenda.load_calendar(
                facility_id=ids.facility_id, first_day=start.date(), last_day=start.date()
            )
            appointment = book(calendar, request(ids, start), now=container.clock.now())
            await both_decided.wait()  # neither has written yet: both think it is free
            try:
                await uow.agenda.add(appointment, unit_path=ids.facility_path)
                await uow.commit()
            except SlotUnavailable:
                return "refused"
            return "booked"

    outcomes = await asyncio.wait_for(asyncio.gather(attempt(), attempt()), timeout=30)
    assert sorted(outcomes) == ["booked", "refused"]
    assert await holding_count(container) == 1


async def test_concurrent_bookings_through_the_use_case_give_one_appointment(container):
    ids = await seed_agenda(container)
    start = tomorrow_at(container, 10)

    async def attempt(offset: int) -> str:
        async with container.uow(SYSTEM_CONTEXT) as uow:
            try:
                await book_appointment(
                    ids.facility_id,
                    request(ids, start + timedelta(minutes=offset)),
                    principal=None,
                    store=uow.agenda,
                    audit=uow.audit,
                    jobs=uow.jobs,
                    now=container.clock.now(),
                )
                await uow.commit()
            except SlotUnavailable:
                return "refused"
            return "booked"

    # 10:00 and 10:15 overlap (30-minute visits): only one of the four may win per overlap
    outcomes = await asyncio.wait_for(
        asyncio.gather(attempt(0), attempt(0), attempt(15), attempt(0)), timeout=60
    )
    assert outcomes.count("booked") == 1
    assert await holding_count(container) == 1


async def test_the_database_refuses_an_overlap_that_skipped_the_domain_check(container):
    """Even a writer that never ran the pure check is stopped by the database."""
    ids = await seed_agenda(container)
    start = tomorrow_at(container, 11)
    async with container.uow(SYSTEM_CONTEXT) as uow:
        calendar = await uow.agenda.load_calendar(
            facility_id=ids.facility_id, first_day=start.date(), last_day=start.date()
        )
        first = book(calendar, request(ids, start, type_id=ids.room_type_id), now=start)
        await uow.agenda.add(first, unit_path=ids.facility_path)
        await uow.commit()
    overlapping = replace(
        first,
        id=str(uuid7()),
        starts_at=start + timedelta(minutes=35),  # inside the 10-minute buffer after
        ends_at=start + timedelta(minutes=65),
        resource_ids=(),
    )
    async with container.uow(SYSTEM_CONTEXT) as uow:
        with pytest.raises(SlotUnavailable):
            await uow.agenda.add(overlapping, unit_path=ids.facility_path)
    other_doctor_same_room = replace(
        overlapping, practitioner_id=str(uuid7()), resource_ids=first.resource_ids
    )
    async with container.uow(SYSTEM_CONTEXT) as uow:
        with pytest.raises(SlotUnavailable):
            await uow.agenda.add(other_doctor_same_room, unit_path=ids.facility_path)
    back_to_back = replace(
        overlapping,
        starts_at=start + timedelta(minutes=40),
        ends_at=start + timedelta(minutes=70),
    )
    async with container.uow(SYSTEM_CONTEXT) as uow:  # touching is allowed: [a, b) [b, c)
        await uow.agenda.add(back_to_back, unit_path=ids.facility_path)
        await uow.commit()
    async with container.uow(SYSTEM_CONTEXT) as uow:  # a cancelled one frees its time
        cancelled = replace(first, status=AppointmentStatus.CANCELLED)
        await uow.agenda.save(cancelled)
        await uow.commit()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        await uow.agenda.add(
            replace(first, id=str(uuid7()), patient_id=ids.patient_id),
            unit_path=ids.facility_path,
        )
        await uow.commit()
    assert await holding_count(container) == 2
