"""Shared steps of the PBF API tests: a programme with the public reference rules."""

from __future__ import annotations

from typing import Any

FORMULAS = [
    {
        "code": "difference_percentage",
        "expression": (
            "IF(verified_is_null = 1, 0, SAFE_DIV(ABS(claimed - verified), verified) * 100)"
        ),
    },
    {"code": "qtt_percent_rule", "expression": "IF(difference_percentage <= 5, validated, 0)"},
    {"code": "monthly_sanction", "expression": "IF(difference_percentage > 5, 1, 0)"},
    {
        "code": "quarterly_sanction",
        "expression": "IF(SUM(%{monthly_sanction_current_quarter_values}) > 0, 0, 1)",
    },
    {
        "code": "amount",
        "expression": "qtt_percent_rule * quarterly_sanction * tariff",
        "money": True,
    },
]


def reference_rules(tariff: str = "1", **payment: Any) -> dict[str, Any]:
    """The hesabu reference rules (tariff 1 reproduces it exactly) and a monthly payment."""
    return {
        "valid_from": "201501",
        "packages": [
            {
                "code": "quantity",
                "name": "Quantité",
                "kind": "quantity",
                "frequency": "monthly",
                "states": ["claimed", "verified", "validated"],
                "activities": [
                    {"code": "act1", "name": "Consultations", "constants": {"tariff": tariff}},
                    {"code": "act2", "name": "CPN", "constants": {"tariff": tariff}},
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
                "payers": [
                    {"payer": "state", "percent": "70"},
                    {"payer": "world_bank", "percent": "30"},
                ],
                **payment,
            }
        ],
    }


async def unit(client: Any, headers: dict[str, str], code: str) -> dict[str, Any]:
    listing = await client.get(
        "/api/v1/org-units/", params={"q": code, "limit": 200}, headers=headers
    )
    return next(u for u in listing.json()["items"] if u["code"] == code)


async def programme(
    client: Any,
    manager: dict[str, str],
    *,
    rules: dict[str, Any] | None = None,
    facilities: tuple[str, ...] = ("CH-TZ",),
    code: str = "FBR-MR",
    mapping: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Create a programme, store its rules and contract ``facilities`` from 2015."""
    created = await client.post(
        "/api/v1/pbf/programmes",
        headers=manager,
        json={
            "code": code,
            "name": "FBR Mauritanie",
            "currency": "MRU",
            "dhis2_mapping": mapping or {},
        },
    )
    assert created.status_code == 201, created.text
    stored = await client.post(
        f"/api/v1/pbf/programmes/{code}/rule-sets", headers=manager, json=rules or reference_rules()
    )
    assert stored.status_code == 201, stored.text
    units = {}
    for facility in facilities:
        units[facility] = await unit(client, manager, facility)
        contract = await client.post(
            f"/api/v1/pbf/programmes/{code}/contracts",
            headers=manager,
            json={
                "org_unit_id": units[facility]["id"],
                "agency": "ACV Nouakchott",
                "category": "hospital",
                "payer": "state",
                "start_date": "2015-01-01",
            },
        )
        assert contract.status_code == 201, contract.text
    return units


def entry(ou: dict[str, Any], period: str, activity: str, value: Any) -> dict[str, Any]:
    return {
        "org_unit_id": ou["id"],
        "period": period,
        "package": "quantity",
        "activity": activity,
        "value": value,
    }


async def step(
    client: Any, headers: dict[str, str], name: str, *entries: dict[str, Any], code: str = "FBR-MR"
) -> Any:
    return await client.post(
        f"/api/v1/pbf/programmes/{code}/declarations/{name}",
        headers=headers,
        json={"entries": list(entries)},
    )


async def reference_data(
    client: Any, manager: dict[str, str], verifier: dict[str, str], ou: dict[str, Any]
) -> None:
    """Activity 1: claimed 40, verified 33 in January; activity 2: validated 80, no verified."""
    ok = await step(
        client,
        manager,
        "declare",
        entry(ou, "201601", "act1", 40),
        entry(ou, "201601", "act2", None),
    )
    assert ok.status_code == 200, ok.text
    ok = await step(
        client,
        verifier,
        "verify",
        entry(ou, "201601", "act1", 33),
        entry(ou, "201601", "act2", None),
    )
    assert ok.status_code == 200, ok.text
    ok = await step(client, manager, "validate", entry(ou, "201601", "act2", 80))
    assert ok.status_code == 200, ok.text


PASSWORD = "Long-enough-pass-1"


async def facility_user(
    client: Any, auth: Any, username: str, role: str, facility: str
) -> dict[str, str]:
    """A user with ``role`` assigned to one facility only, signed in."""
    from tests.conftest import login

    admin = await auth("demo.system_admin")
    ou = await unit(client, admin, facility)
    created = await client.post(
        "/api/v1/users/",
        headers=admin,
        json={
            "username": username,
            "full_name": username,
            "password": PASSWORD,
            "roles": [role],
            "unit_ids": [ou["id"]],
        },
    )
    assert created.status_code == 201, created.text
    return await login(client, username, PASSWORD)


async def audit_actions(container: Any, prefix: str = "pbf.") -> list[tuple[str, str | None]]:
    from sqlalchemy import select

    from afiya.adapters.db.models.platform import AuditEventRow

    async with container.engine.connect() as conn:
        rows = await conn.execute(
            select(AuditEventRow.action, AuditEventRow.username)
            .where(AuditEventRow.action.like(prefix + "%"))
            .order_by(AuditEventRow.seq)
        )
        return [(a, u) for a, u in rows]


async def count_rows(container: Any, table: str) -> int:
    from sqlalchemy import text

    async with container.engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
