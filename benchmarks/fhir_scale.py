"""FHIR at the issue's scale on PostgreSQL: 100,000 patients, 1,000,000 observations.

    .venv/bin/python benchmarks/fhir_scale.py                 # seed, measure, drop
    .venv/bin/python benchmarks/fhir_scale.py --keep          # seed, measure, keep the database
    .venv/bin/python benchmarks/fhir_scale.py --reuse         # measure a kept database again

Seeds database ``afiya_bench_fhir`` (created and dropped here unless ``--keep``) with the
demo country, the synthetic registry of ``benchmarks/patients_registry.py`` through the
bulk patient load path (NNI and phones encrypted, blind indexes, match keys, MRNs), and
``--per-patient`` clinical facts per patient: 7 vital signs (``clinical_observation``,
LOINC, canonical UCUM unit) and 3 lab results (``clinical_lab_result``: potassium,
haemoglobin, glucose with reference range and flag), written with COPY in the columns the
clinical repository fills (no column of these tables is encrypted). Like the patient
bulk path, the seed writes no change log and no per-row audit.

Then, through the real ASGI app in process (httpx ASGITransport: auth guard, permission,
facility scope, audit written at commit, JSON encoding) as ``demo.doctor`` (CH-TZ):

- Patient read, random ids of the doctor's facility (target p95 < 20 ms);
- Observation search ``patient`` + ``code`` (LOINC), random pairs (target p95 < 50 ms);
- transaction Bundle of 100 entries, 10 Bundles (target < 500 ms each): 1 Patient + 99
  Observations of it by ``urn:uuid`` when Observation create exists, else 100 Patients;
- batch import: Bundles of type ``batch`` with 500 Patients, resources/s (HAPI FHIR
  publishes about 2,200 resources/s on 8 vCPU).

Prints p50/p95/max with the machine's CPUs and load average. ``--profile`` runs cProfile
over one more round of each and prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import Table, event, func, select, text
from sqlalchemy.engine import make_url

from afiya.adapters.crypto.passwords import Argon2PasswordHasher
from afiya.adapters.db.migrate import upgrade
from afiya.adapters.db.models.clinical import LabResultRow, ObservationRow
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.db.models.patients import PatientRow
from afiya.adapters.db.repositories.patients_bulk import bulk_load_patients
from afiya.adapters.fhir.common import NNI_SYSTEM
from afiya.adapters.fhir.engine.catalog import REGISTRY
from afiya.adapters.seed.demo import SYSTEM_CONTEXT, seed_demo
from afiya.api.app import create_app
from afiya.bootstrap import build
from afiya.domain.access.policy import Principal, scope_of
from afiya.domain.orgunits.model import UnitKind
from afiya.domain.orgunits.ports import OrgUnitQuery
from afiya.domain.shared.ids import uuid7
from afiya.settings import Settings


def _sibling(name: str) -> Any:
    """Another benchmark script as a module (benchmarks/ is not a package)."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


fhir_api = _sibling("fhir_api")  # _pg_admin, DEMO_PASSWORD
registry = _sibling("patients_registry")  # synthetic(): the registry's population
timeline = _sibling("clinical_timeline")  # _stats(): p50/p95/max line, KEYS, BLIND

DB_NAME = "afiya_bench_fhir"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
NOW = datetime.now(UTC).replace(microsecond=0)
# (LOINC, canonical UCUM unit, low, high, decimals): the vital-sign catalogue's codes
VITALS = [
    ("8310-5", "Cel", 360, 395, 1),
    ("8867-4", "/min", 50, 120, 0),
    ("9279-1", "/min", 12, 30, 0),
    ("8480-6", "mm[Hg]", 90, 180, 0),
    ("8462-4", "mm[Hg]", 50, 110, 0),
    ("59408-5", "%", 88, 100, 0),
    ("29463-7", "kg", 30, 110, 0),
]
# (LOINC, name, unit, low, high, reference low, reference high, decimals scale)
LABS = [
    ("2823-3", "Potassium", "mmol/L", 30, 70, Decimal("3.5"), Decimal("5.1"), 10),
    ("718-7", "Hemoglobin", "g/dL", 70, 170, Decimal("12.0"), Decimal("16.0"), 10),
    ("2345-7", "Glucose", "mg/dL", 70, 250, Decimal(70), Decimal(110), 1),
]


def load_info() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


# --- seeding ---------------------------------------------------------------------------


