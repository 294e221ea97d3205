"""Encounters through the API: admission, transfer, discharge (death with an ICD-10
cause), in the timeline in order; emergency triage; state and scope refusals."""

from __future__ import annotations

from tests.api.clinical.helpers import ago, new_patient, timeline, unit_ids


async def _admit(client, doctor, patient, units, **overrides):
    body = {
        "patient_id": patient["id"],
        "kind": "inpatient",
        "started_at": ago(days=3),
        "reason": "Fièvre et altération de l'état général",
        "location": {
            "department_id": units["CH-TZ-S1"],
            "ward_id": units["CH-TZ-S1-W1"],
            "bed": "12",
        },
    }
    body.update(overrides)
    response = await client.post("/api/v1/encounters/", headers=doctor, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_admission_transfer_and_death_round_trip_and_appear_in_the_timeline_in_order(
    client, auth
):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    units = await unit_ids(client, doctor)
    admission = await _admit(client, doctor, patient, units)
    assert admission["status"] == "in_progress"
    assert admission["location"]["bed"] == "12"

    moved = await client.post(
        f"/api/v1/encounters/{admission['id']}/transfers",
        headers=doctor,
        json={
            "at": ago(days=2),
            "to": {"department_id": units["CH-TZ-S1"], "ward_id": units["CH-TZ-S1-W2"]},
        },
    )
    assert moved.status_code == 200, moved.text
    assert [m["location"]["ward_id"] for m in moved.json()["movements"]] == [
        units["CH-TZ-S1-W1"],
        units["CH-TZ-S1-W2"],
    ]
    diagnosis = await client.post(
        f"/api/v1/encounters/{admission['id']}/diagnoses",
        headers=doctor,
        json={"code": "a419", "rank": "primary"},
    )
    assert diagnosis.status_code == 201, diagnosis.text
    assert diagnosis.json()[0]["code"] == "A41.9"

    death_at = ago(hours=5)
    discharged = await client.post(
        f"/api/v1/encounters/{admission['id']}/discharge",
        headers=doctor,
        json={
            "at": ago(hours=4),
            "mode": "death",
            "death": {"at": death_at, "cause_code": "B54"},
        },
    )
    assert discharged.status_code == 200, discharged.text

    read = await client.get(f"/api/v1/encounters/{admission['id']}", headers=doctor)
    assert read.status_code == 200
    body = read.json()
    assert body["status"] == "finished"
    assert body["discharge"]["mode"] == "death"
    assert body["discharge"]["death"]["cause_code"] == "B54"
    assert len(body["movements"]) == 2
    assert [d["code"] for d in body["diagnoses"]] == ["A41.9"]

    page = await timeline(client, doctor, patient["id"], types="encounter", order="oldest")
    steps = [(i["type"], i["link"]) for i in page["items"]]
    assert steps == [("encounter", f"/api/v1/encounters/{admission['id']}")] * 3
    at = [i["at"] for i in page["items"]]
    assert at == sorted(at)
    french = [i["summary"] for i in page["items"]]
    assert french[0].startswith("Début") or "Hospitalisation" in french[0]
    assert "Décès" in french[2]
    newest = await timeline(client, doctor, patient["id"])  # the diagnosis was recorded now
    assert [i["type"] for i in newest["items"]] == ["diagnosis", *["encounter"] * 3]
    assert "Décès" in newest["items"][1]["summary"]
    assert newest["next_cursor"] is None


async def test_discharge_needs_a_primary_diagnosis_and_a_death_needs_a_known_icd10_cause(
    client, auth
):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    units = await unit_ids(client, doctor)
    admission = await _admit(client, doctor, patient, units)
    url = f"/api/v1/encounters/{admission['id']}/discharge"

    unknown = await client.post(
        url,
        headers=doctor,
        json={
            "at": ago(hours=1),
            "mode": "death",
            "death": {"at": ago(hours=2), "cause_code": "E11.65"},
        },
    )
    assert unknown.status_code == 422
    errors = {e["field"]: e["code"] for e in unknown.json()["errors"]}
    assert errors == {"death.cause_code": "icd10_unknown"}

    no_primary = await client.post(url, headers=doctor, json={"at": ago(hours=1), "mode": "home"})
    assert no_primary.status_code == 409
    assert no_primary.json()["code"] == "primary_diagnosis_required"

    await client.post(
        f"/api/v1/encounters/{admission['id']}/diagnoses",
        headers=doctor,
        json={"code": "B54", "rank": "primary"},
    )
    home = await client.post(url, headers=doctor, json={"at": ago(hours=1), "mode": "home"})
    assert home.status_code == 200, home.text
    twice = await client.post(url, headers=doctor, json={"at": ago(minutes=30), "mode": "home"})
    assert twice.status_code == 409
    assert twice.json()["code"] == "encounter_closed"


async def test_unknown_icd10_diagnosis_answers_422_on_the_code_field(client, auth):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    visit = await client.post(
        "/api/v1/encounters/",
        headers=doctor,
        json={
            "patient_id": patient["id"],
            "kind": "outpatient",
            "started_at": ago(hours=1),
            "reason": "Toux",
        },
    )
    assert visit.status_code == 201, visit.text
    for code, expected in (("E11.65", "icd10_unknown"), ("11E", "icd10_malformed")):
        response = await client.post(
            f"/api/v1/encounters/{visit.json()['id']}/diagnoses",
            headers=doctor,
            json={"code": code, "rank": "primary"},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "code"
        assert response.json()["errors"][0]["code"] == expected


async def test_emergency_visit_needs_triage_and_admission_needs_a_department_of_the_facility(
    client, auth
):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    units = await unit_ids(client, await auth("demo.system_admin"))  # every facility's units
    base = {"patient_id": patient["id"], "started_at": ago(hours=1), "reason": "Douleur thoracique"}
    no_triage = await client.post(
        "/api/v1/encounters/", headers=doctor, json={**base, "kind": "emergency"}
    )
    assert no_triage.status_code == 422
    assert {e["field"] for e in no_triage.json()["errors"]} == {"triage"}
    triaged = await client.post(
        "/api/v1/encounters/", headers=doctor, json={**base, "kind": "emergency", "triage": 2}
    )
    assert triaged.status_code == 201
    assert triaged.json()["triage"] == 2

    elsewhere = await client.post(
        "/api/v1/encounters/",
        headers=doctor,
        json={**base, "kind": "inpatient", "location": {"department_id": units["CH-NEMA-S1"]}},
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["field"] == "location.department_id"


async def test_receptionists_and_cashiers_see_no_clinical_content_and_other_facilities_none(
    client, auth
):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    visit = await client.post(
        "/api/v1/encounters/",
        headers=doctor,
        json={
            "patient_id": patient["id"],
            "kind": "outpatient",
            "started_at": ago(hours=1),
            "reason": "Toux",
        },
    )
    assert visit.status_code == 201
    for username in ("demo.receptionist", "demo.cashier"):
        headers = await auth(username)
        for url in (
            f"/api/v1/encounters/{visit.json()['id']}",
            f"/api/v1/patients/{patient['id']}/timeline",
        ):
            response = await client.get(url, headers=headers)
            assert response.status_code == 403, (username, url)
    other_nurse = await auth("demo.nurse.b")  # a nurse of CH-NEMA
    response = await client.get(f"/api/v1/patients/{patient['id']}/timeline", headers=other_nurse)
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    nurse = await auth("demo.nurse")
    assert (
        await client.get(f"/api/v1/patients/{patient['id']}/timeline", headers=nurse)
    ).status_code == 200
