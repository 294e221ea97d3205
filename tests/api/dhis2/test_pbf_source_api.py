"""PBF results as a figure source: a computed PBF period pushed to the DHIS2 double, the
payment recorded when the period is locked, and an alert when DHIS2 changes a paid value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from afiya.adapters.seed.demo import demo_uid
from tests.api.pbf.helpers import entry, programme, reference_rules, step
from tests.doubles.dhis2.seed import BADJIA, BCG_DOSES, CHILD_HEALTH, FEMALE, MALE

from .conftest import Linked, join, push

PBF = "/api/v1/pbf/programmes/FBR-MR"
JANUARY = {"start": "2016-01-01", "end": "2016-01-31"}
FACILITIES = ("CH-TZ", "CS-KSAR")  # both matched to the double's units by uid


async def _computed_january(client: Any, auth: Any) -> tuple[dict[str, str], list[dict]]:
    """A PBF programme over two facilities, January 2016 declared, verified, validated and
    computed; return the PBF manager's headers and the invoices."""
    manager, verifier = await auth("demo.pbf_manager"), await auth("demo.pbf_verifier")
    units = await programme(
        client, manager, rules=reference_rules(tariff="10"), facilities=FACILITIES
    )
    for n, ou in enumerate(units.values()):
        entries = [entry(ou, "201601", "act1", 100 + n), entry(ou, "201601", "act2", 50 + n)]
        for name, who in (("declare", manager), ("verify", verifier), ("validate", manager)):
            response = await step(client, who, name, *entries)
            assert response.status_code == 200, response.text
    computed = await client.post(f"{PBF}/periods/201601/compute", headers=manager)
    assert computed.status_code == 200, computed.text
    invoices = []
    for listed in computed.json()["invoices"]:
        read = await client.get(f"/api/v1/pbf/invoices/{listed['id']}", headers=manager)
        assert read.status_code == 200, read.text
        invoices.append(read.json())
    return manager, invoices


async def _map(client: Any, linked: Linked, figure: str, combo: str) -> Any:
    return await client.post(
        f"/api/v1/dhis2/connections/{linked.connection_id}/mappings",
        json={
            "figure": figure,
            "source": "pbf_results",
            "period_type": "Monthly",
            "data_element": BCG_DOSES,
            "category_option_combo": combo,
            "data_set": CHILD_HEALTH,
        },
        headers=linked.headers,
    )


def _expected(invoices: list[dict]) -> dict[tuple[str, str], str]:
    """(unit id, combo) -> what DHIS2 must hold, read from the PBF invoices themselves."""
    wanted: dict[tuple[str, str], str] = {}
    for invoice in invoices:
        assert invoice["period"] == "201601"
        (line,) = [
            line
            for line in invoice["lines"]
            if (line["source"], line["formula"], line["activity"]) == ("quantity", "amount", "act1")
        ]
        wanted[(invoice["org_unit_id"], MALE)] = line["value"]
        wanted[(invoice["org_unit_id"], FEMALE)] = invoice["total"]
    return wanted


