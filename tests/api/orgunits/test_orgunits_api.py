"""Organisation units through the API: create, read, update, delete, import from DHIS2."""

from __future__ import annotations

import json

from tests.conftest import SHARED


async def _unit(client, headers, code):
    listing = await client.get(
        "/api/v1/org-units/", params={"q": code, "limit": 200}, headers=headers
    )
    return next(u for u in listing.json()["items"] if u["code"] == code)


async def test_facility_admin_creates_a_department_in_her_facility(client, auth):
    admin_a = await auth("demo.facility_admin")
    facility = await _unit(client, admin_a, "CH-TZ")
    response = await client.post(
        "/api/v1/org-units/",
        headers=admin_a,
        json={
            "name": "Chirurgie",
            "kind": "department",
            "parent_id": facility["id"],
            "code": "CH-TZ-S9",
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["level"] == 5 and len(created["uid"]) == 11
    assert created["path"].endswith(created["uid"] + "/")
    assert created["currency"] == "MRU" and created["timezone"] == "Africa/Nouakchott"


async def test_facility_admin_cannot_create_units_in_another_facility(client, auth):
    admin = await auth("demo.system_admin")
    facility_b = await _unit(client, admin, "CH-NEMA")
    admin_a = await auth("demo.facility_admin")
    response = await client.post(
        "/api/v1/org-units/",
        headers=admin_a,
        json={"name": "Chirurgie", "kind": "department", "parent_id": facility_b["id"]},
    )
    assert response.status_code == 403


async def test_hierarchy_and_uniqueness_rules_answer_422_with_every_field(client, auth):
    admin = await auth("demo.system_admin")
    district = await _unit(client, admin, "MR-R1-D1")
    response = await client.post(
        "/api/v1/org-units/",
        headers=admin,
        json={
            "name": "Salle",
            "kind": "ward",
            "parent_id": district["id"],
            "code": "CH-TZ",
            "timezone": "Mars/Olympus",
        },
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"kind", "code", "timezone"}


async def test_update_with_a_stale_version_is_refused(client, auth):
    admin = await auth("demo.system_admin")
    unit = await _unit(client, admin, "CS-KSAR")
    full = (await client.get(f"/api/v1/org-units/{unit['id']}", headers=admin)).json()
    ok = await client.patch(
        f"/api/v1/org-units/{unit['id']}",
        headers=admin,
        json={"name": "CS de Ksar", "version": full["version"]},
    )
    assert ok.status_code == 200 and ok.json()["version"] == full["version"] + 1
    stale = await client.patch(
        f"/api/v1/org-units/{unit['id']}",
        headers=admin,
        json={"name": "Autre", "version": full["version"]},
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_mismatch"


async def test_a_unit_with_children_cannot_be_deleted_but_a_leaf_can(client, auth):
    admin = await auth("demo.system_admin")
    facility = await _unit(client, admin, "CS-KSAR")
    ward = await _unit(client, admin, "CS-KSAR-S1-W1")
    refused = await client.delete(f"/api/v1/org-units/{facility['id']}", headers=admin)
    assert refused.status_code == 409
    deleted = await client.delete(f"/api/v1/org-units/{ward['id']}", headers=admin)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/org-units/{ward['id']}", headers=admin)
    assert gone.status_code == 404


async def test_pagination_walks_every_unit_once_in_stable_order(client, auth):
    admin = await auth("demo.system_admin")
    seen, cursor = [], None
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/org-units/", params=params, headers=admin)).json()
        seen.extend(u["id"] for u in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    everything = (
        await client.get("/api/v1/org-units/", params={"limit": 200}, headers=admin)
    ).json()["items"]
    assert seen == [u["id"] for u in everything]
    assert len(seen) == len(set(seen)) > 20


def _dhis2_export():
    return json.loads(
        (SHARED / "fixtures/dhis2/dhis2-android-sdk/organisation_units.json").read_text()
    )


async def test_dhis2_import_refuses_a_new_root_outside_the_callers_assignment(client, auth):
    admin = await auth("demo.system_admin")
    report = (
        await client.post(
            "/api/v1/org-units/import/dhis2",
            headers=admin,
            json={"organisationUnits": [{"id": "ImspTQPwCqd", "name": "Sierra Leone", "level": 1}]},
        )
    ).json()
    assert report["created"] == 0
    assert report["errors"] == [{"uid": "ImspTQPwCqd", "error": "outside your assignment"}]


async def test_dhis2_import_reports_units_whose_parent_is_unknown(client, auth):
    admin = await auth("demo.system_admin")
    export = _dhis2_export()
    report = (
        await client.post("/api/v1/org-units/import/dhis2", headers=admin, json=export)
    ).json()
    assert report["created"] == 0
    assert {e["uid"] for e in report["errors"]} == {u["id"] for u in export["organisationUnits"]}
    assert any("O6uvpzGd5pu" in e["error"] for e in report["errors"])


async def test_dhis2_import_creates_the_tree_and_is_idempotent_and_follows_moves(client, auth):
    admin = await auth("demo.system_admin")
    export = _dhis2_export()
    # The fixture is a sub-tree; hang its region under the demo country (the admin's
    # scope), as an export from the national DHIS2 would.
    country = await _unit(client, admin, "MR")
    ancestors = [
        {"id": country["uid"], "name": country["name"], "level": 1},
        {"id": "O6uvpzGd5pu", "name": "Bo", "level": 2, "parent": {"id": country["uid"]}},
    ]
    payload = {
        "organisationUnits": ancestors + export["organisationUnits"],
        "default_timezone": "Africa/Freetown",
        "default_currency": "XOF",
    }
    report = (
        await client.post("/api/v1/org-units/import/dhis2", headers=admin, json=payload)
    ).json()
    assert report["errors"] == []
    assert report["created"] == len(payload["organisationUnits"]) - 1  # the country exists

    again = (
        await client.post("/api/v1/org-units/import/dhis2", headers=admin, json=payload)
    ).json()
    assert (again["created"], again["updated"]) == (0, 0)
    # The export did not carry the country's code: Afiya's is kept.
    assert (await _unit(client, admin, "MR"))["code"] == "MR"

    # Re-districting: a facility moves under another parent and keeps its id.
    facility = next(u for u in export["organisationUnits"] if u["level"] == 4)
    before = await _unit(client, admin, facility["code"])
    moved = dict(facility, parent={"id": "O6uvpzGd5pu"})
    payload["organisationUnits"] = [ancestors[1], moved]
    report = (
        await client.post("/api/v1/org-units/import/dhis2", headers=admin, json=payload)
    ).json()
    assert report["updated"] == 1
    after = (await client.get(f"/api/v1/org-units/{before['id']}", headers=admin)).json()
    assert after["path"] == f"/{country['uid']}/O6uvpzGd5pu/{facility['id']}/"
    assert after["level"] == 3
