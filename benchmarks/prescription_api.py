"""Create-prescription API latency (p50/p95) for a patient with 20 active medications,
5 allergies and 10 problems, on PostgreSQL (or SQLite).

    .venv/bin/python benchmarks/prescription_api.py --backend postgresql --requests 300

The app runs in process behind httpx's ASGI transport (full Litestar stack: auth guard,
permission, scope, the record read from the clinical tables, the safety engine on every
line, the insert of the prescription and its lines with the change log, the audit event
written at commit, JSON encoding), so the figures are the server's, without a network.
The record is built through the API: 10 problems, 5 allergies, a weight, 20 one-line
active prescriptions (overridden where the engine objects). Each measured call writes a
one-line active prescription of another oral product (with an override reason, so that
a contraindicated product is stored too); it is then stopped, outside the timing, so the
patient keeps exactly 20 active medications. The database is created for the run and
dropped at the end; the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from afiya.adapters.crypto.passwords import Argon2PasswordHasher
from afiya.adapters.db.migrate import upgrade
from afiya.adapters.knowledge import FORMULARY_FILE, load_formulary
from afiya.adapters.seed.demo import seed_demo
from afiya.api.app import create_app
from afiya.bootstrap import build
from afiya.settings import Settings

DEMO_PASSWORD = "Afiya-demo-2026"
PROBLEMS = [
    ("diabetes", "E11.9"),
    ("hypertension", "I10"),
    ("hiv", "B20"),
    ("asthma", "J45.9"),
    ("epilepsy", "G40.9"),
    ("chronic_kidney_disease", "N18.3"),
    ("heart_failure", "I50.9"),
    ("tuberculosis", "A15.0"),
    ("hepatitis_b", "B18.1"),
    ("other", "K29.7"),
]
ALLERGIES = ["benzylpenicillin", "sulfamethoxazole", "codeine", "carbamazepine", "chloroquine"]


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout


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


async def _login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _ok(response: httpx.Response) -> dict:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:400]}")
    return response.json()


def _line(code: str) -> dict:
    return {
        "kind": "medication",
        "medication": {"product_code": code, "route": "oral", "frequency_per_day": 2},
        "override_reason": "benchmark",
    }


async def _patient(client: httpx.AsyncClient) -> str:
    clerk = await _login(client, "demo.receptionist")
    units = _ok(await client.get("/api/v1/org-units/", params={"limit": 200}, headers=clerk))
    unit = next(u["id"] for u in units["items"] if u.get("code") == "CH-TZ")
    body = {
        "unit_id": unit,
        "given_names": "Mohamed",
        "family_name": "Ould Bench",
        "sex": "male",
        "birth_date": "1961-03-02",
        "phones": [{"number": "+22245252135"}],
        "confirm_new_person": True,
        "confirm_reason": "benchmark",
    }
    return str(_ok(await client.post("/api/v1/patients/", json=body, headers=clerk))["id"])


async def run(backend: str, requests: int, pg_url: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="afiya-rx-bench-"))
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'rx.db'}"
    else:
        from sqlalchemy.engine import make_url

        pg_name = f"afiya_rxbench_{uuid.uuid4().hex[:8]}"
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
        oral = [p.code for p in load_formulary(FORMULARY_FILE) if "oral" in p.routes]
        active, measured = oral[:20], oral[20:]
        app = create_app(container, start_jobs=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            patient = await _patient(client)
            doctor = await _login(client, "demo.doctor")
            for kind, code in PROBLEMS:
                _ok(
                    await client.post(
                        f"/api/v1/patients/{patient}/problems",
                        json={"kind": kind, "code": code},
                        headers=doctor,
                    )
                )
            for substance in ALLERGIES:
                _ok(
                    await client.post(
                        f"/api/v1/patients/{patient}/allergies",
                        json={
                            "type": "allergy",
                            "category": "medication",
                            "substance": {
                                "system": "ingredient",
                                "code": substance,
                                "display": substance,
                            },
                            "criticality": "high",
                            "verification": "confirmed",
                        },
                        headers=doctor,
                    )
                )
            from datetime import UTC, datetime, timedelta

            _ok(
                await client.post(
                    f"/api/v1/patients/{patient}/observations",
                    json={
                        "effective_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                        "readings": [{"code": "weight", "value": 72}],
                    },
                    headers=doctor,
                )
            )
            for code in active:
                _ok(
                    await client.post(
                        "/api/v1/prescriptions",
                        json={"patient_id": patient, "lines": [_line(code)]},
                        headers=doctor,
                    )
                )
            if backend == "postgresql":
                from sqlalchemy import text

                async with container.engine.connect() as conn:
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(text("VACUUM (ANALYZE)"))
            samples: list[float] = []
            alerts = 0
            for i in range(requests + 20):
                body = {"patient_id": patient, "lines": [_line(measured[i % len(measured)])]}
                started = time.perf_counter()
                response = await client.post("/api/v1/prescriptions", json=body, headers=doctor)
                elapsed = time.perf_counter() - started
                created = _ok(response)
                if i >= 20:  # the first calls warm the caches (knowledge base, statements)
                    samples.append(elapsed)
                    alerts += len(created["lines"][0]["alerts"])
                _ok(
                    await client.post(
                        f"/api/v1/prescriptions/{created['id']}/stop",
                        json={"reason": "benchmark"},
                        headers=doctor,
                    )
                )
            # the same stack on a small write of the clinical record, for comparison
            baseline: list[float] = []
            for i in range(requests // 2):
                body = {
                    "effective_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
                    "readings": [{"code": "pulse", "value": 60 + i % 40}],
                }
                started = time.perf_counter()
                _ok(
                    await client.post(
                        f"/api/v1/patients/{patient}/observations", json=body, headers=doctor
                    )
                )
                baseline.append(time.perf_counter() - started)
            listed = _ok(
                await client.get(f"/api/v1/patients/{patient}/prescriptions", headers=doctor)
            )
            still_active = sum(1 for p in listed if p["status"] == "active")
        uptime = (await asyncio.to_thread(_uptime)).strip()
        print(
            f"[{backend}] POST /api/v1/prescriptions (1 line): p50 {pct(samples, 50):.1f} ms, "
            f"p95 {pct(samples, 95):.1f} ms, max {max(samples) * 1000:.1f} ms "
            f"({len(samples)} calls; patient with {still_active} active medications, "
            f"{len(ALLERGIES)} allergies, {len(PROBLEMS)} problems; "
            f"{alerts / len(samples):.1f} alerts per call)"
        )
        print(
            f"[{backend}] for comparison, POST /api/v1/patients/{{id}}/observations (1 pulse): "
            f"p50 {pct(baseline, 50):.1f} ms, p95 {pct(baseline, 95):.1f} ms "
            f"({len(baseline)} calls)"
        )
        print(f"[{backend}] uptime: {uptime}; cpus {os.cpu_count()}")
        await container.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if pg_name:
            await _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "AFIYA_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    asyncio.run(run(args.backend, args.requests, args.pg_url))


if __name__ == "__main__":
    main()
