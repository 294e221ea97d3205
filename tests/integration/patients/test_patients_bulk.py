"""The bulk path (worker processes, COPY / executemany) stores what the normal path stores."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from afiya.adapters.db.models.patients import PatientMatchKeyRow
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
            address=Address("Nouakchott-Ouest", "Tevragh Zeina", None, "Ilot K"),
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


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker-process"])
async def test_bulk_loaded_records_read_back_and_carry_the_normal_match_keys(container, workers):
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
        )
        await uow.session.commit()
    assert loaded == len(people)
    async with factory(SYSTEM_CONTEXT) as uow:
        stored = await uow.patients.get_many([p.id for p in people])
        mrns = set()
        for person in people:
            got = stored[person.id]
            assert (got.nni, got.nss, got.phones) == (person.nni, person.nss, person.phones)
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
