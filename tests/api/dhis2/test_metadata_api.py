"""Metadata pulled from DHIS2, org units reconciled with Afiya's, mappings validated."""

from __future__ import annotations

from afiya.adapters.seed.demo import demo_uid

from .conftest import BY_CODE, BY_CODE_DHIS2_UID, MEASLES, Linked, join

CHILD_HEALTH, BCG_DOSES, MALE = "lyLU2wR22tC", "s46m5MS0hxu", "Gmbgme7z9BF"
DEFAULT_COC = "HllvX50cXC0"


async def _get(client, linked: Linked, path: str, **params):
    response = await client.get(
        f"/api/v1/dhis2/connections/{linked.connection_id}/{path}",
        params=params,
        headers=linked.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _sync(client, container, linked: Linked, **body) -> None:
    response = await client.post(
        f"/api/v1/dhis2/connections/{linked.connection_id}/metadata-sync",
        json=body,
        headers=linked.headers,
    )
    assert response.status_code == 202, response.text
    await join(container)


async def test_org_units_are_matched_by_uid_then_code_and_the_rest_reported(client, linked):
    report = await _get(client, linked, "org-unit-report")
    assert (report["matched_by_uid"], report["matched_by_code"]) == (4, 1)
    unmatched = {u["uid"] for u in report["unmatched"]}
    assert len(unmatched) == 8  # the double's own Sierra Leone units
    assert BY_CODE_DHIS2_UID not in unmatched and demo_uid("CH-TZ") not in unmatched
    bassi = await _get(client, linked, "metadata/organisationUnits", q=BY_CODE)
    assert bassi["items"][0]["match_method"] == "code"
    assert bassi["items"][0]["afiya_unit_id"] == linked.units[BY_CODE]


async def test_every_collection_is_pulled_with_the_fields_afiya_maps(client, linked):
    for resource, expected in (
        ("organisationUnitLevels", 4),
        ("organisationUnitGroups", 2),
        ("organisationUnitGroupSets", 1),
        ("categoryCombos", 2),
        ("categoryOptionCombos", 3),
        ("dataElements", 7),
        ("dataSets", 2),
    ):
        page = await _get(client, linked, f"metadata/{resource}", limit=200)
        assert len(page["items"]) == expected, resource
    ngelehun = (await _get(client, linked, "metadata/organisationUnits", q="DiszpKrYNg8"))["items"]
    assert ngelehun[0]["path"] == "/ImspTQPwCqd/O6uvpzGd5pu/YuQRtpLP10I/DiszpKrYNg8"
    assert ngelehun[0]["level"] == 4 and ngelehun[0]["parent_uid"] == "YuQRtpLP10I"


async def test_the_sync_is_incremental_by_last_updated_unless_full(
    client, container, linked, double
):
    # Renamed in DHIS2 but stamped before the last sync: an incremental sync skips it...
    double.admin(
        "metadata",
        {
            "dataElements": [
                {"id": MEASLES, "name": "Rougeole", "lastUpdated": "2010-01-01T00:00:00.000"}
            ]
        },
    )
    # ...while a change stamped now is picked up.
    double.admin("metadata", {"dataElements": [{"id": "Ix2HsbDMLea", "name": "Dysenterie"}]})
    await _sync(client, container, linked)
    names = {
        o["uid"]: o["name"]
        for o in (await _get(client, linked, "metadata/dataElements", limit=200))["items"]
    }
    assert names[MEASLES] == "Measles" and names["Ix2HsbDMLea"] == "Dysenterie"
    await _sync(client, container, linked, full=True)
    items = (await _get(client, linked, "metadata/dataElements", q=MEASLES))["items"]
    assert items[0]["name"] == "Rougeole"


async def test_a_unit_moved_in_dhis2_moves_in_afiya_and_keeps_its_id(
    client, container, linked, double
):
    tree = [
        ("MR", None, 1),
        ("MR-R1", "MR", 2),
        ("MR-R1-D1", "MR-R1", 3),
        ("MR-R1-D2", "MR-R1", 3),
        ("CS-KSAR", "MR-R1-D1", 4),
    ]
    double.admin(
        "metadata",
        {
            "organisationUnits": [
                {"id": demo_uid(c), "code": c, "name": c, "level": level}
                | ({"parent": {"id": demo_uid(p)}} if p else {})
                for c, p, level in tree
            ]
        },
    )
    await _sync(client, container, linked)
    before = (
        await client.get(f"/api/v1/org-units/{linked.units['CS-KSAR']}", headers=linked.headers)
    ).json()
    assert before["path"].split("/")[-3] == demo_uid("MR-R1-D1")
    double.admin(
        "metadata",
        {
            "organisationUnits": [
                {
                    "id": demo_uid("CS-KSAR"),
                    "code": "CS-KSAR",
                    "name": "CS-KSAR",
                    "level": 4,
                    "parent": {"id": demo_uid("MR-R1-D2")},
                }
            ]
        },
    )
    await _sync(client, container, linked, update_afiya_units=True)
    after = (
        await client.get(f"/api/v1/org-units/{linked.units['CS-KSAR']}", headers=linked.headers)
    ).json()
    assert after["id"] == before["id"]
    assert after["path"].split("/")[-3] == demo_uid("MR-R1-D2")
    assert after["version"] == before["version"] + 1
    ksar = await _get(client, linked, "metadata/organisationUnits", q=demo_uid("CS-KSAR"))
    assert ksar["items"][0]["parent_uid"] == demo_uid("MR-R1-D2")
    assert ksar["items"][0]["match_method"] == "uid"


async def test_mappings_are_checked_against_the_pulled_metadata(client, linked):
    url = f"/api/v1/dhis2/connections/{linked.connection_id}/mappings"
    unknown = await client.post(
        url,
        json={"figure": "x.unknown", "period_type": "Monthly", "data_element": "NoSuchDE001"},
        headers=linked.headers,
    )
    assert unknown.status_code == 422
    assert {e["field"] for e in unknown.json()["errors"]} == {"data_element"}
    wrong = await client.post(
        url,
        json={
            "figure": "x.wrong",
            "period_type": "Weekly",
            "data_element": MEASLES,
            "category_option_combo": MALE,
            "data_set": CHILD_HEALTH,
        },
        headers=linked.headers,
    )
    assert wrong.status_code == 422
    codes = {(e["field"], e["code"]) for e in wrong.json()["errors"]}
    assert codes == {
        ("category_option_combo", "mismatch"),  # Male is not in Measles' default combo
        ("period_type", "mismatch"),  # Child Health is monthly
        ("data_element", "mismatch"),  # Measles is not in Child Health
    }
    duplicate = await client.post(
        url,
        json={"figure": "x.again", "period_type": "Monthly", "data_element": MEASLES},
        headers=linked.headers,
    )
    assert {e["code"] for e in duplicate.json()["errors"]} == {"unique"}
    good = await client.post(
        url,
        json={
            "figure": "pbf.bcg_boys",
            "period_type": "Monthly",
            "data_element": BCG_DOSES,
            "category_option_combo": MALE,
            "attribute_option_combo": DEFAULT_COC,
            "data_set": CHILD_HEALTH,
        },
        headers=linked.headers,
    )
    assert good.status_code == 201, good.text
    mapping = good.json()
    moved = await client.patch(
        f"/api/v1/dhis2/mappings/{mapping['id']}",
        json={"period_type": "Quarterly", "version": mapping["version"]},
        headers=linked.headers,
    )
    assert moved.status_code == 422
    assert (
        await client.delete(f"/api/v1/dhis2/mappings/{mapping['id']}", headers=linked.headers)
    ).status_code == 204
    listed = await client.get(url, headers=linked.headers)
    assert "pbf.bcg_boys" not in {m["figure"] for m in listed.json()}
