"""A critical lab value notifies the responsible clinician exactly once: the job is
written with the result (outbox), survives an API restart before it runs, and a
duplicate delivery adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from afiya.adapters.db.models import JobRow
from afiya.adapters.db.models.clinical import StaffNotificationRow
from afiya.api.app import create_app
from afiya.bootstrap import build
from afiya.domain.clinical.use_cases import CRITICAL_RESULT_JOB
from afiya.jobs.registry import handlers
from tests.api.clinical.helpers import ago, new_patient
from tests.conftest import FAST_HASHER, asgi_client, login

POTASSIUM = {
    "code": "2823-3",
    "name": "Potassium",
    "unit": "mmol/L",
    "reference": {"unit": "mmol/L", "low": "3.5", "high": "5.1", "critical_high": "6.5"},
}


async def _count(container, model, *where):
    async with container.sessions() as session:
        return (
            await session.execute(select(func.count()).select_from(model).where(*where))
        ).scalar_one()


async def _visit(client, doctor, patient):
    response = await client.post(
        "/api/v1/encounters/",
        headers=doctor,
        json={
            "patient_id": patient["id"],
            "kind": "outpatient",
            "started_at": ago(hours=3),
            "reason": "Faiblesse musculaire",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def _result(patient, visit, value, **extra):
    return {
        **POTASSIUM,
        "patient_id": patient["id"],
        "encounter_id": visit["id"],
        "observed_at": ago(hours=2),
        "reported_at": ago(hours=1),
        "value": value,
        **extra,
    }


async def test_a_critical_value_notifies_once_even_when_the_api_restarts_before_the_job_runs(
    settings,
):
    # process A: the API commits the result and its job, then stops before running it
    first = build(settings, hasher=FAST_HASHER)
    first.runner.register_all(handlers())
    async with asgi_client(create_app(first)) as client:  # queue never started: no worker

        async def auth(username):
            return await login(client, username)

        doctor, lab = await auth("demo.doctor"), await auth("demo.lab_technician")
        patient = await new_patient(client, auth)
        visit = await _visit(client, doctor, patient)
        normal = await client.post(
            "/api/v1/results/", headers=lab, json=_result(patient, visit, "4.2")
        )
        assert normal.status_code == 201, normal.text
        assert normal.json()["flag"] == "N"
        critical = await client.post(
            "/api/v1/results/", headers=lab, json=_result(patient, visit, "6.5")
        )
        assert critical.status_code == 201, critical.text
        assert (critical.json()["flag"], critical.json()["critical"]) == ("HH", True)
        # a correction that keeps the same critical value does not alert again
        same = await client.post(
            "/api/v1/results/",
            headers=lab,
            json=_result(
                patient,
                visit,
                "6.5",
                corrects_id=critical.json()["id"],
                reported_at=ago(minutes=30),
            ),
        )
        assert same.status_code == 201, same.text
        assert same.json()["version"] == 2
    assert await _count(first, JobRow, JobRow.name == CRITICAL_RESULT_JOB) == 1
    assert await _count(first, StaffNotificationRow) == 0
    await first.close()

    # process B: a new API process; the sweep finds the job, delivers it (twice here)
    second = build(settings, hasher=FAST_HASHER)
    second.runner.register_all(handlers())
    await second.start()
    try:
        await second.runner.sweep(stale_after_seconds=0)
        await second.queue.join()
        job_id = (await _job_ids(second))[0]
        assert await second.runner.execute(job_id) == "skipped"  # a duplicate delivery
        async with asgi_client(create_app(second)) as client:
            doctor = await login(client, "demo.doctor")
            mine = await client.get("/api/v1/notifications/", headers=doctor)
            assert mine.status_code == 200
            notes = mine.json()
            lab = await login(client, "demo.lab_technician")
            assert (await client.get("/api/v1/notifications/", headers=lab)).json() == []
    finally:
        await second.close()
    assert await _count(second, StaffNotificationRow) == 1
    assert (
        await _count(second, JobRow, JobRow.name == CRITICAL_RESULT_JOB, JobRow.status == "done")
        == 1
    )
    assert len(notes) == 1
    assert notes[0]["kind"] == "critical_result"
    assert notes[0]["patient_id"] == patient["id"]
    assert notes[0]["payload"]["result_id"] == critical.json()["id"]
    assert notes[0]["payload"]["value"] == "6.5"


async def _job_ids(container):
    async with container.sessions() as session:
        return list(
            (await session.execute(select(JobRow.id).where(JobRow.name == CRITICAL_RESULT_JOB)))
            .scalars()
            .all()
        )


async def test_the_notification_is_unique_per_result_version_whatever_the_deliveries(
    client, auth, container
):
    doctor, lab = await auth("demo.doctor"), await auth("demo.lab_technician")
    patient = await new_patient(client, auth)
    visit = await _visit(client, doctor, patient)
    critical = await client.post(
        "/api/v1/results/", headers=lab, json=_result(patient, visit, "7.1")
    )
    assert critical.status_code == 201, critical.text
    await container.queue.join()
    corrected = await client.post(
        "/api/v1/results/",
        headers=lab,
        json=_result(
            patient, visit, "7.4", corrects_id=critical.json()["id"], reported_at=ago(minutes=20)
        ),
    )
    assert corrected.status_code == 201
    await container.queue.join()
    for job_id in await _job_ids(container):
        await container.runner.execute(job_id)  # re-deliveries
    assert await _count(container, JobRow, JobRow.name == CRITICAL_RESULT_JOB) == 2
    assert await _count(container, StaffNotificationRow) == 2  # one per critical version
    mine = (await client.get("/api/v1/notifications/", headers=doctor)).json()
    assert sorted(n["payload"]["result_version"] for n in mine) == [1, 2]


async def test_a_result_for_an_unknown_clinician_is_refused_before_any_job_exists(
    client, auth, container
):
    lab = await auth("demo.lab_technician")
    patient = await new_patient(client, auth)
    body = {
        **POTASSIUM,
        "patient_id": patient["id"],
        "observed_at": ago(hours=2),
        "reported_at": ago(hours=1),
        "value": "7.0",
    }
    nobody = await client.post("/api/v1/results/", headers=lab, json=body)
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "responsible_id"
    stranger = await client.post(
        "/api/v1/results/",
        headers=lab,
        json={**body, "responsible_id": "01a25158-0000-7000-8000-000000000000"},
    )
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["code"] == "unknown_user"
    assert await _count(container, JobRow, JobRow.name == CRITICAL_RESULT_JOB) == 0