def _table_columns(model: Any) -> tuple[str, list[str], Any]:
    table: Table = model.__table__
    names = [c.name for c in table.columns]
    return table.name, names, itemgetter(*names)


def _clinical_rows(
    patient_ids: list[uuid.UUID], per_patient: int, doctor: uuid.UUID, rng: random.Random
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows as the clinical repository writes them (``add_observations``,
    ``add_lab_result``), with the audit columns the change-log listener fills."""
    _, _, obs_row = _table_columns(ObservationRow)
    _, _, lab_row = _table_columns(LabResultRow)
    sync = {
        "created_by": doctor,
        "origin_node": "bench",
        "version": 1,
        "deleted_at": None,
    }
    vitals_each = round(per_patient * 0.7)
    observations, labs = [], []
    for pid in patient_ids:
        for k in range(per_patient):
            at = NOW - timedelta(minutes=rng.randint(10, 3 * 365 * 24 * 60))
            stamp = {"created_at": at, "updated_at": at, **sync}
            if k < vitals_each:
                code, unit, low, high, decimals = VITALS[k % len(VITALS)]
                value = Decimal(rng.randint(low, high))
                if decimals:
                    value = value / 10
                observations.append(
                    obs_row(
                        {
                            "id": uuid7(),
                            "patient_id": pid,
                            "encounter_id": None,
                            "code": code,
                            "value": value,
                            "unit": unit,
                            "occurred_at": at,
                            "recorded_by": doctor,
                            "entered_value": None,
                            "entered_unit": None,
                            "derived_from": "[]",
                            **stamp,
                        }
                    )
                )
            else:
                code, name, unit, low, high, ref_low, ref_high, scale = LABS[
                    (k - vitals_each) % len(LABS)
                ]
                value = Decimal(rng.randint(low, high)) / scale
                flag = "L" if value < ref_low else "H" if value > ref_high else "N"
                lab_id = uuid7()
                labs.append(
                    lab_row(
                        {
                            "id": lab_id,
                            "series_id": lab_id,
                            "result_version": 1,
                            "patient_id": pid,
                            "encounter_id": None,
                            "code": code,
                            "name": name,
                            "status": "final",
                            "observed_at": at - timedelta(hours=2),
                            "occurred_at": at,
                            "responsible_id": doctor,
                            "value": value,
                            "unit": unit,
                            "text": None,
                            "ref_unit": unit,
                            "ref_low": ref_low,
                            "ref_high": ref_high,
                            "critical_low": None,
                            "critical_high": None,
                            "flag": flag,
                            "previous_id": None,
                            **stamp,
                        }
                    )
                )
    return observations, labs


async def _copy_clinical(
    container: Any, patient_ids: list[uuid.UUID], per_patient: int, doctor: uuid.UUID
) -> int:
    """COPY the clinical facts, 10,000 patients at a time (bounded memory), one
    transaction."""
    rng = random.Random(2027)
    obs_table, obs_cols, _ = _table_columns(ObservationRow)
    lab_table, lab_cols, _ = _table_columns(LabResultRow)
    made = 0
    async with container.uow(SYSTEM_CONTEXT) as uow:
        connection = await uow.session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        for start in range(0, len(patient_ids), 10_000):
            chunk = patient_ids[start : start + 10_000]
            observations, labs = _clinical_rows(chunk, per_patient, doctor, rng)
            await raw.copy_records_to_table(obs_table, records=observations, columns=obs_cols)
            await raw.copy_records_to_table(lab_table, records=labs, columns=lab_cols)
            made += len(observations) + len(labs)
        await uow.session.commit()
    return made


async def seed(container: Any, patients: int, per_patient: int) -> None:
    await seed_demo(container.uow, container.hasher)
    everyone = Principal(uuid.UUID(int=0), "bench", frozenset({"data_manager"}), ("/",))
    async with container.uow(SYSTEM_CONTEXT) as uow:
        facilities = await uow.orgunits.list(
            scope_of(everyone), OrgUnitQuery(kind=UnitKind.FACILITY, limit=50)
        )
        doctor = await uow.users.get_by_username("demo.doctor")
    assert doctor is not None
    units = [(u.id, u.path) for u in facilities]
    sites = {u.id: (u.code, u.uid) for u in facilities}
    people = list(registry.synthetic(random.Random(2026), units, patients, NOW.year))
    started = time.perf_counter()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        await bulk_load_patients(
            uow.session,
            people,
            cipher=container.uow.cipher,
            index=container.uow.blind_index,
            node="bench",
            now=NOW,
            sites=sites,
        )
        await uow.session.commit()
    took = time.perf_counter() - started
    print(
        f"seed: {patients:,} patients (bulk path, {len(units)} facilities) in {took:.1f} s "
        f"({patients / took:,.0f}/s)"
    )
    ids = [p.id for p in people]
    del people
    started = time.perf_counter()
    made = await _copy_clinical(container, ids, per_patient, doctor.id)
    took = time.perf_counter() - started
    print(f"seed: {made:,} observations (vital signs + lab results, COPY) in {took:.1f} s")
    started = time.perf_counter()
    async with container.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM (ANALYZE)"))
    print(f"seed: VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s")


# --- measuring -------------------------------------------------------------------------


class Bench:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.json_headers = headers | {"Content-Type": "application/fhir+json"}

    async def get(self, url: str) -> float:
        started = time.perf_counter()
        response = await self.client.get(url, headers=self.headers)
        took = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:400]}")
        return took

    async def bundle(self, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        content = json.dumps(body)
        started = time.perf_counter()
        response = await self.client.post("/fhir/R4", headers=self.json_headers, content=content)
        took = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"Bundle: {response.status_code} {response.text[:600]}")
        return took, response.json()


_NAME_LETTERS = "bcdfgklmnprstvz"
_VOWELS = "aeiou"


def _new_person(rng: random.Random, serial: int, unit: uuid.UUID) -> dict[str, Any]:
    """A Patient nobody in the registry resembles (made-up names, a phone range the
    population does not use), so the duplicate check lets it through."""

    def word(n: int) -> str:
        return "".join(rng.choice(_NAME_LETTERS) + rng.choice(_VOWELS) for _ in range(n))

    number = 49_000_000 + serial % 1_000_000
    return {
        "resourceType": "Patient",
        "identifier": [{"system": NNI_SYSTEM, "value": f"{8_000_000_000 + serial}"}],
        "name": [{"family": word(4).capitalize(), "given": [word(3).capitalize()]}],
        "gender": rng.choice(["female", "male"]),
        "birthDate": f"{rng.randint(1940, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "telecom": [{"system": "phone", "value": f"+222{number:08d}"}],
        "managingOrganization": {"reference": f"Organization/{unit}"},
    }


_SINGLE_VITALS = [v for v in VITALS if v[0] not in ("8480-6", "8462-4")]
"""Blood pressure is a systolic + diastolic pair; the Bundle posts single vital signs."""


def _vital(rng: random.Random, subject: str, k: int) -> dict[str, Any]:
    code, unit, low, high, decimals = _SINGLE_VITALS[k % len(_SINGLE_VITALS)]
    value: float | int = rng.randint(low, high)
    if decimals:
        value = value / 10
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": subject},
        "effectiveDateTime": (NOW - timedelta(minutes=k)).isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


class Serial:
    """Numbers for new patients' NNI and phone: from the registry's size, which grows by
    exactly what the runs add, so a --reuse run never repeats an earlier one's."""

    def __init__(self, start: int) -> None:
        self.value = start
        self.rng = random.Random(start)  # new names each run, not the last run's again

    def next(self) -> int:
        self.value += 1
        return self.value


def transaction(
    rng: random.Random, serial: Serial, unit: uuid.UUID, observations: bool
) -> dict[str, Any]:
    entries = []
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    entries.append(
        {
            "fullUrl": patient_url,
            "resource": _new_person(rng, serial.next(), unit),
            "request": {"method": "POST", "url": "Patient"},
        }
    )
    for k in range(99):
        if observations:
            resource = _vital(rng, patient_url, k)
        else:
            resource = _new_person(rng, serial.next(), unit)
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def batch(rng: random.Random, serial: Serial, unit: uuid.UUID, size: int) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "resource": _new_person(rng, serial.next(), unit),
                "request": {"method": "POST", "url": "Patient"},
            }
            for _ in range(size)
        ],
    }


