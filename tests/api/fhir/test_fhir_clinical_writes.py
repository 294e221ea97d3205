"""FHIR create of Encounter, Observation, Condition and AllergyIntolerance over HTTP.

Each official HL7 R4 example of these types is sent as published, with only the
server-assigned references (subject/patient/encounter) pointed at records this test made:
it is either created (201, Location) and reads back valid with its codes, values, units,
dates and status, what Afiya does not keep being listed in X-Afiya-Not-Stored; or
refused with a 422 naming the element that breaks a clinical rule. Writes go through the
record's use cases: permissions and facility as /api/v1, audit with the patient id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from afiya.adapters.db.models import AuditEventRow
from afiya.adapters.db.models.clinical import LabResultRow, ObservationRow
from tests.api.clinical.helpers import ago, new_patient
from tests.api.fhir.helpers import example, get, outcome_paths, post, valid

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def _visit(patient_id: str, **overrides):
    body = {
        "resourceType": "Encounter",
        "status": "in-progress",
        "class": {"system": ACT, "code": "AMB", "display": "ambulatory"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": ago(hours=3)},
        "reasonCode": [{"text": "Fièvre depuis trois jours"}],
    }
    body.update(overrides)
    return body


def _temperature(patient_id: str, value=38.2, **overrides):
    body = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "8310-5"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": ago(hours=2),
        "valueQuantity": {"value": value, "unit": "Cel", "system": UCUM, "code": "Cel"},
    }
    body.update(overrides)
    return body


async def _setup(client, auth):
    """A patient of CH-TZ with an encounter in progress opened over FHIR by the doctor."""
    doctor = await auth("demo.doctor")
    patient = (await new_patient(client, auth))["id"]
    response = await post(client, doctor, "/Encounter", _visit(patient))
    assert response.status_code == 201, response.text
    return doctor, patient, response.json()["id"]


def _sent(name: str, patient: str, encounter: str) -> dict:
    """The example as published; only the server-assigned references are ours."""
    body = example(name)
    body.pop("id", None)
    for element in ("subject", "patient"):
        if element in body:
            body[element] = {"reference": f"Patient/{patient}"}
    if "encounter" in body:
        body["encounter"] = {"reference": f"Encounter/{encounter}"}
    return body


def _when(text: str) -> datetime:
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _codes(concept):
    return {(c.get("system"), c.get("code")) for c in concept.get("coding", [])}


async def _created(client, headers, type_name, body):
    response = await post(client, headers, f"/{type_name}", body)
    assert response.status_code == 201, response.text
    ident = response.json()["id"]
    assert response.headers["location"].split("/_history")[0].endswith(f"/{type_name}/{ident}")
    not_stored = [p for p in response.headers.get("x-afiya-not-stored", "").split(",") if p]
    read = await get(client, headers, f"/{type_name}/{ident}")
    assert read.status_code == 200, read.text
    return valid(read.json()), not_stored


class TestEncounterCreate:
    async def test_an_encounter_is_opened_and_reads_back_with_class_status_period_reason(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = (await new_patient(client, auth))["id"]
        body = _visit(patient)
        stored, not_stored = await _created(client, doctor, "Encounter", body)
        assert stored["status"] == "in-progress"
        assert (stored["class"]["system"], stored["class"]["code"]) == (ACT, "AMB")
        started = _when(stored["period"]["start"]) - _when(body["period"]["start"])
        assert abs(started) < timedelta(milliseconds=1)
        assert stored["reasonCode"] == [{"text": "Fièvre depuis trois jours"}]
        assert stored["subject"] == {"reference": f"Patient/{patient}"}
        assert not_stored == []
        async with container.sessions() as session:
            actions = await session.execute(
                select(AuditEventRow.action).where(AuditEventRow.resource_id == stored["id"])
            )
            assert "clinical.encounter.create" in set(actions.scalars())

    async def test_official_examples_are_refused_on_the_element_afiya_cannot_record(
        self, client, auth
    ):
        """Afiya records an encounter as it starts; an admission needs its department and
        every encounter its reason; a home visit is not one of Afiya's encounter classes."""
        doctor, patient, visit = await _setup(client, auth)
        refused = {}
        for name in ("Encounter-example", "Encounter-f001", "Encounter-f201", "Encounter-home"):
            response = await post(client, doctor, "/Encounter", _sent(name, patient, visit))
            assert response.status_code == 422, (name, response.text)
            refused[name] = set(outcome_paths(response))
        assert refused == {
            "Encounter-example": {"Encounter.reasonCode", "Encounter.location"},
            "Encounter-f001": {"Encounter.status"},  # finished: closed by a discharge
            "Encounter-f201": {"Encounter.status"},
            "Encounter-home": {"Encounter.status"},
        }


