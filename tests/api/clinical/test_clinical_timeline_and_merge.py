"""The timeline: keyset pages that neither repeat nor skip (ties on time included),
filters by type and period; and a patient merge that moves the clinical record to the
survivor, which an unmerge moves back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.clinical.helpers import ago, new_patient, timeline


async def _record(client, headers, patient_id, rounds=6):
    """An encounter, a note, and ``rounds`` vital-sign rounds of 3 readings (same time)."""
    visit = await client.post(
        "/api/v1/encounters/",
        headers=headers,
        json={
            "patient_id": patient_id,
            "kind": "outpatient",
            "started_at": ago(hours=12),
            "reason": "Suivi",
        },
    )
    assert visit.status_code == 201, visit.text
    for hour in range(rounds):
        response = await client.post(
            f"/api/v1/patients/{patient_id}/observations",
            headers=headers,
            json={
                "effective_at": ago(hours=10 - hour),
                "encounter_id": visit.json()["id"],
                "readings": [
                    {"code": "pulse", "value": 80 + hour},
                    {"code": "spo2", "value": 95},
                    {"code": "temperature", "value": "37.2"},
                ],
            },
        )
        assert response.status_code == 201, response.text
    note = await client.post(
        f"/api/v1/patients/{patient_id}/notes",
        headers=headers,
        json={"kind": "progress", "sections": {"assessment": "Amélioration"}},
    )
    assert note.status_code == 201
    return visit.json(), note.json()


async def _all_pages(client, headers, patient_id, **params):
    items, cursor, pages = [], None, 0
    while True:
        page = await timeline(
            client, headers, patient_id, **params, **({"cursor": cursor} if cursor else {})
        )
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


async def test_cursor_pages_cover_the_timeline_once_in_order_with_ties_on_time(client, auth):
    nurse = await auth("demo.nurse")
    patient = await new_patient(client, auth)
    await _record(client, nurse, patient["id"])
    whole = (await timeline(client, nurse, patient["id"], limit=200))["items"]
    assert len(whole) == 1 + 18 + 1
    keys = [(i["at"], i["id"]) for i in whole]
    assert keys == sorted(keys, reverse=True)
    assert whole[0]["type"] == "note" and whole[-1]["type"] == "encounter"

    paged, pages = await _all_pages(client, nurse, patient["id"], limit=7)
    assert pages == 3
    assert [i["id"] for i in paged] == [i["id"] for i in whole]
    oldest, _ = await _all_pages(client, nurse, patient["id"], limit=4, order="oldest")
    assert [i["id"] for i in oldest] == [i["id"] for i in reversed(whole)]


async def test_timeline_filters_by_type_and_half_open_period(client, auth):
    nurse = await auth("demo.nurse")
    patient = await new_patient(client, auth)
    await _record(client, nurse, patient["id"])
    whole = (await timeline(client, nurse, patient["id"], limit=200))["items"]
    observations = [i for i in whole if i["type"] == "observation"]
    since = observations[-1]["at"]  # the first round, inclusive
    until = observations[0]["at"]  # the last round, exclusive
    window = await timeline(
        client, nurse, patient["id"], types="observation", since=since, until=until, limit=200
    )
    assert len(window["items"]) == 15
    assert {i["type"] for i in window["items"]} == {"observation"}
    assert all(since <= i["at"] < until for i in window["items"])
    both = await timeline(client, nurse, patient["id"], types="note,encounter")
    assert [i["type"] for i in both["items"]] == ["note", "encounter"]

    for params, code in (
        ({"types": "observation,x-ray"}, "unknown_type"),
        ({"cursor": "x"}, "invalid_cursor"),
    ):
        bad = await client.get(
            f"/api/v1/patients/{patient['id']}/timeline", params=params, headers=nurse
        )
        assert bad.status_code == 422
        assert [e["code"] for e in bad.json()["errors"]] == [code]
    empty = await timeline(client, nurse, patient["id"], since=ago(days=2), until=ago(days=1))
    assert empty["items"] == [] and empty["next_cursor"] is None
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    recent = await timeline(
        client, nurse, patient["id"], since=ago(hours=10, minutes=30), until=later
    )
    assert len(recent["items"]) == 19  # all but the encounter's start


async def test_a_merge_moves_the_clinical_record_to_the_survivor_and_an_unmerge_back(client, auth):
    doctor = await auth("demo.doctor")
    manager = await auth("demo.data_manager")
    survivor = await new_patient(client, auth)
    duplicate = await new_patient(client, auth, given_names="Fatimatou", birth_date="1990-05-02")
    visit, note = await _record(client, doctor, duplicate["id"], rounds=1)
    before = (await timeline(client, doctor, duplicate["id"], limit=200))["items"]
    assert len(before) == 5
    assert (await timeline(client, doctor, survivor["id"]))["items"] == []

    merged = await client.post(
        f"/api/v1/patients/{survivor['id']}/merge",
        headers=manager,
        json={"duplicate_id": duplicate["id"], "reason": "Même patiente", "choices": {}},
    )
    assert merged.status_code == 201, merged.text
    moved = merged.json()["moved"]
    assert moved["clinical_encounter.patient_id"] == 1
    assert moved["clinical_observation.patient_id"] == 3
    assert moved["clinical_note.patient_id"] == 1
    during = (await timeline(client, doctor, survivor["id"], limit=200))["items"]
    assert [i["id"] for i in during] == [i["id"] for i in before]
    assert (await timeline(client, doctor, duplicate["id"]))["items"] == []
    read = await client.get(f"/api/v1/encounters/{visit['id']}", headers=doctor)
    assert read.json()["patient_id"] == survivor["id"]
    refused = await client.post(
        f"/api/v1/patients/{duplicate['id']}/notes",
        headers=doctor,
        json={"kind": "progress", "sections": {"plan": "x"}},
    )
    assert refused.status_code == 409 and refused.json()["code"] == "patient_merged"

    undone = await client.post(
        f"/api/v1/patients/merges/{merged.json()['id']}/unmerge",
        headers=manager,
        json={"reason": "Deux sœurs"},
    )
    assert undone.status_code == 200, undone.text
    after = (await timeline(client, doctor, duplicate["id"], limit=200))["items"]
    assert [i["id"] for i in after] == [i["id"] for i in before]
    assert (await timeline(client, doctor, survivor["id"]))["items"] == []
    note_read = await client.get(f"/api/v1/notes/{note['id']}", headers=doctor)
    assert note_read.json()["note"]["patient_id"] == duplicate["id"]
