"""Observations, problems, allergies and notes through the API: plausibility and unit
conversion, the explicit "no known allergies", append-only notes; reads are audited."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow
from afiya.adapters.db.models.clinical import NoteRow
from tests.api.clinical.helpers import ago, new_patient, timeline


async def test_implausible_observation_answers_422_naming_the_reading_and_the_range(client, auth):
    nurse = await auth("demo.nurse")
    patient = await new_patient(client, auth)
    response = await client.post(
        f"/api/v1/patients/{patient['id']}/observations",
        headers={**nurse, "Accept-Language": "fr"},
        json={
            "effective_at": ago(minutes=10),
            "readings": [
                {"code": "pulse", "value": 88},
                {"code": "temperature", "value": 60},
            ],
        },
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("readings.1.value", "implausible")]
    assert "25" in errors[0]["message"] and "45" in errors[0]["message"]
    page = await timeline(client, nurse, patient["id"], types="observation")
    assert page["items"] == []  # the whole round was refused


async def test_vitals_convert_exactly_and_keep_the_typed_value(client, auth):
    nurse = await auth("demo.nurse")
    patient = await new_patient(client, auth)
    response = await client.post(
        f"/api/v1/patients/{patient['id']}/observations",
        headers=nurse,
        json={
            "effective_at": ago(minutes=10),
            "readings": [
                {"code": "8310-5", "value": "98.6", "unit": "[degF]"},
                {"code": "systolic", "value": 120},
                {"code": "diastolic", "value": 80},
                {"code": "spo2", "value": 97},
            ],
        },
    )
    assert response.status_code == 201, response.text
    temperature = response.json()[0]
    assert (temperature["value"], temperature["unit"]) == ("37.0", "Cel")
    assert temperature["entered"] == {"value": "98.6", "unit": "[degF]"}
    read = await client.get(f"/api/v1/observations/{temperature['id']}", headers=nurse)
    assert read.status_code == 200
    assert read.json()["value"] == "37"
    assert read.json()["entered"]["unit"] == "[degF]"
    page = await timeline(client, nurse, patient["id"], types="observation")
    assert len(page["items"]) == 4
    assert any("37" in i["summary"] and "Cel" in i["summary"] for i in page["items"])


async def test_allergy_status_is_unknown_until_stated_and_an_allergy_supersedes_nka(client, auth):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    url = f"/api/v1/patients/{patient['id']}/allergies"
    assert (await client.get(url, headers=doctor)).json()["status"] == "unknown"

    nka = await client.post(f"{url}/no-known-allergies", headers=doctor, json={})
    assert nka.status_code == 201, nka.text
    assert nka.json()["status"] == "no_known_allergies"

    missing_verification = await client.post(
        url,
        headers=doctor,
        json={
            "type": "allergy",
            "category": "medication",
            "substance": {"system": "ingredient", "code": "amoxicillin", "display": "Amoxicilline"},
            "criticality": "high",
        },
    )
    assert missing_verification.status_code == 422
    allergy = await client.post(
        url,
        headers=doctor,
        json={
            "type": "allergy",
            "category": "medication",
            "substance": {"system": "ingredient", "code": "amoxicillin", "display": "Amoxicilline"},
            "criticality": "high",
            "verification": "confirmed",
            "reactions": [{"manifestation": "urticaire", "severity": "moderate"}],
        },
    )
    assert allergy.status_code == 201, allergy.text
    record = allergy.json()
    assert record["status"] == "has_allergies"
    assert record["statements"][0]["in_force"] is False
    allergy_id = record["allergies"][0]["id"]

    conflict = await client.post(f"{url}/no-known-allergies", headers=doctor, json={})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "allergy_statement_conflict"
    assert conflict.json()["allergy_ids"] == [allergy_id]
    one = await client.get(f"/api/v1/allergies/{allergy_id}", headers=doctor)
    assert one.status_code == 200 and one.json()["high_risk"] is True
    page = await timeline(client, doctor, patient["id"], types="allergy")
    assert len(page["items"]) == 2


async def test_problem_list_checks_the_code_against_the_kind_and_dates_a_pregnancy(client, auth):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    url = f"/api/v1/patients/{patient['id']}/problems"
    lmp = date.today() - timedelta(days=70)
    wrong = await client.post(url, headers=doctor, json={"kind": "diabetes", "code": "I10"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["code"] == "code_not_of_kind"
    diabetes = await client.post(url, headers=doctor, json={"kind": "diabetes", "code": "E11.9"})
    assert diabetes.status_code == 201, diabetes.text
    pregnancy = await client.post(
        url,
        headers=doctor,
        json={"kind": "pregnancy", "code": "Z33", "last_menstrual_period": lmp.isoformat()},
    )
    assert pregnancy.status_code == 201, pregnancy.text
    assert pregnancy.json()["expected_delivery"] == (lmp + timedelta(days=280)).isoformat()
    listed = await client.get(url, headers=doctor)
    assert [p["kind"] for p in listed.json()] == ["diabetes", "pregnancy"]


async def test_amending_a_note_keeps_every_previous_version_readable(client, auth, container):
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    first = await client.post(
        f"/api/v1/patients/{patient['id']}/notes",
        headers=doctor,
        json={
            "kind": "consultation",
            "sections": {"anamnesis": "Fièvre depuis 3 jours", "plan": "Goutte épaisse"},
        },
    )
    assert first.status_code == 201, first.text
    v1 = first.json()
    amended = await client.post(
        f"/api/v1/notes/{v1['id']}/amendments",
        headers=doctor,
        json={
            "based_on_version": 1,
            "sections": {"anamnesis": "Fièvre depuis 5 jours", "plan": "Goutte épaisse, TDR"},
            "reason": "Durée corrigée après interrogatoire de la mère",
        },
    )
    assert amended.status_code == 201, amended.text
    v2 = amended.json()
    assert (v2["version"], v2["previous_id"], v2["series_id"]) == (2, v1["id"], v1["id"])

    old = await client.get(f"/api/v1/notes/{v1['id']}", headers=doctor)
    assert old.status_code == 200
    body = old.json()
    assert body["note"]["anamnesis"] == "Fièvre depuis 3 jours"
    assert body["latest_version"] == 2
    assert [v["anamnesis"] for v in body["history"]] == [
        "Fièvre depuis 3 jours",
        "Fièvre depuis 5 jours",
    ]
    stale = await client.post(
        f"/api/v1/notes/{v1['id']}/amendments",
        headers=doctor,
        json={"based_on_version": 1, "sections": {"plan": "x"}, "reason": "r"},
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_note_version"
    nurse = await auth("demo.nurse")
    refused = await client.post(
        f"/api/v1/notes/{v2['id']}/amendments",
        headers=nurse,
        json={"based_on_version": 2, "sections": {"plan": "x"}, "reason": "r"},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "note_amendment_refused"

    # clinical free text is stored encrypted, and every read was audited with the patient
    async with container.uow.sessions() as session:
        rows = (await session.execute(select(NoteRow))).scalars().all()
        assert rows and all(b"Fi\xc3\xa8vre" not in bytes(r.anamnesis_enc) for r in rows)
        reads = (
            (
                await session.execute(
                    select(AuditEventRow.patient_id).where(
                        AuditEventRow.action == "clinical.note.read"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [str(p) for p in reads] == [patient["id"]]
