"""Push and pull a million DHIS2 data values through the sync ledger, against the double.

Starts the DHIS2 test double on 127.0.0.1, builds a SQLite database (migrations, demo
country), links the demo units to the double, then measures, each phase once:

* build: write the figures into the figure table;
* push: the production path (plan job, then chunk jobs of 1,000 values through the
  in-process outbox queue, two at a time), until DHIS2 holds every value;
* push again: unchanged figures, so nothing is sent;
* pull: stream the same values back into the pulled-value table, with the payment check.

Prints values per second and the peak resident memory of this process after each phase
(the double runs in its own process). Run it once:

    .venv/bin/python benchmarks/dhis2_push_pull.py [--values 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from afiya.adapters.crypto.passwords import Argon2PasswordHasher  # noqa: E402
from afiya.adapters.db.migrate import upgrade_async  # noqa: E402
from afiya.adapters.seed.demo import SYSTEM_CONTEXT, seed_demo  # noqa: E402
from afiya.bootstrap import build  # noqa: E402
from afiya.domain.dhis2.connections import create_connection, create_mapping  # noqa: E402
from afiya.domain.dhis2.metadata_sync import sync_metadata  # noqa: E402
from afiya.domain.dhis2.periods import PeriodType  # noqa: E402
from afiya.domain.dhis2.pull import request_pull, run_pull  # noqa: E402
from afiya.domain.dhis2.push import request_push  # noqa: E402
from afiya.domain.dhis2.sync_model import (  # noqa: E402
    AuthKind,
    ConnectionSettings,
    Figure,
    MappingSettings,
    PullRequest,
    PushOptions,
    PushSelection,
)
from afiya.jobs.dhis2 import SYSTEM  # noqa: E402
from afiya.jobs.registry import handlers  # noqa: E402
from afiya.settings import Settings  # noqa: E402

ELEMENTS = [f"BenchDE{i:04d}" for i in range(10)]
DATA_SET = "BenchDS0001"
ROOT = "ImspTQPwCqd"
FIRST_DAY = date(2020, 1, 1)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_double() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.doubles.dhis2_server", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/__admin/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the DHIS2 double did not start")


def report(phase: str, values: int, seconds: float) -> None:
    rate = values / seconds if seconds else float("inf")
    print(
        f"{phase:<28} {values:>10,} values {seconds:>8.1f} s {rate:>10,.0f} values/s"
        f"   peak RSS {peak_mb():>6.0f} MB",
        flush=True,
    )


async def main(total: int) -> None:
    double, url = start_double()
    workdir = Path(tempfile.mkdtemp(prefix="afiya-bench-dhis2-"))
    db = f"sqlite+aiosqlite:///{workdir / 'afiya.db'}"
    await upgrade_async(db)
    settings = Settings(
        env="test",
        database_url=db,
        var_dir=workdir,
        jwt_secret="bench-secret-long-enough-for-hs256-0123456789abcdef",
        log_json=False,
        seed_demo_on_start=False,
    )
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    container = build(settings, hasher=hasher)
    container.runner.register_all(handlers())
    await seed_demo(container.uow, hasher)
    admin = httpx.AsyncClient(base_url=url, timeout=600)
    try:
        async with container.uow(SYSTEM_CONTEXT) as uow:
            units = [u for u in await uow.orgunits.list(_everything(), _query()) if u.level >= 3]
        per_unit_day = len(ELEMENTS)
        days = -(-total // (len(units) * per_unit_day))
        last_day = FIRST_DAY + timedelta(days=days - 1)
        (await admin.post("/__admin/config", json={"today": "2040-01-01"})).raise_for_status()
        (
            await admin.post(
                "/__admin/metadata",
                json={
                    "organisationUnits": [
                        {"id": u.uid, "code": u.code, "name": u.name, "parent": {"id": ROOT}}
                        for u in units
                    ],
                    "dataElements": [
                        {
                            "id": de,
                            "name": de,
                            "valueType": "INTEGER_POSITIVE",
                            "categoryCombo": {"id": "bjDvmb4bfuf"},
                        }
                        for de in ELEMENTS
                    ],
                    "dataSets": [
                        {
                            "id": DATA_SET,
                            "name": "Bench",
                            "periodType": "Daily",
                            "openFuturePeriods": 0,
                            "categoryCombo": {"id": "bjDvmb4bfuf"},
                            "dataSetElements": [{"dataElement": {"id": de}} for de in ELEMENTS],
                        }
                    ],
                },
            )
        ).raise_for_status()
        cid = await _link(container, url)
        print(
            f"{len(units)} units x {len(ELEMENTS)} data elements x {days} days"
            f" (Daily, {FIRST_DAY} to {last_day}); SQLite; 2 CPU cores shared with other work"
        )

        started = time.perf_counter()
        written = 0
        batch: list[Figure] = []
        async with container.uow(SYSTEM_CONTEXT) as uow:
            for offset in range(days):
                period = (FIRST_DAY + timedelta(days=offset)).strftime("%Y%m%d")
                for unit in units:
                    for n in range(len(ELEMENTS)):
                        if written >= total:
                            break
                        batch.append(Figure(f"bench.{n}", unit.id, period, str(1 + written % 997)))
                        written += 1
                if len(batch) >= 10_000 or written >= total:
                    await uow.dhis2.figures.upsert(batch)
                    batch = []
            await uow.commit()
        report("build (figure table)", written, time.perf_counter() - started)

        for label in ("push (plan + 1,000/chunk)", "push again (unchanged)"):
            started = time.perf_counter()
            run_id = await _push(container, cid, last_day)
            async with container.uow(SYSTEM_CONTEXT) as uow:
                run = await uow.dhis2.runs.get_run(run_id)
            assert run is not None
            assert run.status.value == "done", run
            report(label, written, time.perf_counter() - started)
            print(
                f"{'':<28} sent {run.total_values:,} in {run.total_chunks} chunks,"
                f" imported {run.totals.imported:,}, unchanged {run.plan.unchanged:,}"
            )
        counters = (await admin.get("/__admin/counters")).json()
        print(f"{'':<28} the double stores {counters['storedValues']:,} values")

        started = time.perf_counter()
        async with container.uow(SYSTEM_CONTEXT) as uow:
            pull = await request_pull(
                cid,
                PullRequest(DATA_SET, ROOT, start=FIRST_DAY, end=last_day),
                principal=SYSTEM,
                connections=uow.dhis2.connections,
                runs=uow.dhis2.runs,
                jobs=uow.jobs,
                audit=uow.audit,
                clock=container.clock,
            )
            done = await run_pull(
                pull.id,
                runs=uow.dhis2.runs,
                connections=uow.dhis2.connections,
                ledger=uow.dhis2.ledger,
                alerts=uow.dhis2.alerts,
                gateways=_opener(),
                clock=container.clock,
            )
            await uow.commit()
        assert done is not None
        report("pull (streamed, stored)", done.received, time.perf_counter() - started)
    finally:
        await admin.aclose()
        await container.close()
        double.terminate()
        try:
            double.wait(timeout=30)
        except subprocess.TimeoutExpired:
            double.kill()
            double.wait()


def _everything() -> Any:
    from afiya.domain.access.policy import Scope

    return Scope(("/",))


def _query() -> Any:
    from afiya.domain.orgunits.ports import OrgUnitQuery

    return OrgUnitQuery(limit=500)


def _opener() -> Any:
    from afiya.adapters.dhis2.connections import HttpGatewayOpener

    return HttpGatewayOpener()


async def _link(container: Any, url: str) -> Any:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        r = uow.dhis2
        connection = await create_connection(
            ConnectionSettings("bench", url, AuthKind.BASIC, username="admin", timeout_seconds=600),
            "district",
            principal=SYSTEM,
            connections=r.connections,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=container.clock,
        )
        await sync_metadata(
            connection.id,
            full=True,
            update_afiya_units=False,
            principal=SYSTEM,
            connections=r.connections,
            metadata=r.metadata,
            units=uow.orgunits,
            gateways=_opener(),
            audit=uow.audit,
            clock=container.clock,
        )
        for n, de in enumerate(ELEMENTS):
            await create_mapping(
                connection.id,
                MappingSettings(f"bench.{n}", PeriodType.DAILY, de, data_set=DATA_SET),
                principal=SYSTEM,
                connections=r.connections,
                metadata=r.metadata,
                mappings=r.mappings,
                audit=uow.audit,
            )
        await uow.commit()
    return connection.id


async def _push(container: Any, cid: Any, last_day: date) -> Any:
    await container.start()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        run = await request_push(
            cid,
            PushOptions(chunk_size=1000, concurrency=2),
            PushSelection(FIRST_DAY, last_day),
            principal=SYSTEM,
            connections=uow.dhis2.connections,
            runs=uow.dhis2.runs,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=container.clock,
        )
        await uow.commit()
    await container.queue.join()
    return run.id


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"DHIS2 push/pull benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    asyncio.run(main(args.values))
