"""MedicationRequest create over FHIR: prescribing through the prescribing use case.

The official HL7 examples are refused with the elements Afiya cannot keep (their
medications are coded in RxNorm and SNOMED CT, which the WHO EML/ATC formulary does not
resolve); the same request coded with ATC is prescribed and read back with its dosage,
codes and units. The safety engine runs as for /api/v1: a contraindicated line answers
409 and stores nothing unless X-Afiya-Override-Reason is sent (stored and audited).
"""

from __future__ import annotations

import copy
from typing import Any

from afiya.adapters.fhir.engine.prescribing import (
    ATC_SYSTEM,
    FORMULARY_SYSTEM,
    ROUTE_SYSTEM,
    SNOMED_SYSTEM,
    UCUM_SYSTEM,
)
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from tests.api.fhir.helpers import example, get, outcome_paths, post, valid
from tests.api.prescribing.helpers import audit_actions, new_patient, problem

R = "MedicationRequest"
NOT_STORED = "X-Afiya-Not-Stored"


async def _doctor_id(container: Any) -> str:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        doctor = await uow.users.get_by_username("demo.doctor")
    return str(doctor.id)


def _rewired(name: str, patient_id: str, doctor_id: str) -> dict[str, Any]:
    """The official example with only its server-assigned references rewritten."""
    body = example(name)
    body["subject"] = {"reference": f"Patient/{patient_id}", "display": "Fatimetou Mint Ahmed"}
    body["requester"] = {"reference": f"Practitioner/{doctor_id}"}
    body.pop("encounter", None)  # Encounter/f201 does not exist here (not a code or value)
    return body


def _order(patient_id: str, product: str, **dosage: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": R,
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": f"Medication/{product}"},
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if dosage:
        body["dosageInstruction"] = [dosage]
    return body


GLUCOSE_DOSAGE = {
    "route": {"coding": [{"system": ROUTE_SYSTEM, "code": "iv"}]},
    "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
    "doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mL"}}],
}


async def _requests(client: Any, headers: dict[str, str], patient_id: str) -> list[Any]:
    found = await get(client, headers, f"/{R}", patient=f"Patient/{patient_id}")
    assert found.status_code == 200, found.text
    return [e["resource"] for e in valid(found.json()).get("entry", [])]


