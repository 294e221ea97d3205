"""The bulk path (worker processes, COPY / executemany) stores what the normal path stores."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import UniqueConstraint, select, update

from afiya.adapters.db.models.patients import PatientMatchKeyRow, PatientPhoneRow, PatientRow
from afiya.adapters.db.repositories.patients_bulk import bulk_load_patients
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.domain.access.policy import Principal, scope_of
from afiya.domain.orgunits.model import UnitKind
from afiya.domain.orgunits.ports import OrgUnitQuery
from afiya.domain.patients.model import Address, Patient, Phone
from afiya.domain.shared.ids import uuid7

EVERYONE = Principal(uuid.UUID(int=0), "test", frozenset({"data_manager"}), ("/",))


def _people(unit_id: uuid.UUID, path: str, first: int) -> list[Patient]:
    return [
        Patient(
            id=uuid7(),
            mrn="",
            unit_id=unit_id,
            unit_path=path,
            given_names=given,
            family_name=family,
            sex=sex,
            birth_date=born,
            birth_year=born.year if born else 1980 + i,
            birth_year_estimated=born is None,
            nni=f"{first + i:010d}",
            nss=f"{987_000_000 + first + i}",
            phones=(Phone(f"+2223612{first + i:04d}", shared=True), Phone(f"+2224612{i:04d}")),
            family_name_ar="ولد أحمد" if i == 0 else None,
            # CSV-sensitive text: the worker path hands PostgreSQL COPY text over
            address=Address("Nouakchott-Ouest", "Tevragh Zeina", "", 'Ilot K, "bloc" 3\nporte\\2'),
            language="ar",
        )
        for i, (given, family, sex, born) in enumerate(
            [
                ("Mohamed", "Ould Ahmed", "male", None),
                ("Fatimetou", "Mint Sidi", "female", date(1991, 3, 4)),
                ("Aminata", "Diallo", "female", date(2001, 12, 31)),
            ]
        )
    ]


@pytest.mark.parametrize(
    ("workers", "window_size"),
    [(0, 50_000), (1, 50_000), (1, 2)],
    ids=["in-process", "worker-process", "pipelined-windows"],
)
async def test_bulk_loaded_records_read_back_and_carry_the_normal_match_keys(
    container, workers, window_size
):
    factory = container.uow
    async with factory(SYSTEM_CONTEXT) as uow:
        units = await uow.orgunits.list(
            scope_of(EVERYONE), OrgUnitQuery(kind=UnitKind.FACILITY, limit=5)
        )
    unit = units[0]
    people = _people(unit.id, unit.path, 5_000_000_000 + workers * 100)
    async with factory(SYSTEM_CONTEXT) as uow:
        loaded = await bulk_load_patients(
            uow.session,
            people,
            cipher=factory.cipher,
            index=factory.blind_index,
            node="test",
            now=datetime.now(UTC),
            sites={u.id: (u.code, u.uid) for u in units},
            batch=2,
            workers=workers,
            window_size=window_size,
        )
        await uow.session.commit()
    assert loaded == len(people)
    async with factory(SYSTEM_CONTEXT) as uow:
        stored = await uow.patients.get_many([p.id for p in people])
        mrns = set()
        for person in people:
            got = stored[person.id]
            assert (got.nni, got.nss, got.phones) == (person.nni, person.nss, person.phones)
            assert (got.family_name_ar, got.language) == (person.family_name_ar, "ar")
            assert (got.given_names, got.family_name, got.birth_date, got.address) == (
                person.given_names,
                person.family_name,
                person.birth_date,
                person.address,
            )
            assert await uow.patients.find_by_nni(person.nni or "") == [person.id]
            assert await uow.patients.find_by_phone(person.phones[1].number) == [person.id]
            mrns.add(got.mrn)
            keys = select(PatientMatchKeyRow.key_hash).where(
                PatientMatchKeyRow.patient_id == person.id
            )
            bulk_keys = set((await uow.session.execute(keys)).scalars())
            await uow.patients.refresh_keys(person.id)  # the normal write path
            assert bulk_keys and bulk_keys == set((await uow.session.execute(keys)).scalars())
        assert len(mrns) == len(people) and all(mrns)


async def test_a_load_into_an_empty_registry_leaves_every_index_and_constraint(container):
    """On PostgreSQL the initial load drops indexes and constraints and builds them at the
    end: afterwards the live schema has them all again, and they hold."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    from afiya.adapters.db.repositories.patients_bulk import _TABLES

    factory = container.uow
    async with factory(SYSTEM_CONTEXT) as uow:
        units = await uow.orgunits.list(
            scope_of(EVERYONE), OrgUnitQuery(kind=UnitKind.FACILITY, limit=5)
        )
        people = _people(units[0].id, units[0].path, 7_000_000_000)
        await bulk_load_patients(
            uow.session,
            people,
            cipher=factory.cipher,
            index=factory.blind_index,
            node="test",
            now=datetime.now(UTC),
            sites={u.id: (u.code, u.uid) for u in units},
            workers=1,
        )
        await uow.session.commit()

    def live_schema(sync_conn):
        found = inspect(sync_conn)
        return {
            t.name: (
                {i["name"] for i in found.get_indexes(t.name)},
                {c["name"] for c in found.get_unique_constraints(t.name)},
                {c["name"] for c in found.get_foreign_keys(t.name)},
                found.get_pk_constraint(t.name)["constrained_columns"],
            )
            for t in _TABLES
        }

    async with container.engine.connect() as conn:
        live = await conn.run_sync(live_schema)
    for table in _TABLES:
        indexes, uniques, fks, pk = live[table.name]
        assert {i.name for i in table.indexes} <= indexes
        if container.engine.dialect.name == "postgresql":  # SQLite names neither
            assert {c.name for c in table.foreign_key_constraints} == fks
            assert {c.name for c in table.constraints if isinstance(c, UniqueConstraint)} == uniques
        assert pk == [c.name for c in table.primary_key.columns]
    for clash in (  # the MRN stays unique; a phone still needs its patient
        update(PatientRow)
        .where(PatientRow.id == people[1].id)
        .values(mrn=select(PatientRow.mrn).where(PatientRow.id == people[0].id).scalar_subquery()),
        update(PatientPhoneRow)
        .where(PatientPhoneRow.patient_id == people[0].id)
        .values(patient_id=uuid7()),
    ):
        async with factory(SYSTEM_CONTEXT) as uow:
            with pytest.raises(IntegrityError):
                await uow.session.execute(clash)
