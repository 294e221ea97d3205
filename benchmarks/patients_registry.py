"""Patient registry at scale: bulk load, exact identifier lookup, fuzzy name search, and
duplicate candidates for a new registration, on SQLite or PostgreSQL.

    .venv/bin/python benchmarks/patients_registry.py --backend sqlite --n 100000
    .venv/bin/python benchmarks/patients_registry.py --backend postgresql --n 1000000

Prints each figure with the registry size. The database is created for the run (a file
under /tmp, or a PostgreSQL database dropped at the end). The population is synthetic:
Mauritanian, Malian and Nigerien name pools, shared phones, estimated years, 60 % with NNI.
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
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from afiya.adapters.crypto.passwords import Argon2PasswordHasher
from afiya.adapters.db.migrate import upgrade
from afiya.adapters.db.repositories.patients_bulk import bulk_load_patients
from afiya.adapters.seed.demo import SYSTEM_CONTEXT, seed_demo
from afiya.bootstrap import build
from afiya.domain.access.policy import Principal, scope_of
from afiya.domain.orgunits.model import UnitKind
from afiya.domain.orgunits.ports import OrgUnitQuery
from afiya.domain.patients import use_cases
from afiya.domain.patients.model import Address, Patient, Phone
from afiya.domain.shared.ids import uuid7
from afiya.settings import Settings

MALE = [
    "Mohamed",
    "Ahmed",
    "Sidi",
    "Cheikh",
    "Abdallahi",
    "Brahim",
    "Moussa",
    "Oumar",
    "Mamadou",
    "Ousmane",
    "Amadou",
    "Yacoub",
    "Ismail",
    "Abderrahmane",
    "Mahfoud",
    "Bilal",
    "Salem",
    "Hamoud",
    "Boubacar",
    "Issa",
    "Elhadj",
    "Moctar",
    "Lemine",
    "Vall",
    "Isselmou",
    "Abdoulaye",
    "Souleymane",
    "Hamadi",
    "Sidati",
    "Khalil",
]
FEMALE = [
    "Fatimetou",
    "Aminetou",
    "Mariem",
    "Khadijetou",
    "Aicha",
    "Zeinebou",
    "Mint",
    "Toutou",
    "Vatimetou",
    "Lalla",
    "Salka",
    "Maimouna",
    "Hawa",
    "Kadiata",
    "Oumou",
    "Coumba",
    "Aissata",
    "Mounina",
    "Selma",
    "Nana",
    "Houleye",
    "Djeinaba",
    "Rokia",
    "Hadja",
    "Safiya",
]
FAMILY = [
    "Ahmed",
    "Sidi",
    "Mohamed",
    "Cheikh",
    "Brahim",
    "Salem",
    "Diallo",
    "Ba",
    "Sow",
    "Kane",
    "Traore",
    "Keita",
    "Coulibaly",
    "Diarra",
    "Toure",
    "Camara",
    "Sy",
    "Ly",
    "Diop",
    "Ndiaye",
    "Fall",
    "Vall",
    "Abdallahi",
    "Moussa",
    "Hamady",
    "Bah",
    "Issa",
    "Maiga",
    "Cisse",
    "Abdou",
    "Moctar",
    "Lemine",
    "Bilal",
    "Yacoub",
    "Ethmane",
    "Boubou",
    "Dah",
]
VARIANTS = {
    "Mohamed": ["Mouhamed", "Mohammed", "Mhamed"],
    "Fatimetou": ["Fatimata", "Fatma"],
    "Ahmed": ["Ahmad", "Hmeida"],
    "Aminetou": ["Aminata"],
    "Cheikh": ["Chekh", "Sheikh"],
    "Khadijetou": ["Khadija"],
    "Mariem": ["Mariam", "Meriem"],
}
REGIONS = [
    ("Nouakchott-Ouest", "Tevragh Zeina"),
    ("Nouakchott-Ouest", "Sebkha"),
    ("Hodh Ech Chargui", "Néma"),
    ("Hodh Ech Chargui", "Bassikounou"),
]


def synthetic(rng: random.Random, units: list[tuple[uuid.UUID, str]], n: int, this_year: int):
    """``n`` people; about one family phone per three people."""
    for i in range(n):
        female = rng.random() < 0.5
        given = rng.choice(FEMALE if female else MALE)
        if rng.random() < 0.3:
            given += " " + rng.choice(MALE)
        father = rng.choice(MALE)
        family = (
            f"{'Mint' if female else 'Ould'} {father}" if rng.random() < 0.6 else rng.choice(FAMILY)
        )
        estimated = rng.random() < 0.4
        year = rng.randint(this_year - 90, this_year)
        born = None if estimated else date(year, rng.randint(1, 12), rng.randint(1, 28))
        unit_id, path = units[i % len(units)]
        region, district = rng.choice(REGIONS)
        family_no = rng.randrange(max(1, n // 3))
        yield Patient(
            id=uuid7(),
            mrn="",
            unit_id=unit_id,
            unit_path=path,
            given_names=given,
            family_name=family,
            sex="female" if female else "male",
            birth_date=born,
            birth_year=year,
            birth_year_estimated=estimated,
            nni=f"{1_000_000_000 + i:010d}" if rng.random() < 0.6 else None,
            phones=(
                Phone(
                    f"+222{[2, 3, 4][family_no % 3]}{family_no % 10_000_000:07d}",
                    shared=rng.random() < 0.3,
                ),
            ),
            address=Address(region, district),
            language=rng.choice(["fr", "ar", "mey", "ff"]),
        )


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000 if len(samples) > 1 else samples[0] * 1000


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


async def run(
    backend: str, n: int, queries: int, pg_url: str, keep: bool = False, reuse: str | None = None
) -> None:
    pg_name = None
    if reuse:  # the kept run's key file is under its var dir
        tmp = Path(tempfile.gettempdir()) / f"afiya-bench-{Path(reuse).stem}"
    else:
        tmp = Path(tempfile.mkdtemp(prefix="afiya-bench-"))
    if reuse:  # a database kept by an earlier --keep run: queries only
        from sqlalchemy.engine import make_url

        url = make_url(pg_url).set(database=reuse).render_as_string(hide_password=False)
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{reuse}"
    elif backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'registry.db'}"
    else:
        from sqlalchemy.engine import make_url

        pg_name = f"afiya_bench_{uuid.uuid4().hex[:8]}"
        await _pg_admin(pg_url, f'CREATE DATABASE "{pg_name}"')
        if keep:
            tmp.rmdir()
            tmp = Path(tempfile.gettempdir()) / f"afiya-bench-{pg_name}"
            tmp.mkdir()
        url = make_url(pg_url).set(database=pg_name).render_as_string(hide_password=False)
    try:
        if not reuse:
            await asyncio.to_thread(upgrade, url, "patients@head")
        settings = Settings(
            env="test",
            node_id="bench",
            database_url=url,
            var_dir=tmp,
            jwt_secret="x" * 40,
            seed_demo_on_start=False,
            log_json=False,
        )
        container = build(
            settings, hasher=Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        if not reuse:
            await seed_demo(container.uow, container.hasher)
        everyone = Principal(uuid.UUID(int=0), "bench", frozenset({"data_manager"}), ("/",))
        async with container.uow(SYSTEM_CONTEXT) as uow:
            facilities = await uow.orgunits.list(
                scope_of(everyone), OrgUnitQuery(kind=UnitKind.FACILITY, limit=50)
            )
        units = [(u.id, u.path) for u in facilities]
        sites = {u.id: (u.code, u.uid) for u in facilities}
        rng = random.Random(2026)
        factory = container.uow
        if reuse:
            people = await _kept_people(factory)
            await _queries(backend, n, queries, people, rng, factory, everyone)
            await container.close()
            return
        people = list(synthetic(rng, units, n, 2025))
        started = time.perf_counter()
        async with factory(SYSTEM_CONTEXT) as uow:  # one transaction; the loader windows
            await bulk_load_patients(
                uow.session,
                people,
                cipher=factory.cipher,
                index=factory.blind_index,
                node="bench",
                now=datetime.now(UTC),
                sites=sites,
            )
            await uow.session.commit()
        load = time.perf_counter() - started
        print(f"[{backend}] registry size: {n:,} patients")
        rate = n / load
        print(f"[{backend}] bulk load: {rate:,.0f} patients/s ({load:.1f} s, keys and encryption)")
        if backend == "postgresql":  # after any large load: statistics and visibility map
            started = time.perf_counter()
            async with container.engine.connect() as conn:
                from sqlalchemy import text

                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(
                    text("VACUUM (ANALYZE) patient, patient_phone, patient_match_key")
                )
            print(
                f"[{backend}] VACUUM (ANALYZE) after the load: "
                f"{time.perf_counter() - started:.1f} s"
            )
        await _queries(backend, n, queries, people, rng, factory, everyone)
        await container.close()
    finally:
        if not (keep or reuse):
            shutil.rmtree(tmp, ignore_errors=True)
        if pg_name and not keep:
            await _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        elif pg_name:
            print(f"kept database {pg_name} (reuse with --reuse {pg_name})")


async def _kept_people(factory) -> list[Patient]:
    """A sample of a kept database's patients (the queries' subjects)."""
    from sqlalchemy import select

    from afiya.adapters.db.models.patients import PatientRow

    async with factory(SYSTEM_CONTEXT, read_only=True) as uow:
        rows = (await uow.session.execute(select(PatientRow.id).limit(5000))).scalars().all()
        found = await uow.patients.get_many(list(rows))
    return list(found.values())


async def _queries(backend, n, queries, people, rng, factory, everyone) -> None:
    if True:
        samples = [p for p in rng.sample(people, min(queries, n))]
        exact, fuzzy, dupes = [], [], []
        for person in samples:
            async with factory(SYSTEM_CONTEXT, read_only=True) as uow:
                if person.nni:
                    t = time.perf_counter()
                    ids = await uow.patients.find_by_nni(person.nni)
                    await uow.patients.get_many(ids)
                    exact.append(time.perf_counter() - t)
                first = person.given_names.split()[0]
                query = f"{VARIANTS.get(first, [person.given_names])[0]} {person.family_name}"
                t = time.perf_counter()
                await use_cases.search_patients(
                    use_cases.PatientSearch(name=query, limit=20),
                    principal=everyone,
                    patients=uow.patients,
                    units=uow.orgunits,
                    audit=uow.audit,
                )
                fuzzy.append(time.perf_counter() - t)
                newcomer = Patient(
                    id=uuid7(),
                    mrn="",
                    unit_id=person.unit_id,
                    unit_path=person.unit_path,
                    given_names=VARIANTS.get(person.given_names.split()[0], [person.given_names])[
                        -1
                    ],
                    family_name=person.family_name.replace("Ould ", "O. "),
                    sex=person.sex,
                    birth_year=(person.birth_year or 1980) + 1,
                    birth_year_estimated=True,
                    phones=person.phones,
                    address=person.address,
                )
                t = time.perf_counter()
                found = await use_cases.find_candidates(
                    newcomer, principal=everyone, patients=uow.patients
                )
                dupes.append(time.perf_counter() - t)
                assert any(c.patient.id == person.id for c in found), (person, found[:3])
        print(
            f"[{backend}] exact NNI lookup (blind index + record): p95 {p95(exact):.2f} ms "
            f"over {len(exact)} queries, {n:,} patients"
        )
        print(
            f"[{backend}] fuzzy name search (variant spelling, top 20): p95 {p95(fuzzy):.1f} ms "
            f"over {len(fuzzy)} queries, {n:,} patients"
        )
        print(
            f"[{backend}] duplicate candidates for a new registration: p95 {p95(dupes):.1f} ms "
            f"over {len(dupes)} registrations (true record found in all), {n:,} patients"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "AFIYA_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--reuse", help="query a kept database (name, or SQLite file) only")
    args = parser.parse_args()
    print(f"patients_registry: {os.cpu_count()} CPUs (shared), Python {sys.version.split()[0]}")
    asyncio.run(run(args.backend, args.n, args.queries, args.pg_url, args.keep, args.reuse))


if __name__ == "__main__":
    main()
