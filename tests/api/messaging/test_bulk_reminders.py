"""Bulk reminder sending (campaigns) against the Africa's Talking HTTP double: the single
job's rules (consent, due time, at most once) hold for a whole batch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from afiya.adapters.db.models import JobRow
from afiya.adapters.db.models.agenda import ReminderDeliveryRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.adapters.sms.africastalking import AfricasTalkingSms
from afiya.domain.shared.ids import uuid7
from afiya.jobs.messaging import drain_due_reminders
from tests.api.messaging.helpers import PHONE, book_for_patient
from tests.api.patients.helpers import person, register
from tests.integration.sms.conftest import AT_API_KEY, AT_USERNAME, double, gateway_double

__all__ = ["double", "gateway_double"]


async def _book(client, desk, ids, patient_id: str, hhmm: str, day: str) -> str:
    response = await client.post(
        "/api/v1/appointments/",
        headers=desk,
        json={
            "patient_id": patient_id,
            "practitioner_id": ids["doctor"],
            "appointment_type_id": ids["type"],
            "starts_at": f"{day}T{hhmm}:00Z",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _rows(container) -> dict[str, ReminderDeliveryRow]:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        rows = (await uow.session.execute(select(ReminderDeliveryRow))).scalars()
        return {str(r.appointment_id): r for r in rows}


async def _jobs(container) -> dict[str, JobRow]:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        rows = (
            await uow.session.execute(select(JobRow).where(JobRow.name == "agenda.send_reminder"))
        ).scalars()
        return {str(r.args["appointment_id"]): r for r in rows}


@pytest.fixture
async def setup(client, auth, container, double) -> dict[str, Any]:
    desk = await auth("demo.receptionist")
    ids = await book_for_patient(client, container, desk, sms_consent=True)
    day = container.clock.now().date().isoformat()
    fid = ids["facility"]
    refused = await register(
        client,
        desk,
        person(fid, given_names="Aicha", sex="female", phones=[{"number": "36 12 34 57"}]),
    )
    later = await register(
        client,
        desk,
        person(fid, given_names="Sidi", sms_consent=True, phones=[{"number": "36 12 34 58"}]),
    )
    gateway = AfricasTalkingSms(username=AT_USERNAME, api_key=AT_API_KEY, base_url=double.base_url)
    container.extras["sms"] = gateway
    yield {
        "due": ids["appointment"],  # 10:00, reminder planned at 08:00
        "refused": await _book(client, desk, ids, refused["id"], "10:30", day),
        "later": await _book(client, desk, ids, later["id"], "11:00", day),
        "double": double,
    }
    await gateway.aclose()


async def test_a_batch_sends_due_reminders_once_and_skips_without_consent(container, setup) -> None:
    container.clock.current += timedelta(hours=1, minutes=5)  # 08:35
    now = container.clock.now()
    result = await drain_due_reminders(container, now=now, limit=100)
    assert (result.claimed, result.sent, result.skipped) == (2, 1, 1)

    [message] = setup["double"].messages()
    assert message["form"]["to"] == PHONE and "10:00" in message["form"]["message"]
    rows = await _rows(container)
    assert rows[setup["due"]].status == "sent"
    assert rows[setup["due"]].provider_message_id.startswith("ATXid_")
    assert (rows[setup["refused"]].status, rows[setup["refused"]].error) == (
        "skipped",
        "no_consent",
    )
    assert setup["later"] not in rows  # its reminder is not due before 09:00
    jobs = await _jobs(container)
    assert jobs[setup["due"]].status == "done" and jobs[setup["later"]].status != "done"

    again = await drain_due_reminders(container, now=now, limit=100)
    assert again.claimed == 0 and len(setup["double"].messages()) == 1


async def test_a_reminder_whose_worker_died_after_sending_is_never_sent_again(
    container, setup
) -> None:
    container.clock.current += timedelta(hours=1, minutes=5)
    jobs = await _jobs(container)
    async with container.uow(SYSTEM_CONTEXT) as uow:  # the dead worker's committed claim
        job = await uow.session.get(JobRow, jobs[setup["due"]].id)
        now = container.clock.now()
        uow.session.add(
            ReminderDeliveryRow(
                id=uuid7(),
                idempotency_key=job.args["idempotency_key"],
                appointment_id=UUID(job.args["appointment_id"]),
                patient_id=await _patient_of(uow, setup["due"]),
                channel="sms",
                status="attempting",
                created_at=now,
                updated_at=now,
            )
        )
        await uow.commit()
    result = await drain_due_reminders(container, now=container.clock.now(), limit=100)
    assert result.unconfirmed == 1 and result.sent == 0
    assert setup["double"].messages() == []
    assert (await _rows(container))[setup["due"]].status == "unconfirmed"


async def test_a_temporary_gateway_error_puts_the_reminder_back(container, setup) -> None:
    container.clock.current += timedelta(hours=1, minutes=5)
    setup["double"].fail(vendor="africastalking", kind="http", status=503, times=1)
    result = await drain_due_reminders(container, now=container.clock.now(), limit=100)
    assert (result.retried, result.sent) == (1, 0)
    assert setup["due"] not in await _rows(container)  # the attempt is released
    job = (await _jobs(container))[setup["due"]]
    assert job.status == "pending" and job.run_after > container.clock.now()

    container.clock.current += timedelta(minutes=3)
    retried = await drain_due_reminders(container, now=container.clock.now(), limit=100)
    assert retried.sent == 1
    assert (await _rows(container))[setup["due"]].status == "sent"


async def _patient_of(uow, appointment_id: str) -> UUID:
    appointment = await uow.agenda.get(appointment_id)
    return UUID(appointment.patient_id)


async def test_a_refused_reminder_is_logged_failed_and_shown_to_the_facility(
    container, setup
) -> None:
    from afiya.adapters.db.models.messaging import StaffFeedItemRow

    container.clock.current += timedelta(hours=1, minutes=5)
    setup["double"].fail(vendor="africastalking", kind="recipient", statusCode=406, times=1)
    result = await drain_due_reminders(container, now=container.clock.now(), limit=100)
    assert (result.failed, result.sent, result.retried) == (1, 0, 0)
    row = (await _rows(container))[setup["due"]]
    assert (row.status, row.error) == ("failed", "406")
    async with container.uow(SYSTEM_CONTEXT) as uow:
        [item] = (await uow.session.execute(select(StaffFeedItemRow))).scalars().all()
    assert (item.kind, item.resource_id) == ("reminder_failed", setup["due"])
