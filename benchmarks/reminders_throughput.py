"""Benchmark: a vaccination campaign's reminders, all due in the same hour, sent by one
worker through the Africa's Talking adapter to the local gateway double. Prints figures.

Set-up (not timed): a migrated, demo-seeded database; N patients with SMS consent and a
phone (encrypted, blind-indexed), N appointments between 11:00 and 12:00 (facility time,
Nouakchott), each with its 2-hour reminder planned by the domain planner. Timed:

1. *enqueue*: the N ``agenda.send_reminder`` outbox rows, written in one transaction;
2. *send*: one worker (one asyncio task) running
   :func:`afiya.jobs.messaging.drain_due_reminders` batch after batch at 10:00 until no
   reminder is due: claim, re-plan (consent, status, quiet hours), render in the
   patient's language, commit the ``attempting`` rows, call the gateway (``--concurrency``
   requests in flight over keep-alive connections), record receipts and audit events.

The double (``tests/doubles/sms_gateways.py``) runs in its own process on its asyncio
server (uvicorn): its thread-per-connection server answers 250–400 requests/s here, which
measures the double, not Afiya. ``--gateway console`` removes HTTP altogether.

    .venv/bin/python benchmarks/reminders_throughput.py                     # 100,000, SQLite
    .venv/bin/python benchmarks/reminders_throughput.py --n 20000 --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from afiya.adapters.db.migrate import upgrade
from afiya.adapters.db.models import JobRow, OrgUnitRow
from afiya.adapters.db.models.agenda import AppointmentRow, AppointmentTypeRow, ReminderDeliveryRow
from afiya.adapters.db.models.patients import PatientPhoneRow, PatientRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT, seed_demo
from afiya.adapters.sms.africastalking import AfricasTalkingSms
from afiya.adapters.sms.console import ConsoleSms
from afiya.bootstrap import build
from afiya.domain.agenda.appointments import Actor, ActorKind, Appointment
from afiya.domain.agenda.reminders import FacilityReminderSettings, plan_appointment_reminders
from afiya.domain.messaging.reminders import ReminderStatus
from afiya.domain.shared.clock import FixedClock
from afiya.domain.shared.ids import uuid7
from afiya.jobs.messaging import drain_due_reminders
from afiya.settings import Settings

REPO = Path(__file__).resolve().parents[1]
KEYS = "b1:" + "QUZJWUEtYmVuY2gta2V5LTMyLWJ5dGVzLWxvbmctMDA="
BLIND = "QUZJWUEtYmVuY2gtYmxpbmQta2V5LTMyLWJ5dGVzLTA="
CHUNK = 5_000


def _double() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.doubles.sms_gateways", "--port", "0", "--server", "asyncio"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("LISTENING "):
        process.kill()
        raise SystemExit(f"the gateway double did not start: {line!r}")
    return process, f"http://127.0.0.1:{int(line.split()[1])}"


async def _pg(sql: str, url: str) -> None:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _chunks(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(table), rows[start : start + CHUNK])


async def populate(container: Any, n: int, start: datetime) -> tuple[list[dict[str, Any]], str]:
    """N consenting patients and their appointments; returns the outbox rows to enqueue."""
    async with container.uow(SYSTEM_CONTEXT) as uow:
        session = uow.session
        facility = (
            await session.execute(select(OrgUnitRow).where(OrgUnitRow.code == "CH-TZ"))
        ).scalar_one()
        service = (
            await session.execute(select(OrgUnitRow).where(OrgUnitRow.code == "CH-TZ-S1"))
        ).scalar_one()
        now = container.clock.now()
        sync = {"created_at": now, "updated_at": now, "origin_node": "bench", "version": 1}
        type_id = uuid7()
        await session.execute(
            insert(AppointmentTypeRow),
            [
                {
                    "id": type_id,
                    "facility_id": facility.id,
                    "service_id": service.id,
                    "code": "VAC",
                    "name": "Vaccination",
                    "duration_minutes": 10,
                    "buffer_before_minutes": 0,
                    "buffer_after_minutes": 0,
                    "resource_categories": [],
                    "min_notice_minutes": 0,
                    "max_advance_days": 180,
                    "self_bookable": True,
                    **sync,
                }
            ],
        )
        cipher, index = container.uow.cipher, container.uow.blind_index
        patients, phones, appointments, jobs = [], [], [], []
        settings = FacilityReminderSettings(time_zone="Africa/Nouakchott")
        languages = ("fr", "ar", "fr", "en")
        for i in range(n):
            patient_id, phone_id, appointment_id = uuid7(), uuid7(), uuid7()
            number = f"+2222{i:07d}"
            patients.append(
                {
                    "id": patient_id,
                    "mrn": f"BEN{i:08d}",
                    "unit_id": facility.id,
                    "unit_path": facility.path,
                    "given_names": f"Patient{i}",
                    "family_name": "Campagne",
                    "sex": "female" if i % 2 else "male",
                    "birth_year": 2020,
                    "birth_year_estimated": False,
                    "language": languages[i % len(languages)],
                    "sms_consent": True,
                    "status": "active",
                    "completeness": 50,
                    **sync,
                }
            )
            phones.append(
                {
                    "id": phone_id,
                    "patient_id": patient_id,
                    "number_enc": cipher.encrypt(number, f"patient_phone:{phone_id}:number"),
                    "number_bidx": index.digest(number, "patient.phone"),
                    "shared": False,
                    "label": None,
                    "rank": 0,
                    **sync,
                }
            )
            starts = start + timedelta(hours=2, seconds=(3600 * i) // n)
            ends = starts + timedelta(minutes=10)
            practitioner = uuid7()  # a campaign team per slot: the guard stays quiet
            appointments.append(
                {
                    "id": appointment_id,
                    "facility_id": facility.id,
                    "unit_path": facility.path,
                    "service_id": service.id,
                    "patient_id": patient_id,
                    "practitioner_id": practitioner,
                    "appointment_type_id": type_id,
                    "starts_at": starts,
                    "ends_at": ends,
                    "occupancy_start": starts,
                    "occupancy_end": ends,
                    "buffer_before_minutes": 0,
                    "buffer_after_minutes": 0,
                    "resource_ids": [],
                    "status": "booked",
                    "channel": "desk",
                    "booked_at": now,
                    "booked_by_kind": "reception",
                    "booked_by_id": "bench",
                    "note": "",
                    "history": [],
                    **sync,
                }
            )
            plan = plan_appointment_reminders(
                Appointment(
                    id=str(appointment_id),
                    facility_id=str(facility.id),
                    service_id=str(service.id),
                    patient_id=str(patient_id),
                    practitioner_id=str(practitioner),
                    appointment_type_id=str(type_id),
                    starts_at=starts,
                    ends_at=ends,
                    booked_at=now,
                    booked_by=Actor(ActorKind.RECEPTION, "bench"),
                ),
                settings,
                consents={"sms": True},
                now=now,
            )
            for item in plan:
                if item.status is ReminderStatus.SCHEDULED and item.offset == timedelta(hours=2):
                    jobs.append(
                        {
                            "id": uuid7(),
                            "name": "agenda.send_reminder",
                            "args": {
                                "appointment_id": str(appointment_id),
                                "idempotency_key": item.idempotency_key,
                                "channel": "sms",
                            },
                            "idempotency_key": item.idempotency_key,
                            "status": "pending",
                            "attempts": 0,
                            "max_attempts": 8,
                            "run_after": item.send_at,
                            "created_at": now,
                        }
                    )
        await _chunks(session, PatientRow, patients)
        await _chunks(session, PatientPhoneRow, phones)
        await _chunks(session, AppointmentRow, appointments)
        await uow.commit()
    return jobs, str(facility.id)


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="afiya-reminders-"))
    pg_name = None
    if args.backend == "postgresql":
        pg_name = f"afiya_bench_{uuid.uuid4().hex[:10]}"
        await _pg(f'CREATE DATABASE "{pg_name}"', args.pg_url)
        url = make_url(args.pg_url).set(database=pg_name).render_as_string(hide_password=False)
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    double = None
    try:
        await asyncio.to_thread(upgrade, url)
        day = datetime.now(UTC).date() + timedelta(days=2)
        campaign = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        clock = FixedClock(campaign - timedelta(days=1))  # booked the day before
        settings = Settings(
            env="test",
            node_id="bench",
            database_url=url,
            var_dir=tmp,
            jwt_secret="bench-secret-that-is-long-enough-0123456789abcdef",
            encryption_keys=KEYS,
            blind_index_key=BLIND,
            log_json=False,
            seed_demo_on_start=False,
        )
        container = build(settings, clock=clock)
        from afiya.adapters.crypto.passwords import Argon2PasswordHasher

        await seed_demo(container.uow, Argon2PasswordHasher(time_cost=1, memory_cost=1024))
        t0 = time.perf_counter()
        jobs, _ = await populate(container, args.n, campaign)
        setup_s = time.perf_counter() - t0
        assert len(jobs) == args.n, f"planned {len(jobs)} reminders for {args.n} appointments"

        t0 = time.perf_counter()
        async with container.uow(SYSTEM_CONTEXT) as uow:
            await _chunks(uow.session, JobRow, jobs)
            await uow.commit()
        enqueue_s = time.perf_counter() - t0

        if args.gateway == "console":
            gateway: Any = ConsoleSms(keep_last=10)
            gateway._log.disabled = True  # one log line per SMS is not what we measure
        else:
            double, base_url = _double()
            gateway = AfricasTalkingSms(
                username="sandbox",
                api_key="at-test-key",
                base_url=base_url,
                timeout=30,
                max_connections=args.concurrency,
            )
        container.extras["sms"] = gateway
        clock.current = campaign + timedelta(hours=1)  # every reminder of the hour is due

        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        batches = 0
        totals: dict[str, int] = {}
        while True:
            result = await drain_due_reminders(
                container, now=clock.now(), limit=args.batch, concurrency=args.concurrency
            )
            batches += 1
            for name in ("claimed", "sent", "failed", "skipped", "deferred", "retried"):
                totals[name] = totals.get(name, 0) + getattr(result, name)
            if result.claimed == 0:
                break
        send_s = time.perf_counter() - t0
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)

        async with container.uow(SYSTEM_CONTEXT) as uow:
            sent_rows = await uow.session.scalar(
                select(func.count())
                .select_from(ReminderDeliveryRow)
                .where(ReminderDeliveryRow.status == "sent")
            )
        if args.gateway == "double":
            await gateway.aclose()
        await container.close()

        load = os.getloadavg()
        print(f"backend={args.backend} gateway={args.gateway} n={args.n:,}")
        print(f"  set-up (patients, phones, appointments; not timed): {setup_s:.1f} s")
        print(
            f"  enqueue {len(jobs):,} outbox jobs: {enqueue_s:.2f} s "
            f"({len(jobs) / enqueue_s:,.0f} jobs/s)"
        )
        print(
            f"  send: {send_s:.1f} s in {batches} batches of {args.batch} "
            f"(concurrency {args.concurrency}) -> {totals.get('sent', 0) / send_s:,.0f} SMS/s"
        )
        print(f"  worker CPU {cpu:.1f} s ({cpu / max(send_s, 1e-9):.0%} of one core)")
        print(f"  outcome {totals}; delivery rows 'sent': {sent_rows:,}")
        print(f"  machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f}")
        if not sent_rows == args.n == totals.get("sent"):
            raise SystemExit(f"not every reminder was sent once: {sent_rows=} {totals=}")
        _ = UUID  # ids are UUIDv7 throughout
    finally:
        if double is not None:
            double.terminate()
            double.wait()
        if pg_name is not None:
            await _pg(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)', args.pg_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "AFIYA_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--gateway", choices=["double", "console"], default="double")
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=32)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
