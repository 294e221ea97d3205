"""FHIR API latency over HTTP: Patient read and searches, p50/p95, with N patients.

    .venv/bin/python benchmarks/fhir_api.py --backend sqlite --n 10000
    .venv/bin/python benchmarks/fhir_api.py --backend postgresql --n 10000

The app runs in process behind httpx's ASGI transport (full Litestar stack: auth guard,
permission, scope, audit written at commit, JSON encoding), so the figures are the
server's, without a network. The registry is the synthetic population of
``benchmarks/patients_registry.py`` (bulk-loaded), spread over the demo facilities; the
caller is ``demo.data_manager`` (country scope, patients:read). The database is created
for the run and dropped at the end. Prints each figure with the registry size.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from afiya.adapters.crypto.passwords import Argon2PasswordHasher
from afiya.adapters.db.migrate import upgrade
from afiya.adapters.db.repositories.patients_bulk import bulk_load_patients
from afiya.adapters.fhir.common import NNI_SYSTEM
from afiya.adapters.seed.demo import SYSTEM_CONTEXT, seed_demo
from afiya.api.app import create_app
from afiya.bootstrap import build
from afiya.domain.access.policy import Principal, scope_of
from afiya.domain.orgunits.model import UnitKind
from afiya.domain.orgunits.ports import OrgUnitQuery
from afiya.settings import Settings

DEMO_PASSWORD = "Afiya-demo-2026"


def _population_module():
    path = Path(__file__).with_name("patients_registry.py")
    spec = importlib.util.spec_from_file_location("patients_registry_population", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _timed(client: httpx.AsyncClient, url: str, headers: dict[str, str], n: int, make):
    samples = []
    for i in range(n):
        target = make(i)
        started = time.perf_counter()
        response = await client.get(url + target, headers=headers)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url}{target}: {response.status_code} {response.text[:300]}")
    return samples


async def run(backend: str, n: int, requests: int, pg_url: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="afiya-fhir-bench-"))
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'fhir.db'}"
    else:
        from sqlalchemy.engine import make_url

        pg_name = f"afiya_fhirbench_{uuid.uuid4().hex[:8]}"
        await _pg_admin(pg_url, f'CREATE DATABASE "{pg_name}"')
        url = make_url(pg_url).set(database=pg_name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url)
        settings = Settings(
            env="test",
            node_id="bench",
            database_url=url,
            var_dir=tmp,
            jwt_secret="x" * 40,
            seed_demo_on_start=False,
            log_json=False,
        )
        hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        container = build(settings, hasher=hasher)
        await seed_demo(container.uow, hasher)
        everyone = Principal(uuid.UUID(int=0), "bench", frozenset({"data_manager"}), ("/",))
        async with container.uow(SYSTEM_CONTEXT) as uow:
            facilities = await uow.orgunits.list(
                scope_of(everyone), OrgUnitQuery(kind=UnitKind.FACILITY, limit=50)
            )
        units = [(u.id, u.path) for u in facilities]
        sites = {u.id: (u.code, u.uid) for u in facilities}
        rng = random.Random(2026)
        people = list(_population_module().synthetic(rng, units, n, 2025))
        started = time.perf_counter()
        async with container.uow(SYSTEM_CONTEXT) as uow:
            await bulk_load_patients(
                uow.session,
                people,
                cipher=container.uow.cipher,
                index=container.uow.blind_index,
                node="bench",
                now=datetime.now(UTC),
                sites=sites,
            )
            await uow.session.commit()
        print(
            f"[{backend}] registry: {n:,} patients loaded in {time.perf_counter() - started:.1f} s"
        )
        if backend == "postgresql":
            from sqlalchemy import text

            async with container.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM (ANALYZE)"))
        app = create_app(container, start_jobs=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.post(
                "/api/v1/auth/login",
                json={"username": "demo.data_manager", "password": DEMO_PASSWORD},
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            ids = [str(p.id) for p in rng.sample(people, min(requests, len(people)))]
            with_nni = [p for p in people if p.nni]
            families = [p.family_name.split()[-1][:4] for p in rng.sample(people, requests)]
            # Warm-up: every sampled record once (both measured reads then find it cached).
            await _timed(client, "/api/v1/patients/", headers, len(ids), lambda i: ids[i])
            await _timed(client, "/fhir/R4/Patient/", headers, 20, lambda i: ids[i])
            figures = {
                "Patient read (GET /Patient/{id})": await _timed(
                    client, "/fhir/R4/Patient/", headers, len(ids), lambda i: ids[i]
                ),
                "/api/v1 read, for comparison": await _timed(
                    client, "/api/v1/patients/", headers, len(ids), lambda i: ids[i]
                ),
                "search identifier=NNI": await _timed(
                    client,
                    "/fhir/R4/Patient",
                    headers,
                    requests,
                    lambda i: f"?identifier={NNI_SYSTEM}|{with_nni[i % len(with_nni)].nni}",
                ),
                "search family=<prefix>&_count=20": await _timed(
                    client,
                    "/fhir/R4/Patient",
                    headers,
                    requests,
                    lambda i: f"?family={families[i]}&_count=20",
                ),
                "search gender+birthdate=<year>&_count=20": await _timed(
                    client,
                    "/fhir/R4/Patient",
                    headers,
                    requests,
                    lambda i: f"?gender=female&birthdate={1940 + i % 80}&_count=20",
                ),
            }
        for name, samples in figures.items():
            print(
                f"[{backend}] {name}: p50 {pct(samples, 50):.1f} ms, p95 {pct(samples, 95):.1f} ms"
                f" ({len(samples)} requests, {n:,} patients)"
            )
        await container.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if pg_name:
            await _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "AFIYA_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    print(f"fhir_api: {os.cpu_count()} CPUs (shared), Python {sys.version.split()[0]}")
    asyncio.run(run(args.backend, args.n, args.requests, args.pg_url))


if __name__ == "__main__":
    main()