class TestObservationExamples:
    """Vital signs in their canonical unit go to the vitals, everything else to the lab
    results, value and unit exactly as sent (a weight in pounds stays in pounds)."""

    VITALS = frozenset({"Observation-body-temperature"})
    LAB = frozenset(
        {
            "Observation-example",
            "Observation-f001",
            "Observation-f005",
            "Observation-f206",
            "Observation-satO2",
        }
    )

    async def test_official_examples_are_created_and_read_back_with_codes_values_units(
        self, client, auth, container
    ):
        doctor, patient, visit = await _setup(client, auth)
        nurse, lab = await auth("demo.nurse"), await auth("demo.lab_technician")
        created = {}
        for name in sorted(self.VITALS | self.LAB):
            sent = _sent(name, patient, visit)
            stored, not_stored = await _created(
                client, nurse if name in self.VITALS else lab, "Observation", sent
            )
            created[name] = (stored, not_stored)
            assert stored["status"] == sent["status"], name
            assert _codes(stored["code"]) <= _codes(sent["code"]), name
            assert {c for c in _codes(stored["code"]) if c[0] == LOINC}, name
            assert stored["subject"] == {"reference": f"Patient/{patient}"}
            if "valueQuantity" in sent:
                theirs, ours = sent["valueQuantity"], stored["valueQuantity"]
                for key in ("value", "system", "code"):
                    assert ours[key] == theirs[key], (name, key, ours)
                if ours["unit"] != theirs["unit"]:
                    assert "Observation.valueQuantity.unit" in not_stored, name
            if "referenceRange" in sent:
                for bound in ("low", "high"):
                    theirs = sent["referenceRange"][0][bound]
                    ours = stored["referenceRange"][0][bound]
                    assert (ours["value"], ours["code"]) == (theirs["value"], theirs["code"])
            start = sent.get("effectiveDateTime") or (sent.get("effectivePeriod") or {}).get(
                "start"
            )
            if start:
                at = _when(stored["effectiveDateTime"])
                assert at == _when(start), name
        # Observation-example: a body weight in [lb_av], stored as sent (not converted)
        weight, not_stored = created["Observation-example"]
        assert weight["valueQuantity"] == {
            "value": 185,
            "unit": "[lb_av]",
            "system": UCUM,
            "code": "[lb_av]",
        }
        assert weight["category"][0]["coding"][0]["code"] == "vital-signs"
        assert weight["encounter"] == {"reference": f"Encounter/{visit}"}
        assert not_stored == [
            "Observation.code.coding[1]",
            "Observation.code.coding[2]",
            "Observation.code.coding[3]",
            "Observation.valueQuantity.unit",
        ]
        temperature, _ = created["Observation-body-temperature"]
        assert temperature["category"][0]["coding"][0]["code"] == "vital-signs"
        assert temperature["valueQuantity"]["value"] == 36.5
        glucose, not_stored = created["Observation-f001"]
        assert glucose["interpretation"][0]["coding"][0]["code"] == "H"  # Afiya's own flag
        assert "Observation.interpretation" in not_stored
        assert "Observation.performer" in not_stored
        culture, not_stored = created["Observation-f206"]
        assert culture["valueString"] == "Staphylococcus aureus"
        assert "Observation.valueCodeableConcept.coding[0]" in not_stored
        assert "Observation.code.coding[0]" in not_stored  # the lab's own code
        async with container.sessions() as session:
            vitals = await session.scalar(select(func.count()).select_from(ObservationRow))
            results = await session.scalar(select(func.count()).select_from(LabResultRow))
        assert (vitals, results) == (1, 5)
        searched = await get(
            client, doctor, "/Observation", patient=f"Patient/{patient}", category="vital-signs"
        )
        ids = {e["resource"]["id"] for e in searched.json()["entry"]}
        vital_codes = ("body-temperature", "example", "satO2", "f001")  # glucose is one too
        assert ids == {created[f"Observation-{n}"][0]["id"] for n in vital_codes}

    async def test_the_blood_pressure_panel_is_refused_on_its_components(self, client, auth):
        _, patient, visit = await _setup(client, auth)
        body = _sent("Observation-blood-pressure", patient, visit)
        response = await post(client, await auth("demo.nurse"), "/Observation", body)
        assert response.status_code == 422, response.text
        assert outcome_paths(response) == ["Observation.component"]

    async def test_clinical_rules_refuse_with_the_element_named(self, client, auth):
        _, patient, _ = await _setup(client, auth)
        nurse = await auth("demo.nurse")
        future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        cases = [
            (_temperature(patient, effectiveDateTime=future), "Observation.effectiveDateTime"),
            (_temperature(patient, value=61), "Observation.valueQuantity.value"),
            (_temperature(patient, status="entered-in-error"), "Observation.status"),
            (
                _temperature(patient, subject={"reference": "Patient/example"}),
                "Observation.subject",
            ),
            (
                _temperature(patient, encounter={"reference": f"Encounter/{patient}"}),
                "Observation.encounter",
            ),
        ]
        for body, path in cases:
            response = await post(client, nurse, "/Observation", body)
            assert response.status_code == 422, (path, response.text)
            assert path in outcome_paths(response), response.text


