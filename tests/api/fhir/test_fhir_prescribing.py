"""Medication, MedicationRequest, MedicationDispense and ServiceRequest over FHIR.

Data is written through /api/v1 (prescriptions, dispensings); FHIR reads it with the
same permission (clinical:read), facility scope and audit. Every resource produced
validates with its fhir.resources R4B model.
"""

from __future__ import annotations

from typing import Any

from afiya.adapters.fhir.engine.prescribing import (
    ATC_SYSTEM,
    LOINC_SYSTEM,
    PRESCRIPTION_SYSTEM,
    UCUM_SYSTEM,
)
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.jobs import fhir as fhir_jobs
from tests.api.fhir.helpers import get, outcome_paths, post, valid
from tests.api.prescribing.helpers import (
    audit_actions,
    dispense,
    medication,
    new_patient,
    prescribe,
    problem,
)

PARACETAMOL = medication(
    "paracetamol-500-tab",
    dose=1000,
    dose_unit="mg",
    route="oral",
    frequency_per_day=3,
    duration_days=5,
    instructions="Après les repas",
)
GLUCOSE_10 = medication(
    "glucose-10-inf", dose=500, dose_unit="mL", route="iv", frequency_per_day=1, duration_days=1
)
CREATININE = {"kind": "lab", "lab": {"loinc": "2160-0", "name": "Creatinine"}}
CHEST_XRAY = {"kind": "imaging", "imaging": {"modality": "XR", "body_site": "Thorax"}}


def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    valid(bundle)
    return [e["resource"] for e in bundle.get("entry", [])]


