"""A deterministic synthetic country for demos and tests (no real person or place data).

Two regions, four districts, six facilities with departments and wards, and one demo
user per role. Uids are derived from names, so every run yields the same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from afiya.adapters.db.uow import UnitOfWork, UnitOfWorkFactory
from afiya.domain.access.permissions import Role
from afiya.domain.access.policy import Principal
from afiya.domain.audit.model import AuditContext
from afiya.domain.identity.model import NewUser
from afiya.domain.identity.ports import PasswordHasher
from afiya.domain.identity.use_cases import create_user
from afiya.domain.orgunits.model import NewOrgUnit, OrgUnit, UnitKind
from afiya.domain.orgunits.use_cases import create_unit

DEMO_PASSWORD = "Afiya-demo-2026"  # noqa: S105 - public demo accounts, printed at start

# (region, [(district, [(facility, code)])])
COUNTRY = ("Mauritanie (démo)", "MR")
REGIONS = [
    (
        "Nouakchott-Ouest",
        [
            (
                "Tevragh Zeina",
                [
                    ("Centre hospitalier de Tevragh Zeina", "CH-TZ"),
                    ("Centre de santé de Ksar", "CS-KSAR"),
                ],
            ),
            ("Sebkha", [("Centre de santé de Sebkha", "CS-SEBKHA")]),
        ],
    ),
    (
        "Hodh Ech Chargui",
        [
            (
                "Néma",
                [
                    ("Centre hospitalier de Néma", "CH-NEMA"),
                    ("Poste de santé de Achemim", "PS-ACHEMIM"),
                ],
            ),
            ("Bassikounou", [("Centre de santé de Bassikounou", "CS-BASSI")]),
        ],
    ),
]
DEPARTMENTS = [
    ("Médecine", ["Salle A", "Salle B"]),
    ("Maternité", ["Salle d'accouchement"]),
    ("Pédiatrie", ["Salle 1"]),
]
FACILITY_A = "CH-TZ"
FACILITY_B = "CH-NEMA"

COUNTRY_ROLES = {
    Role.AUDITOR,
    Role.PBF_MANAGER,
    Role.PBF_VERIFIER,
    Role.DATA_MANAGER,
    Role.SYSTEM_ADMIN,
}


def demo_uid(name: str) -> str:
    """An 11-character DHIS2-style uid derived from ``name`` (a letter then 10 alnum)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    digest = hashlib.sha256(name.encode()).digest()
    first = alphabet[digest[0] % 52]
    return first + "".join(alphabet[b % 62] for b in digest[1:11])


SYSTEM = Principal(
    user_id=UUID(int=0), username="system", roles=frozenset({"system_admin"}), unit_paths=("/",)
)
SYSTEM_CONTEXT = AuditContext(
    user_id=None,
    username="system:cli",
    roles="system_admin",
    ip=None,
    user_agent="afiya-cli",
    node="central",
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    unit_code: str
    password: str = DEMO_PASSWORD


async def _unit(
    uow: UnitOfWork, name: str, kind: UnitKind, parent: OrgUnit | None, code: str, **extra: str
) -> OrgUnit:
    existing = await uow.orgunits.get_by_uid(demo_uid(code))
    if existing:
        return existing
    return await create_unit(
        NewOrgUnit(
            name=name,
            kind=kind,
            parent_id=parent.id if parent else None,
            uid=demo_uid(code),
            code=code,
            **extra,
        ),  # type: ignore[arg-type]
        principal=SYSTEM,
        units=uow.orgunits,
        audit=uow.audit,
        clock=uow.clock,
    )


async def seed_demo(factory: UnitOfWorkFactory, hasher: PasswordHasher) -> list[DemoAccount]:
    """Create the demo country and users; running it again changes nothing."""
    accounts: list[DemoAccount] = []
    async with factory(SYSTEM_CONTEXT) as uow:
        country = await _unit(
            uow,
            COUNTRY[0],
            UnitKind.COUNTRY,
            None,
            COUNTRY[1],
            timezone="Africa/Nouakchott",
            currency="MRU",
        )
        facilities: dict[str, OrgUnit] = {}
        for r_index, (region_name, districts) in enumerate(REGIONS, start=1):
            region = await _unit(uow, region_name, UnitKind.REGION, country, f"MR-R{r_index}")
            for d_index, (district_name, sites) in enumerate(districts, start=1):
                district = await _unit(
                    uow, district_name, UnitKind.DISTRICT, region, f"MR-R{r_index}-D{d_index}"
                )
                for site_name, code in sites:
                    facility = await _unit(uow, site_name, UnitKind.FACILITY, district, code)
                    facilities[code] = facility
                    for dep_index, (dep_name, wards) in enumerate(DEPARTMENTS, start=1):
                        dep = await _unit(
                            uow, dep_name, UnitKind.DEPARTMENT, facility, f"{code}-S{dep_index}"
                        )
                        for w_index, ward in enumerate(wards, start=1):
                            await _unit(
                                uow, ward, UnitKind.WARD, dep, f"{code}-S{dep_index}-W{w_index}"
                            )
        wanted = [
            (f"demo.{role.value}", role.value, COUNTRY[1] if role in COUNTRY_ROLES else FACILITY_A)
            for role in Role
        ]
        wanted.append(("demo.nurse.b", Role.NURSE.value, FACILITY_B))
        wanted.append(("demo.receptionist.b", Role.RECEPTIONIST.value, FACILITY_B))
        unit_by_code = {**facilities, COUNTRY[1]: country}
        for username, role, code in wanted:
            if await uow.users.get_by_username(username) is None:
                await create_user(
                    NewUser(
                        username=username,
                        full_name=f"Démo {role.replace('_', ' ')}",
                        password=DEMO_PASSWORD,
                        roles=frozenset({role}),
                        unit_ids=(unit_by_code[code].id,),
                    ),
                    principal=None,
                    users=uow.users,
                    units=uow.orgunits,
                    hasher=hasher,
                    audit=uow.audit,
                )
            accounts.append(DemoAccount(username, role, code))
        await uow.commit()
    return accounts