async def test_a_computed_pbf_period_is_pushed_and_a_paid_value_changed_in_dhis2_raises_an_alert(
    client, container, auth, linked, double
):
    double.admin("config", {"today": "2016-06-01"})  # January 2016 is open for data entry
    manager, invoices = await _computed_january(client, auth)
    assert len(invoices) == len(FACILITIES)
    amount = await _map(client, linked, "FBR-MR:quantity.amount.act1", MALE)
    total = await _map(client, linked, "FBR-MR:payment.total", FEMALE)
    assert amount.status_code == total.status_code == 201, (amount.text, total.text)
    assert amount.json()["source"] == "pbf_results"
    mapped = [amount.json()["id"], total.json()["id"]]

    first = await push(client, container, linked, {**JANUARY, "mapping_ids": mapped})
    assert first["status"] == "done", first
    assert first["total_values"] == 4 and first["totals"]["imported"] == 4
    unit_uid = {u: demo_uid(code) for code, u in linked.units.items()}
    expected = _expected(invoices)
    for (unit_id, combo), value in expected.items():
        stored = double.stored(BCG_DOSES, "201601", unit_uid[unit_id], co=combo)
        assert stored is not None, (unit_id, combo)
        assert Decimal(stored["value"]) == Decimal(value)
    # The two facilities declared different quantities: the values differ per unit.
    assert len({expected[(u, MALE)] for u in {k[0] for k in expected}}) == 2

    again = await push(client, container, linked, {**JANUARY, "mapping_ids": mapped})
    assert again["total_values"] == 0 and again["plan"]["unchanged"] == 4

    locked = await client.post(
        f"{PBF}/periods/201601/lock", json={"reason": "paid"}, headers=manager
    )
    assert locked.status_code == 200, locked.text
    posts = double.requests_to("POST /api/dataValueSets")
    paid = await push(client, container, linked, {**JANUARY, "mapping_ids": mapped})
    assert paid["total_values"] == 0 and double.requests_to("POST /api/dataValueSets") == posts
    ledger = (
        await client.get(
            f"/api/v1/dhis2/connections/{linked.connection_id}/ledger",
            params={"data_element": BCG_DOSES},
            headers=linked.headers,
        )
    ).json()["items"]
    assert len(ledger) == 4 and all(e["paid_at"] for e in ledger)

    # Someone edits the paid January amount of CH-TZ in DHIS2.
    ch_tz = demo_uid("CH-TZ")
    edited = httpx.post(
        f"{double.base_url}/api/dataValueSets",
        json={
            "dataValues": [
                {
                    "dataElement": BCG_DOSES,
                    "period": "201601",
                    "orgUnit": ch_tz,
                    "categoryOptionCombo": MALE,
                    "value": "7",
                }
            ]
        },
        auth=("admin", "district"),
    )
    assert edited.status_code == 200, edited.text
    pulled = await client.post(
        f"/api/v1/dhis2/connections/{linked.connection_id}/pull-runs",
        json={"data_set": CHILD_HEALTH, "org_unit": BADJIA, "periods": ["201601"]},
        headers=linked.headers,
    )
    assert pulled.status_code == 202, pulled.text
    await join(container)
    alerts = (
        await client.get(
            f"/api/v1/dhis2/connections/{linked.connection_id}/alerts", headers=linked.headers
        )
    ).json()
    (alert,) = alerts
    assert alert["kind"] == "changed_after_payment"
    assert alert["expected"] == expected[(linked.units["CH-TZ"], MALE)] and alert["found"] == "7"
    assert alert["value_key"].split("|")[:4] == [BCG_DOSES, "201601", ch_tz, MALE]


async def test_a_pbf_mapping_must_name_programme_package_and_formula(client, linked):
    bad = await _map(client, linked, "quantity.amount", MALE)
    assert bad.status_code == 422, bad.text
    fields = {e["field"] for e in bad.json()["errors"]}
    assert "figure" in fields
    good = await _map(client, linked, "FBR-MR:quantity.amount", MALE)
    assert good.status_code == 201, good.text


async def test_a_pbf_figure_is_not_pushed_before_its_period_is_computed(
    client, container, auth, linked, double
):
    double.admin("config", {"today": "2016-06-01"})
    await _computed_january(client, auth)
    made = await _map(client, linked, "FBR-MR:quantity.amount.act1", MALE)
    assert made.status_code == 201, made.text
    february = await push(
        client,
        container,
        linked,
        {"start": "2016-02-01", "end": "2016-02-29", "mapping_ids": [made.json()["id"]]},
    )
    assert february["status"] == "done" and february["total_values"] == 0
    assert double.stored(BCG_DOSES, "201602", demo_uid("CH-TZ"), co=MALE) is None
