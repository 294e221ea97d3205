"""Reading back the values pulled from the DHIS2 double: filters, cursor pages, scope."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from afiya.adapters.seed.demo import demo_uid
from tests.api.pbf.helpers import facility_user
from tests.doubles.dhis2.seed import BADJIA, MORTALITY_UNDER_5, NGELEHUN

from .conftest import BY_CODE, BY_CODE_DHIS2_UID, DYSENTERY, MEASLES, Linked, join

PERIODS = ["201310", "201311", "201312"]
# DHIS2 uid -> Afiya code of the units matched to Afiya (one of them by code).
MATCHED = {demo_uid("CH-TZ"): "CH-TZ", demo_uid("CS-KSAR"): "CS-KSAR", BY_CODE_DHIS2_UID: BY_CODE}


def _values() -> list[dict[str, str]]:
    """Two elements x three periods in three matched units and one unit Afiya lacks."""
    return [
        {"dataElement": de, "period": pe, "orgUnit": ou, "value": str(10 + n)}
        for n, (de, pe, ou) in enumerate(
            (de, pe, ou)
            for de in (MEASLES, DYSENTERY)
            for pe in PERIODS
            for ou in [*MATCHED, NGELEHUN]
        )
    ]


@pytest.fixture
async def pulled(client: Any, container: Any, linked: Linked, double: Any) -> list[dict[str, str]]:
    """Values entered in DHIS2, then pulled into Afiya through the API."""
    values = _values()
    entered = httpx.post(
        f"{double.base_url}/api/dataValueSets",
        json={"dataValues": values},
        auth=("admin", "district"),
    )
    assert entered.status_code == 200, entered.text
    assert entered.json()["response"]["importCount"]["imported"] == len(values)
    started = await client.post(
        f"/api/v1/dhis2/connections/{linked.connection_id}/pull-runs",
        json={"data_set": MORTALITY_UNDER_5, "org_unit": BADJIA, "periods": PERIODS},
        headers=linked.headers,
    )
    assert started.status_code == 202, started.text
    await join(container)
    run = await client.get(
        f"/api/v1/dhis2/pull-runs/{started.json()['id']}", headers=linked.headers
    )
    assert run.json()["status"] == "done" and run.json()["received"] == len(values)
    return values


async def _all(client: Any, linked: Linked, headers: dict[str, str], **params: Any) -> list[dict]:
    """Every page of the pulled values, following the cursors."""
    items: list[dict] = []
    cursor = None
    while True:
        query = {**params} | ({"cursor": cursor} if cursor else {})
        response = await client.get(
            f"/api/v1/dhis2/connections/{linked.connection_id}/pulled-values",
            params=query,
            headers=headers,
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


def _keys(items: list[dict]) -> set[tuple[str, str, str, str]]:
    return {(i["data_element"], i["period"], i["org_unit"], i["value"]) for i in items}


def _expected(values: list[dict[str, str]], keep: Any = lambda v: True) -> set[tuple]:
    return {
        (v["dataElement"], v["period"], v["orgUnit"], v["value"])
        for v in values
        if v["orgUnit"] in MATCHED and keep(v)
    }


async def test_pulled_values_of_matched_units_are_listed_page_by_page(client, linked, pulled):
    items = await _all(client, linked, linked.headers, limit=7)
    assert _keys(items) == _expected(pulled)  # the unit Afiya lacks is left out
    assert len(items) == len(_keys(items)) == 18
    ids = [i["id"] for i in items]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    by_code = next(i for i in items if i["org_unit"] == BY_CODE_DHIS2_UID)
    assert by_code["afiya_unit_id"] == linked.units[BY_CODE]
    assert by_code["stored_by"] == "admin" and by_code["deleted"] is False


async def test_pulled_values_filter_by_element_sub_tree_and_period_range(client, linked, pulled):
    measles = await _all(client, linked, linked.headers, data_element=MEASLES)
    assert _keys(measles) == _expected(pulled, lambda v: v["dataElement"] == MEASLES)
    november = await _all(client, linked, linked.headers, start="2013-11-01", end="2013-11-30")
    assert _keys(november) == _expected(pulled, lambda v: v["period"] == "201311")
    spanning = await _all(client, linked, linked.headers, start="2013-11-01", end="2013-12-31")
    assert _keys(spanning) == _expected(pulled, lambda v: v["period"] != "201310")
    ch_tz = demo_uid("CH-TZ")
    one_unit = await _all(client, linked, linked.headers, org_unit=ch_tz, data_element=DYSENTERY)
    assert _keys(one_unit) == _expected(
        pulled, lambda v: v["orgUnit"] == ch_tz and v["dataElement"] == DYSENTERY
    )
    district = await _all(client, linked, linked.headers, org_unit=BADJIA)
    assert _keys(district) == _expected(pulled)


async def test_pulled_values_refuse_unknown_units_bad_ranges_and_bad_cursors(
    client, linked, pulled
):
    url = f"/api/v1/dhis2/connections/{linked.connection_id}/pulled-values"
    unknown = await client.get(url, params={"org_unit": "Abcdefghijk"}, headers=linked.headers)
    assert unknown.status_code == 422
    assert {e["field"] for e in unknown.json()["errors"]} == {"org_unit"}
    backwards = await client.get(
        url, params={"start": "2013-12-01", "end": "2013-11-01"}, headers=linked.headers
    )
    assert backwards.status_code == 422
    assert {e["field"] for e in backwards.json()["errors"]} == {"end"}
    cursor = await client.get(url, params={"cursor": "Im5vdCBhbiBpZCI"}, headers=linked.headers)
    assert cursor.status_code == 422


async def test_a_facility_pbf_reader_sees_only_its_own_facility(client, auth, linked, pulled):
    verifier = await facility_user(client, auth, "verif.chtz", "pbf_verifier", "CH-TZ")
    items = await _all(client, linked, verifier)
    assert _keys(items) == _expected(pulled, lambda v: v["orgUnit"] == demo_uid("CH-TZ"))
    other = await _all(client, linked, verifier, org_unit=demo_uid("CS-KSAR"))
    assert other == []


async def test_reading_pulled_values_needs_pbf_read(client, auth, linked, pulled):
    admin = await auth("demo.system_admin")  # dhis2:manage, but no pbf:read
    response = await client.get(
        f"/api/v1/dhis2/connections/{linked.connection_id}/pulled-values", headers=admin
    )
    assert response.status_code == 403