async def _subjects(container: Any, unit: uuid.UUID, n: int, rng: random.Random) -> Any:
    """Random patients of the facility, and random (patient, LOINC) pairs they have."""
    async with container.sessions() as session:
        ids = (
            (
                await session.execute(
                    select(PatientRow.id)
                    .where(PatientRow.unit_id == unit, PatientRow.deleted_at.is_(None))
                    .order_by(text("random()"))
                    .limit(n)
                )
            )
            .scalars()
            .all()
        )
        pairs = []
        for model, share in ((ObservationRow, 0.7), (LabResultRow, 0.3)):
            rows = await session.execute(
                select(model.patient_id, model.code)
                .join(PatientRow, PatientRow.id == model.patient_id)
                .where(PatientRow.unit_id == unit)
                .order_by(text("random()"))
                .limit(round(n * share))
            )
            pairs += [(str(p), c) for p, c in rows.all()]
    rng.shuffle(pairs)
    return [str(i) for i in ids], pairs


class Statements:
    """SQL statements sent by the app's engine (an executemany counts once), with the
    time each took from the driver's call to its answer (round trip included)."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        self.texts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self._started: list[float] = []
        self.cpu = time.process_time()
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.count += 1
        self._started.append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        key = " ".join(statement.split())[:100]
        self.texts[key] += 1
        if self._started:
            self.seconds[key] += time.perf_counter() - self._started.pop()

    def take(self, per: int) -> str:
        """Statements, their time and this process's CPU per request since the last take."""
        n, self.count = self.count, 0
        waited = sum(self.seconds.values())
        cpu, self.cpu = time.process_time() - self.cpu, time.process_time()
        self.texts.clear()
        self.seconds.clear()
        return (
            f"  per request: {n / per:.1f} SQL statements taking {waited / per * 1000:.1f} ms "
            f"(round trips), {cpu / per * 1000:.1f} ms CPU in this process (client and app)"
        )

    def top(self, k: int = 12) -> str:
        total = sum(self.seconds.values()) * 1000
        lines = [f"  {total:8.1f} ms in {sum(self.texts.values())} statements; by time:"]
        lines += [
            f"  {t * 1000:8.1f} ms {self.texts[sql]:6d}x  {sql}"
            for sql, t in self.seconds.most_common(k)
        ]
        return "\n".join(lines)


