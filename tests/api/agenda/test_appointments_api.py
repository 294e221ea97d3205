"""Agenda set-up, slots, booking and every step over HTTP, with scope and audit."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow, JobRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from tests.api.patients.helpers import facility_id, person, register


async def _unit(client, headers, code: str) -> str:
    response = await client.get(
        "/api/v1/org-units/", params={"q": code, "limit": 5}, headers=headers
    )
    return next(u["id"] for u in response.json()["items"] if u["code"] == code)


async def _setup(client, container, headers) -> dict[str, str]:
    fid = await facility_id(client, headers, "CH-TZ")
    sid = await _unit(client, headers, "CH-TZ-S1")
    async with container.uow(SYSTEM_CONTEXT) as uow:
        doctor = await uow.users.get_by_username("demo.doctor")
    kind = await client.post(
        "/api/v1/agenda/appointment-types",
        headers=headers,
        json={
            "facility_id": fid,
            "service_id": sid,
            "code": "CONS",
            "name": "Consultation",
            "duration_minutes": 30,
        },
    )
    assert kind.status_code == 201, kind.text
    day = container.clock.now().date()
    schedule = await client.post(
        "/api/v1/agenda/schedules",
        headers=headers,
        json={
            "facility_id": fid,
            "service_id": sid,
            "practitioner_id": str(doctor.id),
            "sessions": [{"weekday": day.weekday(), "start": "08:00", "end": "12:00"}],
            "valid_from": day.isoformat(),
        },
    )
    assert schedule.status_code == 201, schedule.text
    patient = await register(client, headers, person(fid))
    other = await register(
        client, headers, person(fid, given_names="Fatimetou", family_name="Mint Sidi", sex="female")
    )
    return {
        "facility": fid,
        "type": kind.json()["id"],
        "doctor": str(doctor.id),
        "patient": patient["id"],
        "other": other["id"],
        "day": day.isoformat(),
    }


async def test_book_confirm_reschedule_cancel_with_scope_audit_and_reminders(
    client, auth, container
):
    desk = await auth("demo.receptionist")
    ids = await _setup(client, container, desk)
    slots = await client.get(
        "/api/v1/agenda/slots",
        headers=desk,
        params={
            "facility_id": ids["facility"],
            "appointment_type_id": ids["type"],
            "first_day": ids["day"],
        },
    )
    assert slots.status_code == 200, slots.text
    starts = [s["starts_at"] for s in slots.json()]
    assert starts[0].startswith(f"{ids['day']}T08:00")  # 07:30 now, the 08:00 slot is free
    assert len(starts) == 15  # 08:00..11:30 every 15 min for a 30-minute visit

    body = {
        "patient_id": ids["patient"],
        "practitioner_id": ids["doctor"],
        "appointment_type_id": ids["type"],
        "starts_at": starts[4],  # 09:00
    }
    booked = await client.post("/api/v1/appointments/", headers=desk, json=body)
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert appointment["status"] == "booked"

    taken = await client.post(
        "/api/v1/appointments/",
        headers=desk,
        json={**body, "patient_id": ids["other"], "starts_at": starts[5]},  # 09:15 overlaps
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "slot_unavailable"

    base = f"/api/v1/appointments/{appointment['id']}"
    confirmed = await client.post(f"{base}/confirm", headers=desk)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    again = await client.post(f"{base}/confirm", headers=desk)  # a repeated "OUI": no change
    assert again.json()["status"] == "confirmed"

    outsider = await auth("demo.receptionist.b")
    assert (await client.get(base, headers=outsider)).status_code == 403
    assert (await client.post(f"{base}/cancel", headers=outsider)).status_code == 403
    listed = await client.get("/api/v1/appointments/", headers=outsider)
    assert listed.json()["items"] == []

    moved = await client.post(f"{base}/reschedule", headers=desk, json={"starts_at": starts[8]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["previous"]["status"] == "rescheduled"
    new_id = moved.json()["appointment"]["id"]
    freed = await client.post(
        "/api/v1/appointments/",
        headers=desk,
        json={**body, "patient_id": ids["other"], "starts_at": starts[5]},
    )
    assert freed.status_code == 201  # the old 09:00 no longer holds time

    cancelled = await client.post(
        f"/api/v1/appointments/{new_id}/cancel", headers=desk, json={"reason": "voyage"}
    )
    assert cancelled.json()["status"] == "cancelled"

    mine = await client.get(
        "/api/v1/appointments/", headers=desk, params={"patient_id": ids["patient"]}
    )
    assert [a["status"] for a in mine.json()["items"]] == ["rescheduled", "cancelled"]

    async with container.sessions() as session:
        actions = (
            (
                await session.execute(
                    select(AuditEventRow.action).where(
                        AuditEventRow.patient_id == UUID(appointment["patient_id"])
                    )
                )
            )
            .scalars()
            .all()
        )
        reminder_jobs = (
            (
                await session.execute(
                    select(JobRow.idempotency_key).where(JobRow.name == "agenda.send_reminder")
                )
            )
            .scalars()
            .all()
        )
    assert {"appointment.book", "appointment.confirm", "appointment.reschedule"} <= set(actions)
    assert "appointment.cancel" in actions and "appointment.read" in actions
    assert any(key.startswith(f"reminder:{appointment['id']}:sms:") for key in reminder_jobs)
    assert any(key.startswith(f"reminder:{new_id}:sms:") for key in reminder_jobs)


async def test_arrival_no_show_and_the_queue_of_the_day(client, auth, container, clock):
    desk = await auth("demo.receptionist")
    ids = await _setup(client, container, desk)
    start = f"{ids['day']}T08:00:00Z"
    one = await client.post(
        "/api/v1/appointments/",
        headers=desk,
        json={
            "patient_id": ids["patient"],
            "practitioner_id": ids["doctor"],
            "appointment_type_id": ids["type"],
            "starts_at": start,
        },
    )
    two = await client.post(
        "/api/v1/appointments/",
        headers=desk,
        json={
            "patient_id": ids["other"],
            "practitioner_id": ids["doctor"],
            "appointment_type_id": ids["type"],
            "starts_at": f"{ids['day']}T08:30:00Z",
        },
    )
    assert one.status_code == two.status_code == 201
    early = await client.post(f"/api/v1/appointments/{one.json()['id']}/no-show", headers=desk)
    assert early.status_code == 409  # before start + grace
    assert early.json()["code"] == "appointment_step_out_of_time"

    arrived = await client.post(f"/api/v1/appointments/{two.json()['id']}/arrived", headers=desk)
    assert arrived.status_code == 200 and arrived.json()["status"] == "arrived"
    clock.current += timedelta(hours=1)  # 08:30: the 08:00 patient never came
    desk = await auth("demo.receptionist")
    absent = await client.post(f"/api/v1/appointments/{one.json()['id']}/no-show", headers=desk)
    assert absent.status_code == 200 and absent.json()["status"] == "no_show"

    queue = await client.get(
        "/api/v1/agenda/queue", headers=desk, params={"facility_id": ids["facility"]}
    )
    assert queue.status_code == 200, queue.text
    assert [q["appointment_id"] for q in queue.json()] == [two.json()["id"]]
    assert queue.json()[0]["position"] == 1
    outsider = await auth("demo.receptionist.b")
    denied = await client.get(
        "/api/v1/agenda/queue", headers=outsider, params={"facility_id": ids["facility"]}
    )
    assert denied.status_code == 403


async def test_invalid_set_up_lists_every_field(client, auth, container):
    desk = await auth("demo.receptionist")
    fid = await facility_id(client, desk, "CH-TZ")
    response = await client.post(
        "/api/v1/agenda/appointment-types",
        headers=desk,
        json={"facility_id": fid, "service_id": fid, "code": "", "duration_minutes": 0},
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"code", "duration_minutes", "name"} <= fields
