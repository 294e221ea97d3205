"""A small Sierra Leone demo world (DHIS2's own demo ids), the double's default state.

Ids come from DHIS2's documentation and SDK fixtures so the reference payloads in
``shared/fixtures/dhis2`` import against it unchanged.
"""

from __future__ import annotations

from typing import Any

from tests.doubles.dhis2.store import DEFAULT_CATEGORY_COMBO, DEFAULT_COC, Store, User

ADMIN = ("admin", "district")
ADMIN_TOKEN = "d2pat_AfiyaDoubleAdminToken0000000001"
FACILITY_USER = ("ngelehun", "Ngelehun-2026")

SIERRA_LEONE, BO, BADJIA, NGELEHUN = "ImspTQPwCqd", "O6uvpzGd5pu", "YuQRtpLP10I", "DiszpKrYNg8"
VALUNIA, BAOMAHUN, NJANDAMA, YENGEMA = "npWGUj37qDe", "FLjwMPWLrL2", "g8upMTyEZGZ", "FNnj3jKGS7i"
MORTALITY_UNDER_5, CHILD_HEALTH = "pBOMPrpg1QX", "lyLU2wR22tC"
MEASLES, DYSENTERY, CHOLERA = "f7n9E0hX8qk", "Ix2HsbDMLea", "eY5ehpbEsB7"
BCG_DOSES, MALARIA_REFERRALS, FEVER_TESTED, CHILD_NOTE = (
    "s46m5MS0hxu",
    "vANAXwtLwcT",
    "UOlfIjgN8X6",
    "Txt4CmmNote",
)
SEX_COMBO, MALE, FEMALE = "dPmavA0qloX", "Gmbgme7z9BF", "bRowv6yZOF2"


def _unit(uid: str, name: str, level: int, parent: str | None, updated: str) -> dict[str, Any]:
    unit: dict[str, Any] = {
        "id": uid,
        "name": name,
        "shortName": name,
        "code": f"OU_{uid[:4].upper()}",
        "level": level,
        "openingDate": "1970-01-01T00:00:00.000",
        "created": "2012-02-17T15:54:39.987",
        "lastUpdated": updated,
    }
    if parent:
        unit["parent"] = {"id": parent}
    return unit


def _element(uid: str, name: str, value_type: str, combo: str, updated: str) -> dict[str, Any]:
    return {
        "id": uid,
        "name": name,
        "shortName": name[:50],
        "code": f"DE_{uid[:5].upper()}",
        "valueType": value_type,
        "aggregationType": "SUM",
        "domainType": "AGGREGATE",
        "zeroIsSignificant": False,
        "categoryCombo": {"id": combo},
        "created": "2011-01-11T00:00:00.000",
        "lastUpdated": updated,
    }


