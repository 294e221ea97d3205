"""A transaction Bundle that creates a Patient, an Encounter and three Observations with
``urn:uuid:`` references: all stored with the references resolved, or — one entry
invalid — nothing stored at all (checked over FHIR and in the database)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from afiya.adapters.db.models.clinical import EncounterRow, LabResultRow, ObservationRow
from afiya.adapters.db.models.patients import PatientRow
from afiya.adapters.fhir.common import NNI_SYSTEM
from tests.api.clinical.helpers import ago
from tests.api.fhir.helpers import get, nni, person, post, valid

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NNI = "4071234567"


def _bundle(*, third_temperature: float = 37.9) -> dict:
    patient, visit = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    at = ago(hours=1)

    def observation(code: str, value: float, unit: str) -> dict:
        return {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": code}]},
                "subject": {"reference": patient},
                "encounter": {"reference": visit},
                "effectiveDateTime": at,
                "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
            },
            "request": {"method": "POST", "url": "Observation"},
        }

    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient,
                "resource": person(identifier=nni(NNI)),
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": visit,
                "resource": {
                    "resourceType": "Encounter",
                    "status": "in-progress",
                    "class": {"system": ACT, "code": "AMB"},
                    "subject": {"reference": patient},
                    "period": {"start": ago(hours=2)},
                    "reasonCode": [{"text": "Céphalées et fièvre"}],
                },
                "request": {"method": "POST", "url": "Encounter"},
            },
            observation("8867-4", 96, "/min"),
            observation("9279-1", 22, "/min"),
            observation("8310-5", third_temperature, "Cel"),  # entry[4]
        ],
    }


async def _counts(container) -> tuple[int, int, int, int]:
    async with container.sessions() as session:
        return tuple(  # type: ignore[return-value]
            [
                await session.scalar(select(func.count()).select_from(table))
                for table in (PatientRow, EncounterRow, ObservationRow, LabResultRow)
            ]
        )


class TestClinicalTransaction:
    async def test_patient_encounter_and_observations_are_stored_with_references_resolved(
        self, client, auth
    ):
        doctor = await auth("demo.doctor")
        response = await post(client, doctor, "", _bundle())
        assert response.status_code == 200, response.text
        answer = valid(response.json())
        assert answer["type"] == "transaction-response"
        statuses = [e["response"]["status"] for e in answer["entry"]]
        assert statuses == ["201"] * 5
        patient_id = answer["entry"][0]["resource"]["id"]
        visit_id = answer["entry"][1]["resource"]["id"]
        visit = valid((await get(client, doctor, f"/Encounter/{visit_id}")).json())
        assert visit["subject"] == {"reference": f"Patient/{patient_id}"}
        found = await get(client, doctor, "/Observation", patient=f"Patient/{patient_id}")
        observations = [valid(e["resource"]) for e in found.json()["entry"]]
        assert len(observations) == 3
        for o in observations:
            assert o["subject"] == {"reference": f"Patient/{patient_id}"}
            assert o["encounter"] == {"reference": f"Encounter/{visit_id}"}
        by_code = {o["code"]["coding"][0]["code"]: o["valueQuantity"] for o in observations}
        assert by_code["8310-5"] == {"value": 37.9, "unit": "Cel", "system": UCUM, "code": "Cel"}
        assert by_code["8867-4"]["value"] == 96

    async def test_one_invalid_observation_stores_nothing_of_the_bundle(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        before = await _counts(container)
        response = await post(client, doctor, "", _bundle(third_temperature=61))  # implausible
        assert 400 <= response.status_code < 500, response.text
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        paths = [e for i in outcome["issue"] for e in i.get("expression", [])]
        assert paths[0] == "Bundle.entry[4]"
        assert "Observation.valueQuantity.value" in paths
        searched = await get(client, doctor, "/Patient", identifier=f"{NNI_SYSTEM}|{NNI}")
        assert searched.json()["total"] == 0
        assert await _counts(container) == before
        # the same bundle, valid, is then stored in full
        assert (await post(client, doctor, "", _bundle())).status_code == 200
        after = await _counts(container)
        assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (1, 1, 3)
