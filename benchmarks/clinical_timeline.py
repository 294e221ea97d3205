"""Timeline page latency for a patient with 5,000 clinical events, on SQLite or PostgreSQL.

Builds a migrated database with the demo country, one patient with 5,000 events spread
over the timeline's sources (encounter steps, observations, diagnoses, problems,
allergies, notes, lab results, documents) over five years, plus other patients' events
(``--noise`` observations) so that the index has to select. Then it times, through the
use case (authorisation, the UNION ALL keyset query, summaries, audit commit):

- the first page (50 items, newest first), ``--repeat`` times: p50, p95, max;
- every later page, walking the whole timeline by cursor: p50, p95, max;
- a filtered first page (results only, one year).

    .venv/bin/python benchmarks/clinical_timeline.py --backend sqlite
    .venv/bin/python benchmarks/clinical_timeline.py --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from afiya.adapters.crypto.passwords import Argon2PasswordHasher
from afiya.adapters.db.migrate import upgrade_async
from afiya.adapters.db.models.clinical import ObservationRow
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.db.models.patients import PatientRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT, seed_demo
from afiya.bootstrap import build
from afiya.domain.access.policy import Principal
from afiya.domain.clinical import use_cases
from afiya.domain.clinical.allergies import (
    Allergy,
    AllergyCategory,
    AllergyRecord,
    AllergyType,
    Criticality,
    Substance,
    SubstanceSystem,
    Verification,
)
from afiya.domain.clinical.diagnoses import Certainty, Diagnosis, DiagnosisRank
from afiya.domain.clinical.encounters import (
    DischargeMode,
    EncounterKind,
    discharge,
    start_encounter,
)
from afiya.domain.clinical.measurements import Observation
from afiya.domain.clinical.notes import ClinicalNote, NoteKind, NoteSections
from afiya.domain.clinical.ports import EncounterStep, StoredDocument
from afiya.domain.clinical.problems import Problem, ProblemKind, ProblemStatus
from afiya.domain.clinical.results import Flag, LabResult, ResultStatus
from afiya.domain.clinical.timeline import ItemType, make_query
from afiya.domain.shared.ids import uuid7
from afiya.settings import Settings

FAST = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
KEYS = "t1:" + "QUZJWUEtdGVzdC1rZXktMzItYnl0ZXMtbG9uZy0wMDA="
BLIND = "QUZJWUEtdGVzdC1ibGluZC1pbmRleC1rZXktMzItYnk="
SEED = 4
NOW = datetime.now(UTC).replace(microsecond=0)
DOCTOR = uuid.UUID(int=7)


class _Never:
    def is_valid(self, code: str) -> bool:  # codes below are all valid WHO ICD-10 ones
        return True

    def label(self, code: str, language: str) -> str:
        return code

    def has_labels(self, language: str) -> bool:
        return False


def _times(rng: random.Random, count: int) -> list[datetime]:
    return sorted(NOW - timedelta(minutes=rng.randint(10, 5 * 365 * 24 * 60)) for _ in range(count))


async def _fill(factory, patient_id: uuid.UUID, unit_id: uuid.UUID, rng: random.Random) -> int:
    """5,000 events for the patient, through the repository (change log included)."""
    made, last_encounter = 0, uuid.UUID(int=0)
    async with factory(SYSTEM_CONTEXT) as uow:
        repo = uow.clinical
        for start in _times(rng, 100):  # 100 encounters: start + discharge = 200 steps
            enc = start_encounter(
                id=uuid7(),
                patient_id=patient_id,
                unit_id=unit_id,
                kind=EncounterKind.OUTPATIENT,
                started_at=start,
                reason="Consultation",
                attending_id=DOCTOR,
                now=NOW,
            )
            await repo.add_encounter(enc)
            last_encounter = enc.id
            closed = discharge(
                enc,
                at=start + timedelta(minutes=40),
                mode=DischargeMode.HOME,
                now=NOW,
                catalogue=_Never(),
            )
            await repo.save_encounter(closed, EncounterStep("discharge", closed.ended_at or start))
            await repo.save_diagnoses(
                [
                    Diagnosis(
                        uuid7(),
                        patient_id,
                        enc.id,
                        "B54",
                        DiagnosisRank.PRIMARY,
                        Certainty.CONFIRMED,
                        start + timedelta(minutes=20),
                        DOCTOR,
                    )
                ]
            )
            made += 3
        codes = [("8867-4", "/min", 60, 120), ("59408-5", "%", 90, 100), ("8310-5", "Cel", 36, 40)]
        observations = []
        for at in _times(rng, 3_000):
            code, unit, low, high = rng.choice(codes)
            observations.append(
                Observation(
                    uuid7(),
                    patient_id,
                    None,
                    code,
                    Decimal(rng.randint(low, high)),
                    unit,
                    at,
                    DOCTOR,
                )
            )
        await repo.add_observations(observations)
        made += len(observations)
        for at in _times(rng, 800):
            value = Decimal(rng.randint(30, 70)) / 10
            await repo.add_lab_result(
                LabResult(
                    uuid7(),
                    patient_id,
                    None,
                    "2823-3",
                    "Potassium",
                    ResultStatus.FINAL,
                    at - timedelta(hours=1),
                    at,
                    DOCTOR,
                    value,
                    "mmol/L",
                    flag=Flag.HIGH if value > Decimal("5.1") else Flag.NORMAL,
                ),
                uuid7(),
            )
        made += 800
        for at in _times(rng, 600):
            note_id = uuid7()
            await repo.add_note(
                ClinicalNote(
                    note_id,
                    note_id,
                    1,
                    patient_id,
                    None,
                    NoteKind.PROGRESS,
                    NoteSections(assessment="Stable", plan="Poursuivre"),
                    DOCTOR,
                    at,
                    DOCTOR,
                )
            )
        made += 600
        for at in _times(rng, 50):
            await repo.save_problem(
                Problem(
                    uuid7(), patient_id, ProblemKind.OTHER, "I10", ProblemStatus.ACTIVE, at, DOCTOR
                )
            )
        made += 50
        allergies = tuple(
            Allergy(
                uuid7(),
                patient_id,
                AllergyType.ALLERGY,
                AllergyCategory.MEDICATION,
                Substance(SubstanceSystem.INGREDIENT, f"drug-{i}", f"Drug {i}"),
                Criticality.LOW,
                Verification.UNCONFIRMED,
                at,
                DOCTOR,
            )
            for i, at in enumerate(_times(rng, 50))
        )
        await repo.save_allergy_record(AllergyRecord(patient_id, allergies))
        made += 50
        for at in _times(rng, 5_000 - made):
            await repo.add_document(
                StoredDocument(
                    uuid7(),
                    patient_id,
                    last_encounter,
                    "discharge_letter",
                    "fr",
                    f"clinical/documents/{uuid7()}.pdf",
                    "application/pdf",
                    1000,
                    "0" * 64,
                    at,
                    DOCTOR,
                )
            )
        await uow.commit()
    return 5_000


async def _noise(factory, patients: list[uuid.UUID], per_patient: int, rng: random.Random) -> int:
    """Other patients' observations, bulk-inserted (the index must select)."""
    rows = []
    for pid in patients:
        for at in _times(rng, per_patient):
            rows.append(
                {
                    "id": uuid7(),
                    "patient_id": pid,
                    "code": "8867-4",
                    "value": Decimal(80),
                    "unit": "/min",
                    "occurred_at": at,
                    "recorded_by": DOCTOR,
                    "derived_from": [],
                    "created_at": NOW,
                    "updated_at": NOW,
                    "origin_node": "bench",
                    "version": 1,
                }
            )
    async with factory(SYSTEM_CONTEXT) as uow:
        for i in range(0, len(rows), 5_000):
            await uow.session.execute(insert(ObservationRow), rows[i : i + 5_000])
        await uow.session.commit()
    return len(rows)