class TestOfficialExamples:
    async def test_medrx0301_is_refused_naming_each_element_afiya_cannot_keep(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        body = _rewired("MedicationRequest-medrx0301", patient["id"], await _doctor_id(container))

        refused = await post(client, doctor, f"/{R}", body)

        assert refused.status_code == 422, refused.text
        paths = outcome_paths(refused)
        assert f"{R}.status" in paths  # completed: a new prescription is draft or active
        assert f"{R}.dosageInstruction[0].doseAndRate[0].doseRange" in paths  # 1-2 tablets
        assert f"{R}.medicationReference" in paths  # contained SNOMED oxycodone: no ATC
        assert await _requests(client, doctor, patient["id"]) == []

    async def test_medrx0312_coded_in_rxnorm_is_refused_naming_the_medication(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        body = _rewired("MedicationRequest-medrx0312", patient["id"], await _doctor_id(container))

        refused = await post(client, doctor, f"/{R}", body)

        assert refused.status_code == 422, refused.text
        assert outcome_paths(refused) == [f"{R}.medicationCodeableConcept"]
        assert ATC_SYSTEM in refused.json()["issue"][0]["diagnostics"]
        assert await _requests(client, doctor, patient["id"]) == []

    async def test_medrx0312_also_coded_in_atc_is_prescribed_and_read_back_intact(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        nurse = await auth("demo.nurse")
        patient = await new_patient(client, auth)
        original = _rewired(
            "MedicationRequest-medrx0312", patient["id"], await _doctor_id(container)
        )
        body = copy.deepcopy(original)  # a client that also sends the ATC code of phenytoin
        body["medicationCodeableConcept"]["coding"].append(
            {"system": ATC_SYSTEM, "code": "N03AB02", "display": "phenytoin"}
        )

        created = await post(client, doctor, f"/{R}", body)

        assert created.status_code == 201, created.text
        not_stored = set(created.headers[NOT_STORED].split(","))
        assert {
            f"{R}.identifier",
            f"{R}.reasonCode",
            f"{R}.dispenseRequest",
            f"{R}.substitution",
            f"{R}.priorPrescription",
            f"{R}.authoredOn",  # 2015: Afiya records the time of writing
            f"{R}.medicationCodeableConcept.coding",  # the RxNorm code: kept as the product
            f"{R}.dosageInstruction[0].doseAndRate[0].type",
        } <= not_stored
        assert f"{R}.status" not in not_stored and f"{R}.dosageInstruction" not in not_stored
        read = await get(client, nurse, f"/{R}/{created.json()['id']}")
        assert read.status_code == 200, read.text
        stored = valid(read.json())
        assert stored == created.json()
        assert (stored["status"], stored["intent"]) == (original["status"], original["intent"])
        assert stored["medicationReference"]["reference"] == "Medication/phenytoin-100-tab"
        assert stored["subject"] == {"reference": f"Patient/{patient['id']}"}
        assert stored["requester"] == original["requester"]
        assert stored["note"] == original["note"]
        given, kept = original["dosageInstruction"][0], stored["dosageInstruction"][0]
        assert kept["doseAndRate"][0]["doseQuantity"] == given["doseAndRate"][0]["doseQuantity"]
        assert kept["doseAndRate"][0]["doseQuantity"]["system"] == UCUM_SYSTEM
        assert kept["timing"]["repeat"] == given["timing"]["repeat"]  # 3 per 1 d
        route = given["route"]["coding"][0]
        assert {"system": SNOMED_SYSTEM, "code": route["code"]} in kept["route"]["coding"]
        assert given["text"] in kept["text"]
        assert kept["patientInstruction"] == given["text"]
        medication = valid((await get(client, nurse, "/Medication/phenytoin-100-tab")).json())
        assert {"system": ATC_SYSTEM, "code": "N03AB02"} in medication["code"]["coding"]

    async def test_an_atc_code_held_by_several_products_of_the_route_is_refused(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        body = _order(
            patient["id"],
            "unused",
            route={"coding": [{"system": SNOMED_SYSTEM, "code": "26643006"}]},
            doseAndRate=[{"doseQuantity": {"value": 500, "unit": "mg"}}],
        )
        del body["medicationReference"]
        body["medicationCodeableConcept"] = {"coding": [{"system": ATC_SYSTEM, "code": "J01CA04"}]}

        refused = await post(client, doctor, f"/{R}", body)

        assert refused.status_code == 422, refused.text
        assert outcome_paths(refused) == [f"{R}.medicationCodeableConcept"]
        assert "amoxicillin-500-cap" in refused.json()["issue"][0]["diagnostics"]


class TestSafetyCheck:
    async def test_glucose_10_for_a_diabetic_answers_409_and_stores_nothing(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        await problem(client, doctor, patient["id"], "diabetes", "E11.9")

        refused = await post(
            client, doctor, f"/{R}", _order(patient["id"], "glucose-10-inf", **GLUCOSE_DOSAGE)
        )

        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["expression"] == [f"{R}.medicationReference"]
        reasons = [i["diagnostics"] for i in body["issue"][1:]]
        assert any(r.startswith("glucose-infusion-diabetes: ") for r in reasons), reasons
        assert await _requests(client, doctor, patient["id"]) == []
        actions = [a for a, _ in await audit_actions(container, patient["id"])]
        assert "prescribing.prescription.contraindicated" in actions
        assert "prescribing.prescription.create" not in actions

    async def test_with_an_override_reason_it_is_prescribed_and_the_override_audited(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        await problem(client, doctor, patient["id"], "diabetes", "E11.9")

        created = await post(
            client,
            doctor,
            f"/{R}",
            _order(patient["id"], "glucose-10-inf", **GLUCOSE_DOSAGE),
            **{"X-Afiya-Override-Reason": "DKA protocol, glucose below 14 mmol/L"},
        )

        assert created.status_code == 201, created.text
        assert [r["id"] for r in await _requests(client, doctor, patient["id"])] == [
            created.json()["id"]
        ]
        audit = await audit_actions(container, patient["id"])
        create = next(d for a, d in audit if a == "prescribing.prescription.create")
        assert create["overrides"] == [
            {
                "line": 0,
                "rules": ["glucose-infusion-diabetes"],
                "reason": "DKA protocol, glucose below 14 mmol/L",
            }
        ]


class TestConditionalCreateAndAccess:
    async def test_a_conditional_create_retried_three_times_prescribes_once(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        body = _order(
            patient["id"],
            "paracetamol-500-tab",
            route={"coding": [{"system": ROUTE_SYSTEM, "code": "oral"}]},
            timing={"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}},
            doseAndRate=[{"doseQuantity": {"value": 1000, "unit": "mg"}}],
        )
        condition = (
            f"patient=Patient/{patient['id']}&code={FORMULARY_SYSTEM}|paracetamol-500-tab"
            "&status=active"
        )

        answers = [
            await post(client, doctor, f"/{R}", body, **{"If-None-Exist": condition})
            for _ in range(3)
        ]

        assert [a.status_code for a in answers] == [201, 200, 200], answers[-1].text
        assert len({a.json()["id"] for a in answers}) == 1
        [stored] = await _requests(client, doctor, patient["id"])
        repeat = stored["dosageInstruction"][0]["timing"]["repeat"]
        assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (3, 1, "d")

    async def test_the_safety_check_uses_the_knowledge_base_the_prescribing_routes_share(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        body = _order(
            patient["id"],
            "paracetamol-500-tab",
            route={"coding": [{"system": ROUTE_SYSTEM, "code": "oral"}]},
            doseAndRate=[{"doseQuantity": {"value": 500, "unit": "mg"}}],
        )
        assert "prescribing.knowledge" not in container.extras

        created = await post(client, doctor, f"/{R}", body)

        assert created.status_code == 201, created.text
        shared = container.extras["prescribing.knowledge"]  # built once, kept in the container
        assert len(shared._cache) == 1  # the FHIR create checked against it

    async def test_a_nurse_without_prescriptions_write_is_refused(self, client, auth):
        nurse = await auth("demo.nurse")
        patient = await new_patient(client, auth)

        refused = await post(client, nurse, f"/{R}", _order(patient["id"], "paracetamol-500-tab"))

        assert refused.status_code == 403, refused.text
        assert refused.json()["resourceType"] == "OperationOutcome"
        assert await _requests(client, nurse, patient["id"]) == []