class TestConditionExamples:
    async def test_only_the_icd10_coded_example_is_created_others_refused_on_code(
        self, client, auth
    ):
        """The record codes conditions in ICD-10; the HL7 examples are SNOMED CT only."""
        doctor, patient, visit = await _setup(client, auth)
        for name in (
            "Condition-example",
            "Condition-example2",
            "Condition-f201",
            "Condition-f202",
            "Condition-stroke",
        ):
            response = await post(client, doctor, "/Condition", _sent(name, patient, visit))
            assert response.status_code == 422, (name, response.text)
            assert outcome_paths(response) == ["Condition.code"], name
        sent = _sent("derived/Condition-stroke-icd10", patient, visit)
        stored, not_stored = await _created(client, doctor, "Condition", sent)
        assert _codes(stored["code"]) == {(ICD10, "I63.9")}
        assert _codes(stored["verificationStatus"]) == _codes(sent["verificationStatus"])
        assert stored["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
        assert stored["encounter"] == {"reference": f"Encounter/{visit}"}  # the open one
        assert not_stored == [
            "Condition.code.coding[0]",
            "Condition.code.text",
            "Condition.clinicalStatus",
            "Condition.onsetDateTime",
        ]
        encounter = valid((await get(client, doctor, f"/Encounter/{visit}")).json())
        assert encounter["diagnosis"] == [
            {"condition": {"reference": f"Condition/{stored['id']}"}, "rank": 1}
        ]

    async def test_a_problem_list_item_is_added_active_with_its_onset(self, client, auth):
        doctor, patient, _ = await _setup(client, auth)
        body = {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": ICD10, "code": "E11.9"}]},
            "subject": {"reference": f"Patient/{patient}"},
            "onsetDateTime": "2019-06-01",
        }
        stored, _ = await _created(client, doctor, "Condition", body)
        assert _codes(stored["code"]) == {(ICD10, "E11.9")}
        assert stored["clinicalStatus"]["coding"][0]["code"] == "active"
        assert stored["onsetDateTime"] == "2019-06-01"


class TestAllergyExamples:
    async def test_examples_are_created_with_their_substance_coding_or_refused(self, client, auth):
        doctor, patient, visit = await _setup(client, auth)
        for name in ("AllergyIntolerance-example", "AllergyIntolerance-medication"):
            sent = _sent(name, patient, visit)
            stored, not_stored = await _created(client, doctor, "AllergyIntolerance", sent)
            assert _codes(stored["code"]) == _codes(sent["code"]), name
            for key in ("verificationStatus", "clinicalStatus"):
                assert _codes(stored[key]) <= {
                    (c.get("system"), c["code"]) for c in sent[key]["coding"]
                }
            assert stored["category"] == sent["category"]
            assert stored["criticality"] == sent["criticality"]
            assert _when(stored["recordedDate"]) == _when(sent["recordedDate"])
            assert "AllergyIntolerance.recorder" in not_stored
        # the first example's reactions, as manifestation and severity
        sent = example("AllergyIntolerance-example")
        searched = await get(client, doctor, "/AllergyIntolerance", patient=f"Patient/{patient}")
        cashew = next(
            e["resource"]
            for e in searched.json()["entry"]
            if _codes(e["resource"]["code"]) == {(SNOMED, "227493005")}
        )
        assert [(r["manifestation"][0]["text"], r["severity"]) for r in cashew["reaction"]] == [
            ("Anaphylactic reaction", "severe"),
            ("Urticaria", "moderate"),
        ]
        assert cashew["type"] == sent["type"]
        nkda = _sent("AllergyIntolerance-nkda", patient, visit)
        response = await post(client, doctor, "/AllergyIntolerance", nkda)
        assert response.status_code == 422, response.text
        assert outcome_paths(response) == ["AllergyIntolerance.code"]


class TestConditionalCreate:
    async def test_a_conditional_create_retried_three_times_stores_one_observation(
        self, client, auth
    ):
        _, patient, _ = await _setup(client, auth)
        nurse = await auth("demo.nurse")
        body = _temperature(patient, effectiveDateTime="2025-01-15T08:30:00+00:00")
        condition = f"patient=Patient/{patient}&code={LOINC}|8310-5&date=2025-01-15"
        statuses = []
        for _ in range(3):
            response = await post(
                client, nurse, "/Observation", body, **{"If-None-Exist": condition}
            )
            statuses.append(response.status_code)
        assert statuses == [201, 200, 200]
        found = await get(
            client, nurse, "/Observation", patient=f"Patient/{patient}", code="8310-5"
        )
        assert found.json()["total"] == 1


class TestPermissions:
    async def test_roles_without_the_write_permission_and_other_facilities_get_403(
        self, client, auth
    ):
        doctor, patient, visit = await _setup(client, auth)
        clerk = await auth("demo.receptionist")  # no clinical:read nor clinical:write
        for type_name, body in (
            ("Encounter", _visit(patient)),
            ("Observation", _temperature(patient)),
        ):
            response = await post(client, clerk, f"/{type_name}", body)
            assert response.status_code == 403, response.text
            assert response.json()["resourceType"] == "OperationOutcome"
        lab = await auth("demo.lab_technician")  # lab results, not vital signs
        assert (await post(client, lab, "/Observation", _temperature(patient))).status_code == 403
        lab_result = _sent("Observation-f005", patient, visit)
        assert (await post(client, doctor, "/Observation", lab_result)).status_code == 403
        other = await auth("demo.nurse.b")  # a nurse of another facility
        for type_name, body in (
            ("Encounter", _visit(patient)),
            ("Observation", _temperature(patient)),
        ):
            response = await post(client, other, f"/{type_name}", body)
            assert response.status_code in (403, 404), response.text
            assert response.json()["resourceType"] == "OperationOutcome"
        searched = await get(client, doctor, "/Observation", patient=f"Patient/{patient}")
        assert searched.json()["total"] == 0
