"""Computations from stored data: quality scores, counter-verification penalties,
adjustments carried forward, budget envelopes, simulation, the background job, and the
DHIS2 and XLSX exports."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal

from openpyxl import load_workbook

from tests.api.pbf.helpers import count_rows, entry, programme, step

URL = "/api/v1/pbf/programmes/FBR-MR"


def rules() -> dict:
    quantity = {
        "code": "quantity",
        "name": "Quantité",
        "kind": "quantity",
        "frequency": "monthly",
        "states": ["claimed", "verified", "validated", "cv_sampled", "cv_confirmed"],
        "activities": [
            {"code": "act1", "name": "Consultations", "constants": {"tariff": "10"}},
            {"code": "act2", "name": "Accouchements", "constants": {"tariff": "10"}},
        ],
        "activity_formulas": [
            {
                "code": "cv_rate",
                "expression": "IF(cv_sampled_is_null = 1, 1, SAFE_DIV(cv_confirmed, cv_sampled))",
            },
            {
                "code": "amount",
                "expression": "validated * tariff * IF(cv_rate < 0.8, 0.5, 1)",
                "money": True,
            },
        ],
        "package_formulas": [
            {"code": "quantity_total", "expression": "SUM(%{amount_values})", "money": True}
        ],
    }
    quality = {
        "code": "quality",
        "name": "Qualité",
        "kind": "quality",
        "frequency": "quarterly",
        "states": ["score", "max_score"],
        "activities": [{"code": "q1", "name": "Hygiène"}, {"code": "q2", "name": "Registres"}],
        "activity_formulas": [
            {"code": "points", "expression": "score"},
            {"code": "possible", "expression": "max_score"},
        ],
        "package_formulas": [
            {
                "code": "quality_score",
                "expression": "SAFE_DIV(SUM(%{points_values}), SUM(%{possible_values})) * 100",
            }
        ],
    }
    payment = {
        "code": "payment",
        "name": "Paiement",
        "frequency": "monthly",
        "packages": ["quantity", "quality"],
        "formulas": [
            {"code": "total", "expression": "quantity_total * quality_score / 100", "money": True}
        ],
        "amount_formula": "total",
        "payers": [{"payer": "state", "percent": "70"}, {"payer": "world_bank", "percent": "30"}],
    }
    return {"valid_from": "201501", "packages": [quantity, quality], "payment_rules": [payment]}


async def _validated(client, manager, verifier, ou, period, values):
    entries = [entry(ou, period, a, v) for a, v in values.items()]
    for name, who in (("declare", manager), ("verify", verifier), ("validate", manager)):
        response = await step(client, who, name, *entries)
        assert response.status_code == 200, response.text


async def _setup(client, auth, facilities=("CH-TZ",), mapping=None):
    manager, verifier = await auth("demo.pbf_manager"), await auth("demo.pbf_verifier")
    units = await programme(client, manager, rules=rules(), facilities=facilities, mapping=mapping)
    checklist = await client.post(
        f"{URL}/checklists",
        headers=manager,
        json={
            "code": "qual_cs",
            "name": "Grille qualité",
            "package": "quality",
            "sections": [
                {
                    "code": "s1",
                    "name": "Hygiène",
                    "items": [{"code": "q1", "label": "Mains", "max_score": "10"}],
                },
                {
                    "code": "s2",
                    "name": "Gestion",
                    "items": [{"code": "q2", "label": "Registres", "max_score": "20"}],
                },
            ],
        },
    )
    assert checklist.status_code == 201, checklist.text
    assert checklist.json()["max_total"] == "30"
    for _code, ou in units.items():
        await _validated(client, manager, verifier, ou, "201601", {"act1": 100, "act2": 50})
        evaluation = await client.post(
            f"{URL}/quality-evaluations",
            headers=verifier,
            json={
                "checklist": "qual_cs",
                "org_unit_id": ou["id"],
                "period": "2016Q1",
                "scores": {"q1": "8", "q2": "12"},
            },
        )
        assert evaluation.status_code == 200, evaluation.text
    return manager, verifier, units


async def _january(client, manager, period="2016Q1"):
    response = await client.post(f"{URL}/periods/{period}/compute", headers=manager)
    assert response.status_code == 200, response.text
    return [i for i in response.json()["invoices"] if i["period"] == "201601"]


async def test_quality_scores_and_counter_verification_penalties_feed_the_invoice(client, auth):
    manager, verifier, units = await _setup(client, auth)
    ou = units["CH-TZ"]
    before = await _january(client, manager)
    assert Decimal(before[0]["total"]) == Decimal("1000.00")  # 1500 x 20/30
    cv = await client.post(
        f"{URL}/counter-verifications",
        headers=verifier,
        json={
            "org_unit_id": ou["id"],
            "period": "201601",
            "package": "quantity",
            "activity": "act2",
            "sampled": 10,
            "found": 7,
            "confirmed": 5,
        },
    )
    assert cv.status_code == 200, cv.text
    after = await _january(client, manager)
    assert Decimal(after[0]["total"]) == Decimal("833.33")  # (1000 + 250) x 2/3
    payers = {p["payer"]: Decimal(p["amount"]) for p in after[0]["payers"]}
    assert sum(payers.values()) == Decimal("833.33")


async def test_bad_quality_scores_and_counts_are_refused_with_every_field(client, auth):
    _manager, verifier, units = await _setup(client, auth)
    ou = units["CH-TZ"]
    evaluation = await client.post(
        f"{URL}/quality-evaluations",
        headers=verifier,
        json={
            "checklist": "qual_cs",
            "org_unit_id": ou["id"],
            "period": "201601",
            "scores": {"q1": "11", "q9": "1"},
        },
    )
    assert evaluation.status_code == 422
    assert {e["field"] for e in evaluation.json()["errors"]} == {
        "period",
        "scores.q1",
        "scores.q2",
        "scores.q9",
    }
    cv = await client.post(
        f"{URL}/counter-verifications",
        headers=verifier,
        json={
            "org_unit_id": ou["id"],
            "period": "201601",
            "package": "quantity",
            "activity": "act2",
            "sampled": 3,
            "found": 4,
            "confirmed": 5,
        },
    )
    assert cv.status_code == 422
    assert {e["field"] for e in cv.json()["errors"]} == {"found", "confirmed"}


async def test_an_adjustment_is_carried_to_the_next_payment(client, auth):
    manager, _, units = await _setup(client, auth)
    ou = units["CH-TZ"]
    late = await client.post(
        f"{URL}/adjustments",
        headers=manager,
        json={
            "org_unit_id": ou["id"],
            "payment_rule": "payment",
            "origin_period": "201601",
            "apply_period": "201512",
            "amount": "-100",
            "reason": "Contre-vérification",
        },
    )
    assert late.status_code == 422 and late.json()["errors"][0]["field"] == "apply_period"
    made = await client.post(
        f"{URL}/adjustments",
        headers=manager,
        json={
            "org_unit_id": ou["id"],
            "payment_rule": "payment",
            "origin_period": "201512",
            "apply_period": "201601",
            "amount": "-100",
            "reason": "Sur-déclaration de décembre",
        },
    )
    assert made.status_code == 201, made.text
    invoice = (await _january(client, manager))[0]
    assert Decimal(invoice["computed_total"]) == Decimal("1000.00")
    assert Decimal(invoice["carried_adjustments"]) == Decimal("-100.00")
    assert Decimal(invoice["total"]) == Decimal("900.00")
    assert sum(Decimal(p["amount"]) for p in invoice["payers"]) == Decimal("900.00")


async def test_the_budget_envelope_scales_invoices_to_fit_exactly(client, auth):
    manager, _, _ = await _setup(client, auth, facilities=("CH-TZ", "CH-NEMA"))
    budget = await client.put(
        f"{URL}/budgets/201601", headers=manager, json={"amount": "1500.01", "policy": "scale"}
    )
    assert budget.status_code == 200, budget.text
    invoices = await _january(client, manager)
    assert len(invoices) == 2
    assert sum(Decimal(i["total"]) for i in invoices) == Decimal("1500.01")
    assert all(Decimal(i["budget_adjustment"]) < 0 for i in invoices)


async def test_a_simulation_changes_tariffs_and_writes_nothing(client, auth, container):
    manager, _, _ = await _setup(client, auth)
    real = await _january(client, manager)
    analyst = await auth("demo.data_manager")
    tables = ("change_log", "pbf_computation", "pbf_invoice", "audit_event")
    before = [await count_rows(container, t) for t in tables]
    simulated = await client.post(
        f"{URL}/periods/2016Q1/simulate",
        headers=analyst,
        json={
            "constants": [
                {"package": "quantity", "activity": "act1", "constant": "tariff", "value": "20"}
            ]
        },
    )
    assert simulated.status_code == 200, simulated.text
    body = simulated.json()
    january = next(i for i in body["invoices"] if i["period"] == "201601")
    assert body["simulated"] and january["simulated"]
    assert Decimal(january["total"]) == Decimal("1666.67")  # (2000 + 500) x 2/3
    assert january["rule_set_hash"] != real[0]["rule_set_hash"]
    assert [await count_rows(container, t) for t in tables] == before
    computed = await client.post(f"{URL}/periods/2016Q1/compute", headers=analyst)
    assert computed.status_code == 403


async def test_the_background_job_stores_the_same_invoices(client, auth, container):
    manager, _, _ = await _setup(client, auth)
    direct = await client.post(f"{URL}/periods/2016Q1/compute", headers=manager)
    scheduled = await client.post(f"{URL}/periods/2016Q1/compute-job", headers=manager)
    assert scheduled.status_code == 202, scheduled.text
    listing = {}
    for _ in range(200):  # the in-process runner executes it after the commit
        listing = (await client.get(f"{URL}/periods/2016Q1/invoices", headers=manager)).json()
        if listing["id"] != direct.json()["id"]:
            break
        await asyncio.sleep(0.05)
    assert listing["id"] != direct.json()["id"], "the job did not run"
    assert await count_rows(container, "pbf_computation") == 2
    strip = lambda invoices: sorted(  # noqa: E731
        (i["period"], i["total"], i["rule_set_hash"]) for i in invoices
    )
    assert strip(listing["invoices"]) == strip(direct.json()["invoices"])


async def test_results_export_as_dhis2_data_values_and_xlsx(client, auth):
    mapping = {"quantity.amount.act1": "deAct1Amt01", "payment.total": "dePayTotal1.cocDefault1"}
    manager, _, units = await _setup(client, auth, mapping=mapping)
    await _january(client, manager)
    values = (await client.get(f"{URL}/periods/2016Q1/dhis2", headers=manager)).json()["dataValues"]
    uid = units["CH-TZ"]["uid"]
    assert {
        "dataElement": "deAct1Amt01",
        "period": "201601",
        "orgUnit": uid,
        "value": "1000.00",
    } in values
    assert {
        "dataElement": "dePayTotal1",
        "categoryOptionCombo": "cocDefault1",
        "period": "201601",
        "orgUnit": uid,
        "value": "1000.00",
    } in values
    assert {v["dataElement"] for v in values} == {"deAct1Amt01", "dePayTotal1"}
    export = await client.get(f"{URL}/periods/2016Q1/invoices.xlsx", headers=manager)
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content), read_only=True)
    invoices = list(book["invoices"].iter_rows(values_only=True))
    assert invoices[0][:3] == ("facility_code", "facility", "payment_rule")
    january = next(r for r in invoices[1:] if r[3] == "201601")
    assert january[0] == "CH-TZ" and january[8] == 1000
    lines = list(book["lines"].iter_rows(values_only=True))
    assert any(
        r[4] == "amount" and r[5] == "act1" and r[9].startswith("act1_amount_") for r in lines[1:]
    )
