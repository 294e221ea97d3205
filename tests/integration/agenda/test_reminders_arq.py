"""Reminders through the outbox, run by real ARQ workers on Redis, sent to the gateway
double over HTTP: once, in the patient's language, only with consent, never in quiet
hours, and never twice when the worker dies between sending and recording."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import select, update

from afiya.adapters.db.models import JobRow, OrgUnitRow
from afiya.adapters.db.models.agenda import ReminderDeliveryRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.bootstrap import build
from afiya.domain.agenda.appointments import Actor, ActorKind, Appointment
from afiya.domain.agenda.use_cases import REMINDER_JOB
from afiya.domain.messaging.reminders import reminder_idempotency_key
from afiya.domain.platform.jobs import JobRequest
from afiya.domain.shared.ids import uuid7
from tests.conftest import FAST_HASHER, REDIS_URL, REPO, TEST_BLIND_KEY, TEST_KEYS, missing_service
from tests.integration.agenda.setup import seed_agenda
from tests.integration.sms.conftest import AT_API_KEY, AT_USERNAME

TWO_HOURS = timedelta(hours=2)

# Real ARQ workers cost seconds per test: the double's threaded server is enough here (the
# SMS adapter tests run its protocol under both of its servers).
pytestmark = pytest.mark.parametrize("gateway_double", ["threads"], indirect=True)


@pytest.fixture
async def arq_container(settings):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        missing_service("Redis", exc)
    built = build(
        replace(
            settings,
            job_queue="arq",
            redis_url=REDIS_URL,
            arq_queue_name=f"afiya:test:{uuid.uuid4().hex[:8]}",
            job_timeout_seconds=2,
        ),
        hasher=FAST_HASHER,
    )
    yield built
    await built.close()


def _worker(container, double, gateway="africastalking", **config) -> subprocess.Popen[bytes]:
    s = container.settings
    env = {
        **os.environ,
        "AFIYA_DATABASE_URL": s.database_url,
        "AFIYA_VAR_DIR": str(s.var_dir),
        "AFIYA_JOB_QUEUE": "arq",
        "AFIYA_REDIS_URL": s.redis_url,
        "AFIYA_ARQ_QUEUE_NAME": s.arq_queue_name,
        "AFIYA_JOB_TIMEOUT_SECONDS": "2",
        "AFIYA_JOB_MODULES": "tests.integration.agenda.crash_gateway",
        "AFIYA_SMS_GATEWAY": gateway,
        "AFIYA_SMS_GATEWAY_CONFIG": json.dumps(
            {"username": AT_USERNAME, "api_key": AT_API_KEY, "base_url": double.base_url, **config}
        ),
        "AFIYA_ENCRYPTION_KEYS": TEST_KEYS,
        "AFIYA_BLIND_INDEX_KEY": TEST_BLIND_KEY,
        "AFIYA_JWT_SECRET": s.jwt_secret,
        "AFIYA_NODE_ID": "test-node",
        "AFIYA_LOG_JSON": "false",
        "AFIYA_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "afiya.cli", "worker"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def _zone_where_it_is(container, local_hour: int) -> ZoneInfo:
    """Give CH-TZ a fixed-offset zone in which it is now about ``local_hour``:00."""
    now = datetime.now(UTC)
    offset = (local_hour - now.hour + 12) % 24 - 12
    name = f"Etc/GMT{'-' if offset >= 0 else '+'}{abs(offset)}"
    async with container.sessions() as session:
        await session.execute(
            update(OrgUnitRow).where(OrgUnitRow.code == "CH-TZ").values(timezone=name)
        )
        await session.commit()
    return ZoneInfo(name)


async def _appointment_with_reminder(container, ids, starts_at: datetime) -> tuple[str, uuid.UUID]:
    """An appointment written directly, and its 2-hour reminder job (due per the plan)."""
    appointment = Appointment(
        id=str(uuid7()),
        facility_id=ids.facility_id,
        service_id=ids.service_id,
        patient_id=ids.patient_id,
        practitioner_id=ids.practitioner_id,
        appointment_type_id=ids.type_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        booked_at=datetime.now(UTC),
        booked_by=Actor(ActorKind.RECEPTION, "desk"),
    )
    key = reminder_idempotency_key(appointment.id, TWO_HOURS, "sms", starts_at)
    async with container.uow(SYSTEM_CONTEXT) as uow:
        await uow.agenda.add(appointment, unit_path=ids.facility_path)
        job_id = await uow.jobs.schedule(
            JobRequest(
                REMINDER_JOB,
                {"appointment_id": appointment.id, "idempotency_key": key, "channel": "sms"},
                key,
            )
        )
        await uow.commit()
    return key, job_id


async def _done(container, job_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with container.sessions() as session:
            job = await session.get(JobRow, job_id)
            if job is not None and job.status == "done":
                return job
        await asyncio.sleep(0.3)
    raise AssertionError(f"job {job_id} never finished")


async def _delivery(container, key):
    async with container.sessions() as session:
        return (
            await session.execute(
                select(ReminderDeliveryRow).where(ReminderDeliveryRow.idempotency_key == key)
            )
        ).scalar_one_or_none()


async def test_a_due_reminder_is_sent_once_in_the_patients_language(arq_container, double):
    ids = await seed_agenda(arq_container, language="ar")
    await _zone_where_it_is(arq_container, 12)
    key, job_id = await _appointment_with_reminder(
        arq_container, ids, datetime.now(UTC) + timedelta(minutes=90)
    )
    worker = _worker(arq_container, double)
    try:
        await _done(arq_container, job_id)
        await arq_container.queue.enqueue(job_id, attempt=5)  # a duplicate delivery
        await asyncio.sleep(2.0)
    finally:
        _stop(worker)
    sent = [m for m in double.messages() if m["path"].endswith("/messaging")]
    assert len(sent) == 1
    assert sent[0]["form"]["to"] == "+22236123456"
    assert "موعد" in sent[0]["form"]["message"]  # Arabic template
    row = await _delivery(arq_container, key)
    assert (row.status, row.language, row.encoding, row.provider) == (
        "sent",
        "ar",
        "UCS-2",
        "africastalking",
    )
    assert row.provider_message_id and row.segments >= 2


async def test_no_consent_means_no_sms_and_a_skipped_log_row(arq_container, double):
    ids = await seed_agenda(arq_container, consent=False)
    await _zone_where_it_is(arq_container, 12)
    key, job_id = await _appointment_with_reminder(
        arq_container, ids, datetime.now(UTC) + timedelta(minutes=90)
    )
    worker = _worker(arq_container, double)
    try:
        await _done(arq_container, job_id)
    finally:
        _stop(worker)
    assert double.messages() == []
    row = await _delivery(arq_container, key)
    assert (row.status, row.error) == ("skipped", "no_consent")


async def test_a_run_inside_quiet_hours_defers_to_their_end(arq_container, double):
    ids = await seed_agenda(arq_container)
    zone = await _zone_where_it_is(arq_container, 23)  # quiet from 21:00 to 07:00
    local = datetime.now(UTC).astimezone(zone)
    start = datetime.combine(local.date() + timedelta(days=1), local.time().replace(hour=10), zone)
    key, job_id = await _appointment_with_reminder(arq_container, ids, start.astimezone(UTC))
    worker = _worker(arq_container, double)
    try:
        await _done(arq_container, job_id)
    finally:
        _stop(worker)
    assert double.messages() == []
    assert await _delivery(arq_container, key) is None
    async with arq_container.sessions() as session:
        follow_up = (
            await session.execute(
                select(JobRow).where(JobRow.idempotency_key.startswith(f"{key}@"))
            )
        ).scalar_one()
    assert follow_up.run_after.astimezone(zone).hour == 8  # 10:00 - 2 h, out of quiet hours
    assert follow_up.args["idempotency_key"] == key


async def test_a_worker_killed_after_sending_never_sends_twice(arq_container, double, tmp_path):
    ids = await seed_agenda(arq_container)
    await _zone_where_it_is(arq_container, 12)
    key, job_id = await _appointment_with_reminder(
        arq_container, ids, datetime.now(UTC) + timedelta(minutes=90)
    )
    marker = tmp_path / "sent-then-died"
    first = _worker(arq_container, double, "crash_after_send", marker=str(marker))
    try:
        assert first.wait(timeout=60) == 17
    finally:
        _stop(first)
    assert marker.exists()
    assert len(double.messages()) == 1
    assert (await _delivery(arq_container, key)).status == "attempting"
    second = _worker(arq_container, double, "crash_after_send", marker=str(marker))
    try:
        await _done(arq_container, job_id)  # re-delivered once ARQ's lock expires
    finally:
        _stop(second)
    assert len(double.messages()) == 1  # not sent again
    assert (await _delivery(arq_container, key)).status == "unconfirmed"