async def _order(client: Any, auth: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A CH-TZ patient with a prescription of paracetamol, creatinine and a chest X-ray."""
    doctor = await auth("demo.doctor")
    patient = await new_patient(client, auth)
    created = await prescribe(client, doctor, patient["id"], PARACETAMOL, CREATININE, CHEST_XRAY)
    assert created.status_code == 201, created.text
    return patient, created.json()


class TestMedication:
    async def test_a_formulary_product_is_a_medication_with_its_atc_code(self, client, auth):
        nurse = await auth("demo.nurse")

        read = await get(client, nurse, "/Medication/paracetamol-500-tab")

        assert read.status_code == 200, read.text
        body = valid(read.json())
        atc = [c["code"] for c in body["code"]["coding"] if c["system"] == ATC_SYSTEM]
        assert atc == ["N02BE01"]
        assert body["ingredient"][0]["strength"]["numerator"]["code"] == "mg"
        found = await get(client, nurse, "/Medication", code=f"{ATC_SYSTEM}|N02BE01")
        assert "paracetamol-500-tab" in [r["id"] for r in resources(found.json())]
        none = await get(client, nurse, "/Medication", code=f"{ATC_SYSTEM}|N02BE0")
        assert none.json()["total"] == 0  # tokens are exact, not prefixes
        missing = await get(client, nurse, "/Medication/no-such-product")
        assert missing.status_code == 404
        assert missing.json()["resourceType"] == "OperationOutcome"

    async def test_a_receptionist_without_clinical_read_is_refused(self, client, auth):
        desk = await auth("demo.receptionist")

        refused = await get(client, desk, "/Medication", code="paracetamol-500-tab")

        assert refused.status_code == 403


class TestMedicationRequest:
    async def test_a_medication_line_maps_its_dosage_in_ucum_and_is_audited(
        self, client, auth, container
    ):
        patient, rx = await _order(client, auth)
        nurse = await auth("demo.nurse")
        line = rx["lines"][0]

        read = await get(client, nurse, f"/MedicationRequest/{line['id']}")

        assert read.status_code == 200, read.text
        body = valid(read.json())
        assert (body["status"], body["intent"]) == ("active", "order")
        assert body["subject"]["reference"] == f"Patient/{patient['id']}"
        assert body["medicationReference"]["reference"] == "Medication/paracetamol-500-tab"
        assert body["groupIdentifier"] == {"system": PRESCRIPTION_SYSTEM, "value": rx["id"]}
        dosage = body["dosageInstruction"][0]
        assert dosage["doseAndRate"][0]["doseQuantity"] == {
            "value": 1000,
            "unit": "mg",
            "system": UCUM_SYSTEM,
            "code": "mg",
        }
        repeat = dosage["timing"]["repeat"]
        assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (3, 1, "d")
        assert repeat["boundsDuration"]["value"] == 5
        assert repeat["boundsDuration"]["code"] == "d"
        assert dosage["patientInstruction"] == "Après les repas"
        audited = await audit_actions(container, patient["id"])
        assert "prescribing.prescription.read" in [a for a, _ in audited]
        lab_as_medication = await get(client, nurse, f"/MedicationRequest/{rx['lines'][1]['id']}")
        assert lab_as_medication.status_code == 404

    async def test_search_by_patient_and_status_follows_amendments(self, client, auth, container):
        patient, rx = await _order(client, auth)
        doctor = await auth("demo.doctor")
        amended = await client.post(
            f"/api/v1/prescriptions/{rx['id']}/amend",
            headers=doctor,
            json={"lines": [medication("paracetamol-500-tab", route="oral")], "reason": "Less"},
        )
        assert amended.status_code == 201, amended.text
        new_line = amended.json()["lines"][0]["id"]

        every = await get(client, doctor, "/MedicationRequest", patient=f"Patient/{patient['id']}")
        active = await get(
            client, doctor, "/MedicationRequest", patient=patient["id"], status="active"
        )

        statuses = {r["id"]: r["status"] for r in resources(every.json())}
        assert statuses == {rx["lines"][0]["id"]: "stopped", new_line: "active"}
        assert [r["id"] for r in resources(active.json())] == [new_line]
        audited = await audit_actions(container, patient["id"])
        assert "prescribing.prescription.list" in [a for a, _ in audited]

    async def test_another_facility_sees_nothing_and_search_needs_a_patient(self, client, auth):
        patient, rx = await _order(client, auth)
        other = await auth("demo.nurse.b")

        read = await get(client, other, f"/MedicationRequest/{rx['lines'][0]['id']}")
        search = await get(client, other, "/MedicationRequest", patient=patient["id"])
        unbounded = await get(client, other, "/MedicationRequest", status="active")

        assert read.status_code == 403
        assert search.status_code == 200 and search.json()["total"] == 0
        assert unbounded.status_code == 400
        assert outcome_paths(unbounded) == ["patient"]


class TestMedicationDispense:
    async def test_a_refusal_is_declined_with_its_reason_and_the_override_completed(
        self, client, auth
    ):
        doctor = await auth("demo.doctor")
        pharmacist = await auth("demo.pharmacist")
        patient = await new_patient(client, auth)
        created = await prescribe(client, doctor, patient["id"], GLUCOSE_10)
        line_id = created.json()["lines"][0]["id"]
        await problem(client, doctor, patient["id"], "diabetes", "E11.9")
        refused = await dispense(client, pharmacist, line_id, quantity=2)
        assert refused.status_code == 409, refused.text
        refused_id = refused.json()["dispensing_id"]
        overridden = await client.post(
            f"/api/v1/dispensings/{refused_id}/override",
            headers=pharmacist,
            json={"reason": "DKA protocol"},
        )
        assert overridden.status_code == 201, overridden.text

        by_patient = await get(client, doctor, "/MedicationDispense", patient=patient["id"])
        by_line = await get(
            client, doctor, "/MedicationDispense", prescription=f"MedicationRequest/{line_id}"
        )
        read = await get(client, doctor, f"/MedicationDispense/{refused_id}")

        found = {r["id"]: r for r in resources(by_patient.json())}
        assert set(found) == {refused_id, overridden.json()["id"]}
        declined = valid(read.json())
        assert declined["status"] == "declined"
        assert declined["statusReasonCodeableConcept"]["coding"][0]["code"] == "contraindicated"
        assert declined["statusReasonCodeableConcept"]["text"]
        assert "whenHandedOver" not in declined
        done = found[overridden.json()["id"]]
        assert done["status"] == "completed" and done["quantity"]["value"] == 2
        assert done["authorizingPrescription"][0]["reference"] == f"MedicationRequest/{line_id}"
        assert "DKA protocol" in done["note"][0]["text"]
        assert {r["id"] for r in resources(by_line.json())} == set(found)

    async def test_a_pharmacist_rejection_is_declined_with_the_pharmacists_words(
        self, client, auth
    ):
        patient, rx = await _order(client, auth)
        pharmacist = await auth("demo.pharmacist")
        rejected = await client.post(
            "/api/v1/dispensings/reject",
            headers=pharmacist,
            json={"line_id": rx["lines"][0]["id"], "reason": "Rupture de stock"},
        )
        assert rejected.status_code == 201, rejected.text

        found = await get(client, pharmacist, "/MedicationDispense", prescription=rx["id"])

        [resource] = resources(found.json())
        assert resource["status"] == "declined"
        assert resource["statusReasonCodeableConcept"]["text"] == "Rupture de stock"
        assert resource["subject"]["reference"] == f"Patient/{patient['id']}"


class TestServiceRequest:
    async def test_lab_and_imaging_lines_with_loinc_and_category_search(self, client, auth):
        patient, rx = await _order(client, auth)
        lab = await auth("demo.lab_technician")

        labs = await get(
            client, lab, "/ServiceRequest", patient=patient["id"], category="laboratory"
        )
        imaging = await get(
            client, lab, "/ServiceRequest", patient=patient["id"], category="363679005"
        )

        [creatinine] = resources(labs.json())
        assert creatinine["id"] == rx["lines"][1]["id"]
        assert creatinine["code"]["coding"] == [
            {"system": LOINC_SYSTEM, "code": "2160-0", "display": "Creatinine"}
        ]
        assert creatinine["status"] == "active"
        assert creatinine["requisition"]["value"] == rx["id"]
        [xray] = resources(imaging.json())
        assert xray["bodySite"][0]["text"] == "Thorax"
        read = await get(client, lab, f"/ServiceRequest/{xray['id']}")
        assert valid(read.json())["id"] == rx["lines"][2]["id"]

    async def test_a_stopped_prescription_revokes_its_tests(self, client, auth):
        patient, rx = await _order(client, auth)
        doctor = await auth("demo.doctor")
        stopped = await client.post(
            f"/api/v1/prescriptions/{rx['id']}/stop", headers=doctor, json={"reason": "done"}
        )
        assert stopped.status_code in (200, 201), stopped.text

        active = await get(
            client, doctor, "/ServiceRequest", patient=patient["id"], status="active"
        )
        revoked = await get(
            client, doctor, "/ServiceRequest", patient=patient["id"], status="revoked"
        )

        assert active.json()["total"] == 0
        assert revoked.json()["total"] == 2

    async def test_a_lab_subscription_is_notified_of_new_lab_lines_of_its_facility_only(
        self, client, auth, container
    ):
        lab = await auth("demo.lab_technician")
        other = await auth("demo.nurse.b")
        subscriptions = {}
        for who, headers in (("lab", lab), ("other", other)):
            created = await post(
                client,
                headers,
                "/Subscription",
                {
                    "resourceType": "Subscription",
                    "status": "requested",
                    "reason": "lab worklist",
                    "criteria": "ServiceRequest?category=laboratory",
                    "channel": {"type": "rest-hook", "endpoint": "https://lab.example.org/hook"},
                },
            )
            assert created.status_code == 201, created.text
            subscriptions[who] = created.json()["id"]
        _, rx = await _order(client, auth)

        async with container.uow(SYSTEM_CONTEXT) as uow:
            await fhir_jobs.match_changes(uow, container.clock)
            await uow.commit()
        async with container.uow(SYSTEM_CONTEXT) as uow:
            store = uow.fhir.subscriptions
            for_lab = await store.pending(_uuid(subscriptions["lab"]), 10)
            for_other = await store.pending(_uuid(subscriptions["other"]), 10)

        assert [(n.resource_type, str(n.resource_id)) for n in for_lab] == [
            ("ServiceRequest", rx["lines"][1]["id"])
        ]
        assert for_other == []


class TestEverything:
    async def test_everything_gathers_requests_and_dispensings(self, client, auth):
        patient, rx = await _order(client, auth)
        pharmacist = await auth("demo.pharmacist")
        handed = await dispense(client, pharmacist, rx["lines"][0]["id"], quantity=15)
        assert handed.status_code == 201, handed.text
        doctor = await auth("demo.doctor")

        everything = await get(client, doctor, f"/Patient/{patient['id']}/$everything")

        assert everything.status_code == 200, everything.text
        kinds = sorted(r["resourceType"] for r in resources(everything.json()))
        assert kinds == [
            "MedicationDispense",
            "MedicationRequest",
            "Patient",
            "ServiceRequest",
            "ServiceRequest",
        ]


def _uuid(text: str) -> Any:
    from uuid import UUID

    return UUID(text)