async def _patients(factory, unit: OrgUnitRow, count: int) -> list[uuid.UUID]:
    ids = []
    async with factory(SYSTEM_CONTEXT) as uow:
        for i in range(count):
            pid = uuid7()
            uow.session.add(
                PatientRow(
                    id=pid,
                    mrn=f"BENCH{i:07d}",
                    unit_id=unit.id,
                    unit_path=unit.path,
                    given_names="Bench",
                    family_name=f"Patient {i}",
                    sex="female",
                )
            )
            ids.append(pid)
        await uow.commit()
    return ids


def _stats(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(
        f"  {label:<44} n={len(ms):>4}  p50 {statistics.median(ms):6.1f} ms"
        f"  p95 {p95:6.1f} ms  max {ms[-1]:6.1f} ms"
    )


async def _page(factory, principal, patient_id, query):
    started = time.perf_counter()
    async with factory(SYSTEM_CONTEXT, read_only=True) as uow:
        page = await use_cases.patient_timeline(
            patient_id, query, principal=principal, clinical=uow.clinical, audit=uow.audit
        )
        await uow.commit()  # the read's audit event is written here
    return time.perf_counter() - started, page


async def _query_only(factory, patient_id, query):
    started = time.perf_counter()
    async with factory(SYSTEM_CONTEXT, read_only=True) as uow:
        page = await uow.clinical.timeline(patient_id, query)
        await uow.session.rollback()
    return time.perf_counter() - started, page


async def _server_time(factory, patient_id, query) -> float:
    """PostgreSQL's own execution time of the page query (EXPLAIN ANALYZE), in ms: a figure
    that the load of a shared machine disturbs less than wall-clock timings."""
    from sqlalchemy.dialects import postgresql

    from afiya.adapters.db.repositories.clinical_timeline import timeline_statement

    statement, params = timeline_statement(patient_id, query)
    sql = str(
        statement.params(params).compile(
            dialect=postgresql.asyncpg.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    async with factory(SYSTEM_CONTEXT, read_only=True) as uow:
        plan = (await uow.session.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"))).scalar()
        await uow.session.rollback()
    data = plan if isinstance(plan, list) else __import__("json").loads(plan)
    return float(data[0]["Execution Time"])


async def run(backend: str, repeat: int, noise: int, pg_url: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="afiya-bench-timeline-"))
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    else:
        import asyncpg

        pg_name = f"afiya_bench_tl_{uuid.uuid4().hex[:8]}"
        admin = make_url(pg_url)
        conn = await asyncpg.connect(
            host=admin.host,
            port=admin.port or 5432,
            user=admin.username,
            password=admin.password,
            database=admin.database,
        )
        await conn.execute(f'CREATE DATABASE "{pg_name}"')
        await conn.close()
        url = admin.set(database=pg_name).render_as_string(hide_password=False)
    container = None
    try:
        await upgrade_async(url)
        settings = Settings(
            env="test",
            node_id="bench",
            database_url=url,
            var_dir=tmp,
            jwt_secret="x" * 64,
            encryption_keys=KEYS,
            blind_index_key=BLIND,
            log_json=False,
            seed_demo_on_start=False,
        )
        container = build(settings, hasher=FAST)
        factory = container.uow
        await seed_demo(factory, FAST)
        async with container.sessions() as session:
            unit = (
                await session.execute(select(OrgUnitRow).where(OrgUnitRow.code == "CH-TZ"))
            ).scalar_one()
        rng = random.Random(SEED)
        patient, *others = await _patients(factory, unit, 1 + 20)
        started = time.perf_counter()
        events = await _fill(factory, patient, unit.id, rng)
        other_rows = await _noise(factory, others, noise // 20, rng)
        load = time.perf_counter() - started
        if backend == "postgresql":
            async with container.engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
        print(
            f"[{backend}] {events:,} events for the patient, {other_rows:,} for 20 others "
            f"(loaded in {load:.1f} s)"
        )
        principal = Principal(DOCTOR, "bench.doctor", frozenset({"doctor"}), (unit.path,))
        first = make_query()
        for _ in range(5):  # warm-up: connections, statement cache
            await _page(factory, principal, patient, first)
        firsts = [(await _page(factory, principal, patient, first))[0] for _ in range(repeat)]
        later, cursor, walked = [], None, 0
        while True:
            elapsed, page = await _page(factory, principal, patient, make_query(cursor=cursor))
            walked += len(page.items)
            if cursor is not None:
                later.append(elapsed)
            cursor = page.next_cursor
            if cursor is None:
                break
        filtered = make_query(
            types=[ItemType.RESULT.value], since=NOW - timedelta(days=365), until=NOW
        )
        results = [(await _page(factory, principal, patient, filtered))[0] for _ in range(repeat)]
        assert walked == events, (walked, events)
        bare_first = [(await _query_only(factory, patient, first))[0] for _ in range(repeat)]
        bare_later, cursor = [], None
        while True:
            elapsed, page = await _query_only(factory, patient, make_query(cursor=cursor))
            if cursor is not None:
                bare_later.append(elapsed)
            cursor = page.next_cursor
            if cursor is None:
                break
        print(f"[{backend}] timeline pages of 50 items (use case: query, summaries, audit commit)")
        _stats("first page, newest first", firsts)
        _stats(f"later pages by cursor (walk of {walked:,} items)", later)
        _stats("first page, lab results of the last year", results)
        if backend == "postgresql":
            server_first = [await _server_time(factory, patient, first) for _ in range(50)]
            server_later, cursor = [], None
            while True:
                page = (await _query_only(factory, patient, make_query(cursor=cursor)))[1]
                cursor = page.next_cursor
                if cursor is None:
                    break
                server_later.append(await _server_time(factory, patient, make_query(cursor=cursor)))
            print(f"[{backend}] server execution time (EXPLAIN ANALYZE)")
            _stats("first page", [t / 1000 for t in server_first])
            _stats("later pages", [t / 1000 for t in server_later])
        print(f"[{backend}] the repository query alone (no authorisation, no audit)")
        _stats("first page", bare_first)
        _stats("later pages by cursor", bare_later)
    finally:
        if container is not None:
            await container.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if pg_name:
            import asyncpg

            admin = make_url(pg_url)
            conn = await asyncpg.connect(
                host=admin.host,
                port=admin.port or 5432,
                user=admin.username,
                password=admin.password,
                database=admin.database,
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--noise", type=int, default=100_000, help="other patients' events")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "AFIYA_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    print(
        f"clinical_timeline: {os.cpu_count()} CPUs (shared), Python {sys.version.split()[0]}, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    asyncio.run(run(args.backend, args.repeat, args.noise, args.pg_url))


if __name__ == "__main__":
    main()
