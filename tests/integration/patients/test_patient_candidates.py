"""Candidate retrieval ranks on the key index first, then filters; it must not lose the
caller's own patients when namesakes elsewhere fill the ranked pool."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from afiya.adapters.db.repositories.patient_queries import POOL_FACTOR
from afiya.adapters.db.repositories.patients_bulk import bulk_load_patients
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.domain.access.policy import Principal, scope_of
from afiya.domain.orgunits.model import UnitKind
from afiya.domain.orgunits.ports import OrgUnitQuery
from afiya.domain.patients.model import Address, Patient
from afiya.domain.patients.ports import PatientFilter
from afiya.domain.patients.use_cases import index_keys
from afiya.domain.shared.ids import uuid7

EVERYONE = Principal(uuid.UUID(int=0), "test", frozenset({"data_manager"}), ("/",))


def _namesake(unit, born: int) -> Patient:
    return Patient(
        id=uuid7(),
        mrn="",
        unit_id=unit.id,
        unit_path=unit.path,
        given_names="Mohamed",
        family_name="Ould Ahmed",
        sex="male",
        birth_year=born,
        birth_year_estimated=True,
        address=Address("Hodh Ech Chargui", "Néma"),
    )


async def test_own_patient_is_found_when_namesakes_elsewhere_fill_the_ranked_pool(container):
    factory = container.uow
    async with factory(SYSTEM_CONTEXT) as uow:
        units = await uow.orgunits.list(
            scope_of(EVERYONE), OrgUnitQuery(kind=UnitKind.FACILITY, limit=5)
        )
    here, elsewhere = units[0], units[1]
    # Namesakes elsewhere registered first: they rank first on equal keys (older ids).
    people = [_namesake(elsewhere, 1980) for _ in range(POOL_FACTOR + 2)]
    people.append(_namesake(here, 1980))
    async with factory(SYSTEM_CONTEXT) as uow:
        await bulk_load_patients(
            uow.session,
            people,
            cipher=factory.cipher,
            index=factory.blind_index,
            node="test",
            now=datetime.now(UTC),
            sites={u.id: (u.code, u.uid) for u in units},
            workers=0,
        )
        await uow.session.commit()
    clerk = Principal(uuid.UUID(int=1), "clerk", frozenset({"receptionist"}), (here.path,))
    async with factory(SYSTEM_CONTEXT, read_only=True) as uow:
        keys = index_keys(uow.patients.traits_of(people[-1]))
        everywhere = await uow.patients.candidates(keys, scope=None, limit=POOL_FACTOR + 3)
        mine = await uow.patients.candidates(keys, scope=scope_of(clerk), limit=1)
        by_year = await uow.patients.candidates(
            keys, scope=None, where=PatientFilter(unit_path=here.path), limit=1
        )
    assert {p.patient_id for p in everywhere} == {p.id for p in people}
    assert [p.patient_id for p in mine] == [people[-1].id]
    assert [p.patient_id for p in by_year] == [people[-1].id]
