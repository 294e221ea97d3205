"""A small synthetic PBF programme written through the PBF tables.

30 facilities x 12 months x 5 indicators from the project's seeded generator
(``afiya.adapters.ml.synthetic``): each synthetic district becomes a facility group under
a demo district, each facility an org unit with a profile (level, population), each cell
a ``pbf_declaration`` row (claimed, and verified/validated for verified months). The
ground truth stays with the test, to judge the flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from afiya.adapters.db.models.pbf import PbfDeclarationRow
from afiya.adapters.ml.cube import LEVELS
from afiya.adapters.ml.synthetic import SyntheticConfig, SyntheticProgramme, generate_programme
from afiya.adapters.seed.demo import SYSTEM, SYSTEM_CONTEXT, demo_uid
from afiya.domain.orgunits.model import NewOrgUnit, UnitKind
from afiya.domain.orgunits.use_cases import create_unit
from tests.api.pbf.helpers import FORMULAS

CODE = "FBR-IA"
CONFIG = SyntheticConfig(
    facilities=30,
    months=12,
    indicators=5,
    first_period="202301",
    seed=7,
    facilities_per_district=15,
    cheater_share=0.25,
    verification_rate=0.8,
)
#: synthetic district -> demo district it is placed under (and where its users sit)
DISTRICTS = {"D01": "MR-R1-D1", "D02": "MR-R2-D1"}
LAST = "202312"


@dataclass
class Seeded:
    programme: SyntheticProgramme
    unit_ids: dict[str, str]  # synthetic facility id -> org unit id
    unit_paths: dict[str, str]  # org unit id -> path
    district_paths: dict[str, str]  # synthetic district -> demo district path

    def facility_of(self, org_unit_id: str) -> int:
        ids = {v: k for k, v in self.unit_ids.items()}
        return self.programme.cube.facility_ids.index(ids[org_unit_id])


def rules(programme: SyntheticProgramme) -> dict[str, Any]:
    """A monthly quantity package whose activities are the synthetic indicators."""
    return {
        "valid_from": "202201",
        "packages": [
            {
                "code": "quantity",
                "name": "Quantité",
                "kind": "quantity",
                "frequency": "monthly",
                "states": ["claimed", "verified", "validated"],
                "activities": [
                    {"code": s.code, "name": s.code, "constants": {"tariff": str(int(s.tariff))}}
                    for s in programme.specs
                ],
                "activity_formulas": FORMULAS,
                "package_formulas": [
                    {"code": "quantity_total", "expression": "SUM(%{amount_values})", "money": True}
                ],
            }
        ],
        "payment_rules": [
            {
                "code": "payment",
                "name": "Paiement",
                "frequency": "monthly",
                "packages": ["quantity"],
                "formulas": [{"code": "total", "expression": "quantity_total", "money": True}],
                "amount_formula": "total",
                "payers": [{"payer": "state", "percent": "100"}],
            }
        ],
    }


async def seed_programme(container: Any, client: Any, manager: dict[str, str]) -> Seeded:
    """Create the programme (API), the facilities, profiles and declarations (tables)."""
    programme = generate_programme(CONFIG)
    created = await client.post(
        "/api/v1/pbf/programmes",
        headers=manager,
        json={"code": CODE, "name": "FBR synthétique", "currency": "XOF"},
    )
    assert created.status_code == 201, created.text
    stored = await client.post(
        f"/api/v1/pbf/programmes/{CODE}/rule-sets", headers=manager, json=rules(programme)
    )
    assert stored.status_code == 201, stored.text
    programme_id = created.json()["id"]

    cube = programme.cube
    unit_ids: dict[str, str] = {}
    unit_paths: dict[str, str] = {}
    district_paths: dict[str, str] = {}
    async with container.uow(SYSTEM_CONTEXT) as uow:
        for district, demo_code in DISTRICTS.items():
            parent = await uow.orgunits.get_by_uid(demo_uid(demo_code))
            district_paths[district] = parent.path
        for f, facility in enumerate(cube.facility_ids):
            parent = await uow.orgunits.get_by_uid(demo_uid(DISTRICTS[cube.districts[f]]))
            unit = await create_unit(
                NewOrgUnit(name=f"Site {facility}", kind=UnitKind.FACILITY, parent_id=parent.id),
                principal=SYSTEM,
                units=uow.orgunits,
                audit=uow.audit,
                clock=uow.clock,
            )
            unit_ids[facility] = str(unit.id)
            unit_paths[str(unit.id)] = unit.path
            await uow.pbf_intelligence.set_profile(
                unit.id, unit.path, LEVELS[int(cube.levels[f])].value, int(cube.population[f])
            )
        rows = []
        for f, facility in enumerate(cube.facility_ids):
            for i, indicator in enumerate(cube.indicator_codes):
                for t, period in enumerate(cube.periods):
                    declared = cube.declared[f, i, t]
                    if np.isnan(declared):
                        continue
                    validated = cube.validated[f, i, t]
                    verified = cube.verified[f, i, t]
                    rows.append(
                        PbfDeclarationRow(
                            programme_id=_uuid(programme_id),
                            org_unit_id=_uuid(unit_ids[facility]),
                            org_unit_path=unit_paths[unit_ids[facility]],
                            period=period,
                            package="quantity",
                            activity=indicator,
                            status="declared" if np.isnan(validated) else "validated",
                            claimed=Decimal(int(declared)),
                            verified=None if np.isnan(verified) else Decimal(int(verified)),
                            validated=None if np.isnan(validated) else Decimal(int(validated)),
                        )
                    )
        uow.session.add_all(rows)
        await uow.commit()
    return Seeded(programme, unit_ids, unit_paths, district_paths)


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(value)


async def contract(client: Any, manager: dict[str, str], org_unit_id: str) -> None:
    """A PBF contract for the facility (counter-verifications need one), through the API."""
    created = await client.post(
        f"/api/v1/pbf/programmes/{CODE}/contracts",
        headers=manager,
        json={
            "org_unit_id": org_unit_id,
            "agency": "ACV Sud",
            "category": "health_centre",
            "payer": "state",
            "start_date": "2022-01-01",
        },
    )
    assert created.status_code == 201, created.text
