"""Benchmark: USSD callback latency, as Africa's Talking calls it; prints percentiles.

A migrated, demo-seeded database (SQLite by default) gets a facility agenda, a patient
reachable at one phone number with a PIN (argon2id with the OWASP production
parameters) and an appointment. Then S sessions are dialled through the real
application (Litestar, the USSD channel route, the menus, the database services),
in process over ASGI (no network), each exactly as the gateway does: form-encoded POSTs
with a growing ``text``:

    ""  ->  "1" (French)  ->  "1*1" (my appointment: PIN asked)
        ->  "1*1*<PIN>" (PIN checked, appointment read and shown)  ->  "1*1*<PIN>*00"

Latency is measured around each POST (routing, callback secret, session store,
lockout row, menus, queries, audit, commit). Identification is reported apart: it
verifies an argon2id hash on purpose (~20 ms of CPU on a fast core).

    .venv/bin/python benchmarks/ussd_latency.py                   # 200 sessions, SQLite
    .venv/bin/python benchmarks/ussd_latency.py --sessions 500 --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from afiya.adapters.crypto.passwords import Argon2PasswordHasher  # noqa: E402
from afiya.adapters.db.migrate import upgrade  # noqa: E402
from afiya.adapters.seed.demo import seed_demo  # noqa: E402
from afiya.api.app import create_app  # noqa: E402
from afiya.bootstrap import build  # noqa: E402
from afiya.channels.sms_ussd.http import ROUTES  # noqa: E402
from afiya.domain.shared.clock import FixedClock  # noqa: E402
from afiya.settings import Settings  # noqa: E402
from tests.api.messaging.helpers import SECRET, book_for_patient, set_pin  # noqa: E402
from tests.conftest import asgi_client, login  # noqa: E402

KEYS = "b1:" + "QUZJWUEtYmVuY2gta2V5LTMyLWJ5dGVzLWxvbmctMDA="
BLIND = "QUZJWUEtYmVuY2gtYmxpbmQta2V5LTMyLWJ5dGVzLTA="
PHONE = "+22236123456"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"  {name:<28} n={len(ms):>5}  p50 {percentile(ms, 50):6.1f} ms  "
        f"p95 {percentile(ms, 95):6.1f} ms  p99 {percentile(ms, 99):6.1f} ms  "
        f"mean {statistics.fmean(ms):6.1f} ms"
    )


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


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="afiya-ussd-"))
    pg_name = None
    if args.backend == "postgresql":
        pg_name = f"afiya_bench_{uuid.uuid4().hex[:10]}"
        await _pg(f'CREATE DATABASE "{pg_name}"', args.pg_url)
        url = make_url(args.pg_url).set(database=pg_name).render_as_string(hide_password=False)
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    try:
        await asyncio.to_thread(upgrade, url)
        day = datetime.now(UTC).date() + timedelta(days=1)
        clock = FixedClock(datetime(day.year, day.month, day.day, 7, 30, tzinfo=UTC))
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
            sms_callback_secret=SECRET,
        )
        # Production argon2id parameters for the PIN; cheap ones only to seed demo users.
        container = build(settings, clock=clock, hasher=Argon2PasswordHasher())
        await seed_demo(container.uow, Argon2PasswordHasher(time_cost=1, memory_cost=1024))
        app = create_app(container, start_jobs=False)
        for route in ROUTES:
            app.register(route)
        async with asgi_client(app) as client:
            desk = await login(client, "demo.receptionist")
            ids = await book_for_patient(client, container, desk)
            await set_pin(client, desk, ids["patient"], "4321")
            menus: list[float] = []
            identify: list[float] = []
            every: list[float] = []
            steps = ["", "1", "1*1", "1*1*4321", "1*1*4321*00"]
            started = time.perf_counter()
            for session in range(args.sessions):
                for text in steps:
                    t0 = time.perf_counter()
                    response = await client.post(
                        "/ussd/africastalking",
                        params={"key": SECRET},
                        data={
                            "sessionId": f"ATUid_bench_{session}",
                            "serviceCode": "*384*123#",
                            "phoneNumber": PHONE,
                            "networkCode": "60901",
                            "text": text,
                        },
                    )
                    elapsed = time.perf_counter() - t0
                    if response.status_code != 200 or not response.text.startswith("CON "):
                        raise SystemExit(f"unexpected answer to {text!r}: {response.text}")
                    every.append(elapsed)
                    (identify if text.endswith("4321") else menus).append(elapsed)
            wall = time.perf_counter() - started
        await container.close()
        load = os.getloadavg()
        print(f"backend={args.backend} sessions={args.sessions} callbacks={len(every)}")
        print(line("every callback", every))
        print(line("menus (no PIN check)", menus))
        print(line("identification (argon2id)", identify))
        print(f"  {len(every) / wall:,.0f} callbacks/s sequentially, one process")
        print(f"  machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f}")
    finally:
        if pg_name is not None:
            await _pg(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)', args.pg_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "AFIYA_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