def _profiled(label: str, profile: cProfile.Profile) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(r"afiya/", 30)
    print(f"--- cProfile: {label} (own time, top 25; then Afiya's functions, cumulative) ---")
    print(out.getvalue())


async def measure(container: Any, args: argparse.Namespace) -> None:
    app = create_app(container, start_jobs=False)
    rng = random.Random(99)
    async with container.sessions() as session:
        unit = (
            await session.execute(select(OrgUnitRow.id).where(OrgUnitRow.code == "CH-TZ"))
        ).scalar_one()
        counts = {
            model.__tablename__: (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
            for model in (PatientRow, ObservationRow, LabResultRow)
        }
    print(
        f"database: {counts['patient']:,} patients, {counts['clinical_observation']:,} vital-sign "
        f"observations + {counts['clinical_lab_result']:,} lab results"
    )
    ids, pairs = await _subjects(container, unit, args.requests, rng)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        login = await client.post(
            "/api/v1/auth/login",
            json={"username": "demo.doctor", "password": fhir_api.DEMO_PASSWORD},
        )
        assert login.status_code == 200, login.text
        bench = Bench(client, {"Authorization": f"Bearer {login.json()['access_token']}"})
        sql = Statements(container.engine)
        for pid in ids[:20]:  # warm-up: connections, statement caches
            await bench.get(f"/fhir/R4/Patient/{pid}")
        for pid, code in pairs[:20]:
            await bench.get(f"/fhir/R4/Observation?patient=Patient/{pid}&code={LOINC}|{code}")

        print(f"[patient read] {load_info()}")
        sql.take(1)
        reads = [await bench.get(f"/fhir/R4/Patient/{pid}") for pid in ids]
        timeline._stats("GET Patient/{id} (target p95 < 20 ms)", reads)
        print(sql.take(len(reads)))

        print(f"[observation search] {load_info()}")
        searches = [
            await bench.get(f"/fhir/R4/Observation?patient=Patient/{pid}&code={LOINC}|{code}")
            for pid, code in pairs
        ]
        timeline._stats("Observation?patient&code (target p95 < 50 ms)", searches)
        print(sql.take(len(searches)))

        with_observations = REGISTRY["Observation"].create is not None
        shape = (
            "1 Patient + 99 Observations (urn:uuid references)"
            if with_observations
            else "100 Patients (Observation create is not served yet)"
        )
        print(f"[transaction] {load_info()}; each Bundle: {shape}")
        serial = Serial(counts["patient"])
        transactions = []
        for _ in range(args.bundles):
            took, answer = await bench.bundle(
                transaction(serial.rng, serial, unit, with_observations)
            )
            statuses = {e["response"]["status"] for e in answer["entry"]}
            assert statuses == {"201"}, statuses
            transactions.append(took)
        timeline._stats("transaction Bundle, 100 entries (target < 500 ms)", transactions)
        print(sql.take(len(transactions)))

        print(f"[batch import] {load_info()}")
        batches, stored, refused = [], 0, Counter[str]()
        for _ in range(args.batches):
            took, answer = await bench.bundle(batch(serial.rng, serial, unit, args.batch_size))
            created = sum(1 for e in answer["entry"] if e["response"]["status"] == "201")
            stored += created
            for e in answer["entry"]:
                if e["response"]["status"] != "201":
                    issue = e["response"].get("outcome", {}).get("issue", [{}])[0]
                    refused[f"{e['response']['status']} {issue.get('code')}"] += 1
            batches.append(took)
        timeline._stats(f"batch Bundle of {args.batch_size} Patients", batches)
        print(sql.take(len(batches)))
        total = sum(batches)
        print(
            f"  batch import: {stored:,} of {args.batch_size * args.batches:,} Patients stored, "
            f"{stored / total:,.0f} resources/s on one process "
            f"(HAPI FHIR publishes ~2,200/s on 8 vCPU)"
        )
        if refused:
            print(f"  refused entries: {dict(refused)}")

        if args.profile:
            await _profile(bench, sql, ids, pairs, serial, unit, with_observations)


async def _profile(bench, sql, ids, pairs, serial, unit, with_observations) -> None:
    for label, work in (
        (
            "Patient read x100",
            [lambda pid=pid: bench.get(f"/fhir/R4/Patient/{pid}") for pid in ids[:100]],
        ),
        (
            "Observation search x100",
            [
                lambda pid=pid, code=code: bench.get(
                    f"/fhir/R4/Observation?patient=Patient/{pid}&code={LOINC}|{code}"
                )
                for pid, code in pairs[:100]
            ],
        ),
        (
            "transaction Bundle x2",
            [lambda: bench.bundle(transaction(serial.rng, serial, unit, with_observations))] * 2,
        ),
        (
            "batch Bundle of 100 Patients x1",
            [lambda: bench.bundle(batch(serial.rng, serial, unit, 100))],
        ),
    ):
        sql.take(1)
        profile = cProfile.Profile()
        profile.enable()
        for step in work:
            await step()
        profile.disable()
        _profiled(label, profile)
        print(f"--- SQL statements of {label}, most frequent ---\n{sql.top()}")


def _var_dir(name: str) -> Path:
    """The app's var dir for this database (fixed, so --reuse finds it)."""
    var = Path(tempfile.gettempdir()) / f"afiya-bench-{name}"
    var.mkdir(exist_ok=True)
    return var


async def run(args: argparse.Namespace) -> None:
    admin = args.pg_url
    url = make_url(admin).set(database=args.db).render_as_string(hide_password=False)
    if not args.reuse:
        await fhir_api._pg_admin(admin, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        await fhir_api._pg_admin(admin, f'CREATE DATABASE "{args.db}"')
    var = await asyncio.to_thread(_var_dir, args.db)
    container = None
    try:
        if not args.reuse:
            await asyncio.to_thread(upgrade, url)
        settings = Settings(
            env="test",
            node_id="bench",
            database_url=url,
            var_dir=var,
            jwt_secret="x" * 64,
            encryption_keys=timeline.KEYS,  # fixed keys: a kept database stays readable
            blind_index_key=timeline.BLIND,
            seed_demo_on_start=False,
            log_json=False,
        )
        hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        container = build(settings, hasher=hasher)
        if not args.reuse:
            await seed(container, args.patients, args.per_patient)
        await measure(container, args)
    finally:
        if container is not None:
            await container.close()
        if args.keep or args.reuse:
            print(f"kept database {args.db} (measure again with --reuse)")
        else:
            await fhir_api._pg_admin(admin, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--per-patient", type=int, default=10, help="observations per patient")
    parser.add_argument("--requests", type=int, default=500, help="reads and searches each")
    parser.add_argument("--bundles", type=int, default=10, help="transaction Bundles")
    parser.add_argument("--batches", type=int, default=5, help="batch Bundles")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--db", default=DB_NAME)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database only")
    parser.add_argument("--profile", action="store_true", help="cProfile one more round")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "AFIYA_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    if "127.0.0.1" not in args.pg_url and "localhost" not in args.pg_url:
        parser.error("the benchmark runs against a local PostgreSQL only")
    print(f"fhir_scale: Python {sys.version.split()[0]}, {load_info()}")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