def seed_demo(store: Store) -> None:
    """Reset ``store`` to the demo world."""
    store.reset()
    store.upsert(
        "organisationUnitLevels",
        [
            {"id": "H1KlN4QIauv", "name": "National", "level": 1},
            {"id": "wjP19dkFeIk", "name": "District", "level": 2},
            {"id": "tTUf91fCytl", "name": "Chiefdom", "level": 3},
            {"id": "m9lBJogzE95", "name": "Facility", "level": 4},
        ],
    )
    store.upsert(
        "organisationUnits",
        [
            _unit(SIERRA_LEONE, "Sierra Leone", 1, None, "2014-11-25T09:37:54.154"),
            _unit(BO, "Bo", 2, SIERRA_LEONE, "2015-03-27T18:32:48.597"),
            _unit(BADJIA, "Badjia", 3, BO, "2016-01-10T10:00:00.000"),
            _unit(VALUNIA, "Valunia", 3, BO, "2016-01-10T10:00:00.000"),
            _unit(NGELEHUN, "Ngelehun CHC", 4, BADJIA, "2017-05-22T15:21:48.516"),
            _unit(NJANDAMA, "Njandama MCHP", 4, BADJIA, "2021-08-12T06:54:20.634"),
            _unit(YENGEMA, "Yengema CHP", 4, BADJIA, "2023-03-01T08:00:00.000"),
            _unit(BAOMAHUN, "Baomahun CHC", 4, VALUNIA, "2025-06-30T12:00:00.000"),
        ],
    )
    store.upsert(
        "organisationUnitGroups",
        [
            {
                "id": "CXw2yu5fodb",
                "name": "CHC",
                "code": "CHC",
                "organisationUnits": [{"id": NGELEHUN}, {"id": BAOMAHUN}],
            },
            {"id": "uYxK4wmcPqA", "name": "CHP", "organisationUnits": [{"id": YENGEMA}]},
        ],
    )
    store.upsert(
        "organisationUnitGroupSets",
        [
            {
                "id": "J5jldMd8OHv",
                "name": "Facility Type",
                "organisationUnitGroups": [{"id": "CXw2yu5fodb"}, {"id": "uYxK4wmcPqA"}],
            }
        ],
    )
    store.upsert(
        "categoryCombos",
        [
            {
                "id": DEFAULT_CATEGORY_COMBO,
                "name": "default",
                "categoryOptionCombos": [{"id": DEFAULT_COC}],
            },
            {
                "id": SEX_COMBO,
                "name": "Sex",
                "categoryOptionCombos": [{"id": MALE}, {"id": FEMALE}],
            },
        ],
    )
    store.upsert(
        "categoryOptionCombos",
        [
            {"id": DEFAULT_COC, "name": "default", "categoryCombo": {"id": DEFAULT_CATEGORY_COMBO}},
            {"id": MALE, "name": "Male", "categoryCombo": {"id": SEX_COMBO}},
            {"id": FEMALE, "name": "Female", "categoryCombo": {"id": SEX_COMBO}},
        ],
    )
    numeric = "INTEGER_ZERO_OR_POSITIVE"
    store.upsert(
        "dataElements",
        [
            _element(
                MEASLES, "Measles", numeric, DEFAULT_CATEGORY_COMBO, "2019-01-01T00:00:00.000"
            ),
            _element(
                DYSENTERY, "Dysentery", numeric, DEFAULT_CATEGORY_COMBO, "2020-01-01T00:00:00.000"
            ),
            _element(
                CHOLERA, "Cholera", numeric, DEFAULT_CATEGORY_COMBO, "2021-01-01T00:00:00.000"
            ),
            _element(BCG_DOSES, "BCG doses given", "NUMBER", SEX_COMBO, "2022-01-01T00:00:00.000"),
            _element(
                MALARIA_REFERRALS,
                "Malaria referrals",
                "INTEGER_POSITIVE",
                DEFAULT_CATEGORY_COMBO,
                "2023-01-01T00:00:00.000",
            ),
            _element(
                FEVER_TESTED,
                "Fever cases tested",
                "NUMBER",
                DEFAULT_CATEGORY_COMBO,
                "2024-01-01T00:00:00.000",
            ),
            _element(
                CHILD_NOTE,
                "Child health note",
                "TEXT",
                DEFAULT_CATEGORY_COMBO,
                "2025-01-01T00:00:00.000",
            ),
        ],
    )
    facilities = [{"id": uid} for uid in (NGELEHUN, NJANDAMA, YENGEMA, BAOMAHUN)]
    store.upsert(
        "dataSets",
        [
            {
                "id": MORTALITY_UNDER_5,
                "name": "Mortality < 5 years",
                "periodType": "Monthly",
                "openFuturePeriods": 0,
                "expiryDays": 0,
                "categoryCombo": {"id": DEFAULT_CATEGORY_COMBO},
                "dataSetElements": [
                    {"dataElement": {"id": de}} for de in (MEASLES, DYSENTERY, CHOLERA)
                ],
                "organisationUnits": facilities,
                "dataInputPeriods": [],
                "lastUpdated": "2020-06-01T00:00:00.000",
            },
            {
                "id": CHILD_HEALTH,
                "name": "Child Health",
                "periodType": "Monthly",
                "openFuturePeriods": 0,
                "expiryDays": 0,
                "categoryCombo": {"id": DEFAULT_CATEGORY_COMBO},
                "dataSetElements": [
                    {"dataElement": {"id": de}}
                    for de in (BCG_DOSES, MALARIA_REFERRALS, FEVER_TESTED, CHILD_NOTE)
                ],
                "organisationUnits": facilities,
                "dataInputPeriods": [],
                "lastUpdated": "2024-06-01T00:00:00.000",
            },
        ],
    )
    store.users[ADMIN[0]] = User(
        id="xE7jOejl9FI",
        username=ADMIN[0],
        password=ADMIN[1],
        name="John Traore",
        organisation_units=[SIERRA_LEONE],
        authorities=["ALL"],
        tokens=[ADMIN_TOKEN],
    )
    store.users[FACILITY_USER[0]] = User(
        id="DXyJmlo9rge",
        username=FACILITY_USER[0],
        password=FACILITY_USER[1],
        name="Ngelehun data clerk",
        organisation_units=[NGELEHUN],
        authorities=["F_DATAVALUE_ADD"],
    )
