"""Benchmark of a PBF declaration import with full validation; prints figures, asserts nothing.

A migrated, demo-seeded SQLite database gets N synthetic contracted facilities and a
monthly quantity package of 40 activities; a CSV (and an XLSX) file of facilities x 40
rows for one month is then imported through the same use case as the API
(``import_file``: cell parsing, facility lookup, scope, contract, rule set, package,
activity, frequency, value, lock, duplicate and workflow checks, then one flush with the
change log and one audit event), and committed.

On PostgreSQL (``--backend postgresql``) a scratch database is created on the server of
``--pg-url`` (or ``AFIYA_BENCH_DATABASE_URL``) and dropped at the end. ``--profile``
prints cProfile's top functions of the first import (main thread only: SQLite's own work
runs in the driver's thread and shows as waiting).

    .venv/bin/python benchmarks/pbf_import.py                   # 2,500 x 40 = 100,000 rows
    .venv/bin/python benchmarks/pbf_import.py --backend postgresql
    .venv/bin/python benchmarks/pbf_import.py --facilities 250 --xlsx
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import resource
import shutil
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from uuid import UUID

from afiya.adapters.db.migrate import upgrade
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.files.spreadsheets import read_csv, read_xlsx, write_csv, write_xlsx
from afiya.adapters.seed.demo import seed_demo
from afiya.bootstrap import build
from afiya.domain.access.policy import Principal
from afiya.domain.audit.model import AuditContext
from afiya.domain.pbf import use_cases
from afiya.domain.pbf.imports import import_file
from afiya.domain.pbf.records import Contract, ProgrammeRecord, Step
from afiya.domain.shared.ids import uuid7
from afiya.settings import Settings

ACTIVITIES = 40
CONTEXT = AuditContext(None, "benchmark", "pbf_manager", None, None, "bench")


def rules() -> dict[str, object]:
    return {
        "packages": [
            {
                "code": "quantity",
                "name": "Quantité",
                "kind": "quantity",
                "frequency": "monthly",
                "states": ["claimed", "verified", "validated"],
                "activities": [
                    {"code": f"act{i}", "name": f"Activité {i}", "constants": {"tariff": "100"}}
                    for i in range(ACTIVITIES)
                ],
                "activity_formulas": [
                    {"code": "amount", "expression": "validated * tariff", "money": True}
                ],
                "package_formulas": [
                    {"code": "total", "expression": "SUM(%{amount_values})", "money": True}
                ],
            }
        ],
        "payment_rules": [
            {
                "code": "payment",
                "name": "Paiement",
                "frequency": "monthly",
                "packages": ["quantity"],
                "formulas": [{"code": "paid", "expression": "total", "money": True}],
                "amount_formula": "paid",
            }
        ],
    }


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


async def main(facilities: int, with_xlsx: bool, backend: str, pg_url: str, profile: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="afiya-pbf-import-"))
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    else:
        from sqlalchemy.engine import make_url

        pg_name = f"afiya_bench_pbf_{uuid.uuid4().hex[:8]}"
        await _pg_admin(pg_url, f'CREATE DATABASE "{pg_name}"')
        url = make_url(pg_url).set(database=pg_name).render_as_string(hide_password=False)
    try:
        await _run(url, folder, facilities, with_xlsx, backend, profile)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if pg_name:
            await _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


async def _run(
    url: str, folder: Path, facilities: int, with_xlsx: bool, backend: str, profile: bool
) -> None:
    await asyncio.to_thread(upgrade, url)
    settings = Settings(
        env="test",
        node_id="bench",
        database_url=url,
        var_dir=folder,
        jwt_secret="benchmark-secret-long-enough-for-hs256-0123456789",
        encryption_keys="t1:" + "QUZJWUEtdGVzdC1rZXktMzItYnl0ZXMtbG9uZy0wMDA=",
        blind_index_key="QUZJWUEtdGVzdC1ibGluZC1pbmRleC1rZXktMzItYnk=",
        log_json=False,
        seed_demo_on_start=False,
    )
    from afiya.adapters.crypto.passwords import Argon2PasswordHasher

    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    container = build(settings, hasher=hasher)
    await seed_demo(container.uow, hasher)
    manager = Principal(uuid7(), "bench", frozenset({"pbf_manager"}), ("/",))

    # Setup (not timed): facilities under the first district, a programme, rules, contracts.
    async with container.uow(CONTEXT) as uow:
        sibling = await uow.orgunits.find_code("CS-KSAR")
        assert sibling is not None
        assert sibling.parent_id is not None
        parent = await uow.orgunits.get(sibling.parent_id)
        assert parent is not None
        codes = []
        ids: list[UUID] = []
        for i in range(facilities):
            uid = f"B{i:010d}"
            unit_id = uuid7()
            uow.session.add(
                OrgUnitRow(
                    id=unit_id,
                    uid=uid,
                    code=f"FOSA-{i:05d}",
                    name=f"Formation sanitaire {i}",
                    kind="facility",
                    level=4,
                    path=f"{parent.path}{uid}/",
                    parent_id=parent.id,
                    currency="MRU",
                )
            )
            codes.append(f"FOSA-{i:05d}")
            ids.append(unit_id)
        await uow.session.flush()
        programme = ProgrammeRecord(uuid7(), "BENCH", "Benchmark", "MRU")
        await use_cases.create_programme(
            programme, principal=manager, store=uow.pbf, audit=uow.audit
        )
        await use_cases.add_rule_set(
            "BENCH",
            rules(),
            valid_from="202401",
            valid_to=None,
            principal=manager,
            store=uow.pbf,
            audit=uow.audit,
        )
        for unit_id, code in zip(ids, codes, strict=True):
            await uow.pbf.add_contract(
                Contract(
                    uuid7(),
                    programme.id,
                    unit_id,
                    f"{parent.path}B{int(code[5:]):010d}/",
                    "ACV",
                    "cs",
                    "state",
                    date(2024, 1, 1),
                )
            )
        await uow.commit()

    header = [
        "org_unit_code",
        "org_unit_name",
        "period",
        "package",
        "activity_code",
        "activity_name",
        "claimed",
    ]
    rows = [
        [code, "", "202402", "quantity", f"act{a}", "", str((i * 7 + a) % 300)]
        for i, code in enumerate(codes)
        for a in range(ACTIVITIES)
    ]
    csv_bytes = write_csv(header, rows)
    print(
        f"[{backend}] rows: {len(rows):,} ({facilities:,} facilities x {ACTIVITIES} activities), "
        f"CSV {len(csv_bytes) / 1e6:.1f} MB; load average {os.getloadavg()[0]:.2f}"
    )
    profiler = cProfile.Profile() if profile else None

    cpu = time.process_time()
    start = time.perf_counter()
    head, body = read_csv(csv_bytes)
    read_s = time.perf_counter() - start
    async with container.uow(CONTEXT) as uow:
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        report = await import_file(
            "BENCH",
            Step.DECLARE,
            head,
            body,
            principal=manager,
            store=uow.pbf,
            audit=uow.audit,
            clock=container.clock,
        )
        t1 = time.perf_counter()
        await uow.commit()
        t2 = time.perf_counter()
        if profiler:
            profiler.disable()
    total = read_s + (t2 - t0)
    cpu = time.process_time() - cpu
    print(
        f"[{backend}] CSV read {read_s:.2f} s; validation + write {t1 - t0:.2f} s; "
        f"commit {t2 - t1:.2f} s"
    )
    print(
        f"[{backend}] import of {report.created:,} new rows: {total:.2f} s "
        f"({len(rows) / total:,.0f} rows/s); CPU time of this process {cpu:.2f} s"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)

    if with_xlsx:
        xlsx_bytes = write_xlsx([("202402", header, rows)])
        start = time.perf_counter()
        read_xlsx(xlsx_bytes)
        seconds = time.perf_counter() - start
        print(f"XLSX ({len(xlsx_bytes) / 1e6:.1f} MB) read with openpyxl: {seconds:.2f} s")

    # Re-import of the same file: every row exists, so every row is an update.
    cpu = time.process_time()
    async with container.uow(CONTEXT) as uow:
        t0 = time.perf_counter()
        report = await import_file(
            "BENCH",
            Step.DECLARE,
            head,
            body,
            principal=manager,
            store=uow.pbf,
            audit=uow.audit,
            clock=container.clock,
        )
        await uow.commit()
        seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu
    print(
        f"[{backend}] re-import ({report.updated:,} updates): {seconds:.2f} s; "
        f"CPU time of this process {cpu:.2f} s"
    )

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"[{backend}] peak RSS {peak:.0f} MB; load average {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} cores"
    )
    await container.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facilities", type=int, default=2500)
    parser.add_argument("--xlsx", action="store_true", help="also time reading the file as XLSX")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "AFIYA_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server (admin database) where a scratch database is created",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    args = parser.parse_args()
    asyncio.run(main(args.facilities, args.xlsx, args.backend, args.pg_url, args.profile))
