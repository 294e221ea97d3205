"""FHIR Encounter, Observation, Condition, AllergyIntolerance, DiagnosticReport over HTTP.

The record is written through /api/v1 (as the clinical tests do) and read back over FHIR:
every resource validates with fhir.resources (R4B), carries the standard codes (LOINC,
UCUM, ICD-10, SNOMED CT for "no known allergies"), searches filter as documented, and
access is that of /api/v1 (clinical:read in the patient's facility, audited with the
patient id).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow
from tests.api.clinical.helpers import ago, new_patient
from tests.api.fhir.helpers import get, valid

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"


async def _ok(response):
    assert response.status_code in (200, 201), response.text
    return response.json()


async def _record(client, auth):
    """A patient at CH-TZ with a visit, a diagnosis, vitals, a lab result, an imaging
    report, a problem and an allergy that superseded a "no known allergies" statement."""
    doctor, nurse = await auth("demo.doctor"), await auth("demo.nurse")
    lab, imaging = await auth("demo.lab_technician"), await auth("demo.imaging_technician")
    me = await _ok(await client.get("/api/v1/auth/me", headers=doctor))
    patient = await new_patient(client, auth)
    pid = patient["id"]
    visit = await _ok(
        await client.post(
            "/api/v1/encounters/",
            headers=doctor,
            json={
                "patient_id": pid,
                "kind": "outpatient",
                "started_at": ago(days=2),
                "reason": "Toux fébrile",
            },
        )
    )
    diagnoses = await _ok(
        await client.post(
            f"/api/v1/encounters/{visit['id']}/diagnoses",
            headers=doctor,
            json={"code": "J18.9", "rank": "primary"},
        )
    )
    vitals = await _ok(
        await client.post(
            f"/api/v1/patients/{pid}/observations",
            headers=nurse,
            json={
                "effective_at": ago(days=2),
                "encounter_id": visit["id"],
                "readings": [
                    {"code": "8310-5", "value": "101.3", "unit": "[degF]"},
                    {"code": "pulse", "value": 104},
                ],
            },
        )
    )
    result = await _ok(
        await client.post(
            "/api/v1/results/",
            headers=lab,
            json={
                "patient_id": pid,
                "encounter_id": visit["id"],
                "code": "2823-3",
                "name": "Potassium",
                "unit": "mmol/L",
                "value": "5.6",
                "reference": {"unit": "mmol/L", "low": "3.5", "high": "5.1"},
                "observed_at": ago(hours=30),
                "reported_at": ago(hours=29),
            },
        )
    )
    report = await _ok(
        await client.post(
            "/api/v1/imaging-reports/",
            headers=imaging,
            json={
                "patient_id": pid,
                "modality": "DX",
                "body_site": "Thorax",
                "findings": "Opacité basale droite",
                "conclusion": "Pneumopathie droite",
                "reported_at": ago(hours=20),
                "responsible_id": me["user_id"],
            },
        )
    )
    problem = await _ok(
        await client.post(
            f"/api/v1/patients/{pid}/problems",
            headers=doctor,
            json={"kind": "diabetes", "code": "E11.9"},
        )
    )
    allergies = f"/api/v1/patients/{pid}/allergies"
    nka = await _ok(await client.post(f"{allergies}/no-known-allergies", headers=doctor, json={}))
    allergy = await _ok(
        await client.post(
            allergies,
            headers=doctor,
            json={
                "type": "allergy",
                "category": "medication",
                "substance": {"system": "ingredient", "code": "amoxicillin", "display": "Amoxi"},
                "criticality": "high",
                "verification": "confirmed",
                "reactions": [{"manifestation": "urticaire", "severity": "moderate"}],
            },
        )
    )
    return {
        "patient": pid,
        "doctor": doctor,
        "visit": visit["id"],
        "diagnosis": diagnoses[0]["id"],
        "temperature": vitals[0]["id"],
        "result": result["id"],
        "report": report["id"],
        "problem": problem["id"],
        "statement": nka["statements"][0]["id"],
        "allergy": allergy["allergies"][0]["id"],
    }


async def _search(client, headers, type_name, **params):
    response = await get(client, headers, f"/{type_name}", **params)
    assert response.status_code == 200, response.text
    bundle = valid(response.json())
    assert bundle["total"] == len(bundle.get("entry", []))
    return {e["resource"]["id"]: e["resource"] for e in bundle.get("entry", [])}


def _coding(concept):
    return [(c.get("system"), c["code"]) for c in concept["coding"]]


async def _events(container, action, patient_id):
    async with container.sessions() as session:
        rows = await session.execute(select(AuditEventRow).where(AuditEventRow.action == action))
        return [r for r in rows.scalars().all() if str(r.patient_id) == patient_id]


class TestReadAndSearch:
    async def test_each_type_reads_and_searches_valid_with_standard_codes(self, client, auth):
        r = await _record(client, auth)
        doctor, patient = r["doctor"], f"Patient/{r['patient']}"

        encounters = await _search(client, doctor, "Encounter", patient=patient)
        assert list(encounters) == [r["visit"]]
        visit = encounters[r["visit"]]
        assert visit["status"] == "in-progress" and visit["class"]["code"] == "AMB"
        assert visit["diagnosis"] == [
            {"condition": {"reference": f"Condition/{r['diagnosis']}"}, "rank": 1}
        ]

        observations = await _search(client, doctor, "Observation", patient=patient)
        assert len(observations) == 3  # temperature, pulse, potassium
        temperature = observations[r["temperature"]]
        assert _coding(temperature["code"]) == [(LOINC, "8310-5")]
        assert temperature["category"][0]["coding"][0]["code"] == "vital-signs"
        assert temperature["valueQuantity"] == {
            "value": 38.5,
            "unit": "Cel",
            "system": UCUM,
            "code": "Cel",
        }
        potassium = observations[r["result"]]
        assert potassium["category"][0]["coding"][0]["code"] == "laboratory"
        assert _coding(potassium["code"]) == [(LOINC, "2823-3")]
        assert potassium["valueQuantity"]["value"] == 5.6
        assert potassium["interpretation"][0]["coding"][0]["code"] == "H"
        assert potassium["referenceRange"][0]["high"]["value"] == 5.1

        conditions = await _search(client, doctor, "Condition", patient=patient)
        assert set(conditions) == {r["diagnosis"], r["problem"]}
        diagnosis = conditions[r["diagnosis"]]
        assert _coding(diagnosis["code"]) == [(ICD10, "J18.9")]
        assert diagnosis["encounter"]["reference"] == f"Encounter/{r['visit']}"
        assert "clinicalStatus" not in diagnosis
        assert conditions[r["problem"]]["clinicalStatus"]["coding"][0]["code"] == "active"

        allergies = await _search(client, doctor, "AllergyIntolerance", patient=patient)
        assert set(allergies) == {r["allergy"], r["statement"]}
        statement = allergies[r["statement"]]
        assert _coding(statement["code"]) == [(SNOMED, "716186003")]
        assert statement["clinicalStatus"]["coding"][0]["code"] == "inactive"  # superseded
        allergy = allergies[r["allergy"]]
        assert allergy["verificationStatus"]["coding"][0]["code"] == "confirmed"
        assert allergy["clinicalStatus"]["coding"][0]["code"] == "active"
        assert allergy["criticality"] == "high"

        reports = await _search(client, doctor, "DiagnosticReport", patient=patient)
        assert set(reports) == {r["result"], r["report"]}
        assert reports[r["result"]]["result"] == [{"reference": f"Observation/{r['result']}"}]
        assert reports[r["report"]]["conclusion"] == "Pneumopathie droite"

        for path, key in (
            ("Encounter", "visit"),
            ("Observation", "temperature"),
            ("Observation", "result"),
            ("Condition", "diagnosis"),
            ("Condition", "problem"),
            ("AllergyIntolerance", "allergy"),
            ("DiagnosticReport", "result"),
            ("DiagnosticReport", "report"),
        ):
            response = await get(client, doctor, f"/{path}/{r[key]}")
            assert response.status_code == 200, (path, response.text)
            read = valid(response.json())
            assert (read["resourceType"], read["id"]) == (path, r[key])
        missing = await get(client, doctor, f"/Observation/{r['visit']}")
        assert missing.status_code == 404
        assert missing.json()["resourceType"] == "OperationOutcome"

    async def test_searches_filter_by_code_date_category_and_status(self, client, auth):
        r = await _record(client, auth)
        doctor, patient = r["doctor"], f"Patient/{r['patient']}"
        day = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()

        async def ids(type_name, **params):
            return set(await _search(client, doctor, type_name, patient=patient, **params))

        assert await ids("Observation", code=f"{LOINC}|2823-3") == {r["result"]}
        assert await ids("Observation", code="http://other|2823-3") == set()
        assert len(await ids("Observation", category="vital-signs")) == 2
        assert await ids("Observation", category="laboratory") == {r["result"]}
        assert len(await ids("Observation", date=f"ge{day}", category="vital-signs")) == 2
        assert await ids("Observation", date=f"lt{day}") == set()
        assert await ids("Encounter", status="in-progress") == {r["visit"]}
        assert await ids("Encounter", status="finished") == set()
        assert await ids("Condition", code=f"{ICD10}|E11.9") == {r["problem"]}
        assert await ids("Condition", **{"clinical-status": "active"}) == {r["problem"]}
        assert await ids("DiagnosticReport", code=f"{LOINC}|2823-3") == {r["result"]}
        assert await ids("DiagnosticReport", code="DX") == {r["report"]}

    async def test_a_search_without_patient_answers_400(self, client, auth):
        doctor = await auth("demo.doctor")
        response = await get(client, doctor, "/Observation", code="8310-5")
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == ["patient"]


class TestAccess:
    async def test_reads_are_audited_with_the_patient_and_refused_outside_scope(
        self, client, auth, container
    ):
        r = await _record(client, auth)
        patient = f"Patient/{r['patient']}"
        assert (await get(client, r["doctor"], f"/Encounter/{r['visit']}")).status_code == 200
        assert await _events(container, "clinical.encounter.read", r["patient"])
        before = len(await _events(container, "clinical.timeline.read", r["patient"]))
        await _search(client, r["doctor"], "Observation", patient=patient)
        after = await _events(container, "clinical.timeline.read", r["patient"])
        assert len(after) == before + 1

        other_facility = await auth("demo.nurse.b")
        assert (await get(client, other_facility, f"/Encounter/{r['visit']}")).status_code == 403
        searched = await get(client, other_facility, "/Observation", patient=patient)
        assert searched.status_code == 403
        clerk = await auth("demo.receptionist")  # no clinical:read
        assert (await get(client, clerk, f"/Condition/{r['problem']}")).status_code == 403
        assert (await get(client, clerk, "/Condition", patient=patient)).status_code == 403

    async def test_everything_gathers_the_clinical_record_for_clinical_readers_only(
        self, client, auth
    ):
        r = await _record(client, auth)
        response = await get(client, r["doctor"], f"/Patient/{r['patient']}/$everything")
        assert response.status_code == 200, response.text
        bundle = valid(response.json())
        found = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}
        for pair in (
            ("Encounter", r["visit"]),
            ("Observation", r["temperature"]),
            ("Condition", r["problem"]),
            ("AllergyIntolerance", r["statement"]),
            ("DiagnosticReport", r["report"]),
        ):
            assert pair in found
        clerk = await auth("demo.receptionist")
        desk = valid((await get(client, clerk, f"/Patient/{r['patient']}/$everything")).json())
        assert {e["resource"]["resourceType"] for e in desk["entry"]} <= {
            "Patient",
            "Appointment",
        }
