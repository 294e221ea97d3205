"""Issue 5 acceptance through the API: the record read from the clinical tables drives
the engine at prescribing and again at dispensing; contraindications need an override
with a reason, which is stored, audited and shown on the timeline."""

from __future__ import annotations

from tests.api.clinical.helpers import timeline
from tests.api.prescribing.helpers import (
    allergy,
    audit_actions,
    dispense,
    medication,
    new_patient,
    prescribe,
    problem,
)

GLUCOSE_10 = medication(
    "glucose-10-inf", dose=500, dose_unit="mL", route="iv", frequency_per_day=1, duration_days=1
)
AMOXICILLIN = medication(
    "amoxicillin-500-cap", dose=500, dose_unit="mg", route="oral", frequency_per_day=3
)


def _rules(alerts: list[dict]) -> dict[str, str]:
    return {a["rule_id"]: a["severity"] for a in alerts}


class TestDiabeticGivenGlucose:
    async def test_glucose_10_for_a_diabetic_is_refused_without_override_and_nothing_stored(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        await problem(client, doctor, patient["id"], "diabetes", "E11.9")

        refused = await prescribe(client, doctor, patient["id"], GLUCOSE_10)

        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        body = refused.json()
        assert body["code"] == "contraindicated"
        [line] = body["lines"]
        assert _rules(line["alerts"])["glucose-infusion-diabetes"] == "contraindicated"
        evidence = next(a for a in line["alerts"] if a["rule_id"] == "glucose-infusion-diabetes")
        assert any(e["code"].startswith("E11") for e in evidence["evidence"])
        listed = await client.get(f"/api/v1/patients/{patient['id']}/prescriptions", headers=doctor)
        assert listed.json() == []
        actions = [a for a, _ in await audit_actions(container, patient["id"])]
        assert "prescribing.prescription.contraindicated" in actions

    async def test_without_diabetes_glucose_raises_no_contraindication(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        await problem(client, doctor, patient["id"], "hypertension", "I10")

        created = await prescribe(client, doctor, patient["id"], GLUCOSE_10)

        assert created.status_code == 201, created.text
        alerts = created.json()["lines"][0]["alerts"]
        assert "glucose-infusion-diabetes" not in _rules(alerts)

    async def test_dispensing_is_refused_409_without_override_and_accepted_with_one(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        pharmacist = await auth("demo.pharmacist")
        patient = await new_patient(client, auth)
        # written before the diagnosis was known: the prescriber saw no alert
        created = await prescribe(client, doctor, patient["id"], GLUCOSE_10)
        assert created.status_code == 201, created.text
        line_id = created.json()["lines"][0]["id"]
        await problem(client, doctor, patient["id"], "diabetes", "E11.9")

        refused = await dispense(client, pharmacist, line_id, quantity=2)

        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["code"] == "dispensing_refused"
        assert [a["rule_id"] for a in body["alerts"]] == ["glucose-infusion-diabetes"]
        assert body["alerts"][0]["requires_override"] is True
        refused_id = body["dispensing_id"]

        missing_reason = await client.post(
            f"/api/v1/dispensings/{refused_id}/override", headers=pharmacist, json={}
        )
        assert missing_reason.status_code == 422
        overridden = await client.post(
            f"/api/v1/dispensings/{refused_id}/override",
            headers=pharmacist,
            json={"reason": "DKA protocol: glucose 10% with the insulin infusion"},
        )
        assert overridden.status_code == 201, overridden.text
        dispensed = overridden.json()
        assert dispensed["status"] == "dispensed"
        assert dispensed["override_of"] == refused_id
        assert dispensed["quantity"] == "2" or float(dispensed["quantity"]) == 2
        again = await client.post(
            f"/api/v1/dispensings/{refused_id}/override",
            headers=pharmacist,
            json={"reason": "twice"},
        )
        assert again.status_code == 409

        audit = await audit_actions(container, patient["id"])
        actions = [a for a, _ in audit]
        assert "prescribing.dispensing.refused" in actions
        assert "prescribing.dispensing.override" in actions
        override = next(d for a, d in audit if a == "prescribing.dispensing.override")
        assert override["rules"] == ["glucose-infusion-diabetes"]
        assert override["reason"].startswith("DKA protocol")

        english = {**doctor, "Accept-Language": "en"}
        page = await timeline(client, english, patient["id"], types="dispensing,prescription")
        kinds = [item["type"] for item in page["items"]]
        assert kinds.count("dispensing") == 2 and "prescription" in kinds
        summaries = " | ".join(item["summary"] for item in page["items"])
        assert "refused" in summaries and "override" in summaries

        read = await client.get(f"/api/v1/prescriptions/{created.json()['id']}", headers=pharmacist)
        assert [d["status"] for d in read.json()["dispensings"]] == ["refused", "dispensed"]
        assert read.json()["status"] == "completed"

    async def test_a_nurse_cannot_override_a_refused_dispensing(self, client, auth):
        doctor = await auth("demo.doctor")
        pharmacist = await auth("demo.pharmacist")
        nurse = await auth("demo.nurse")
        patient = await new_patient(client, auth)
        created = await prescribe(client, doctor, patient["id"], GLUCOSE_10)
        await problem(client, doctor, patient["id"], "diabetes", "E11.9")
        refused = await dispense(client, pharmacist, created.json()["lines"][0]["id"])
        assert refused.status_code == 409

        denied = await client.post(
            f"/api/v1/dispensings/{refused.json()['dispensing_id']}/override",
            headers=nurse,
            json={"reason": "I think it is fine"},
        )
        assert denied.status_code == 403
        physician = await client.post(
            f"/api/v1/dispensings/{refused.json()['dispensing_id']}/override",
            headers=doctor,
            json={"reason": "Hypoglycaemia on the ward, glucometer reading 2.1"},
        )
        assert physician.status_code == 201, physician.text

    async def test_prescriber_override_is_stored_and_audited(self, client, auth, container):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        await problem(client, doctor, patient["id"], "diabetes", "E11.9")

        created = await prescribe(
            client,
            doctor,
            patient["id"],
            {**GLUCOSE_10, "override_reason": "DKA protocol, glucose below 14 mmol/L"},
        )

        assert created.status_code == 201, created.text
        line = created.json()["lines"][0]
        assert line["override"]["reason"] == "DKA protocol, glucose below 14 mmol/L"
        assert _rules(line["alerts"])["glucose-infusion-diabetes"] == "contraindicated"
        audit = await audit_actions(container, patient["id"])
        create = next(d for a, d in audit if a == "prescribing.prescription.create")
        assert create["overrides"][0]["rules"] == ["glucose-infusion-diabetes"]


class TestPenicillinAllergy:
    async def test_penicillin_allergy_makes_amoxicillin_contraindicated(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        await allergy(client, doctor, patient["id"], code="benzylpenicillin")

        refused = await prescribe(client, doctor, patient["id"], AMOXICILLIN)

        assert refused.status_code == 409, refused.text
        alerts = refused.json()["lines"][0]["alerts"]
        assert _rules(alerts)["penicillin-class-allergy"] == "contraindicated"

    async def test_a_class_allergy_recorded_as_atc_class_counts_too(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        await allergy(client, doctor, patient["id"], system="drug_class", code="J01C")

        refused = await prescribe(client, doctor, patient["id"], AMOXICILLIN)

        assert refused.status_code == 409, refused.text

    async def test_a_refuted_penicillin_allergy_raises_nothing(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        await allergy(
            client, doctor, patient["id"], code="benzylpenicillin", verification="refuted"
        )

        created = await prescribe(client, doctor, patient["id"], AMOXICILLIN)

        assert created.status_code == 201, created.text
        alerts = created.json()["lines"][0]["alerts"]
        assert not [a for a in alerts if a["kind"] in ("allergy", "cross_reactivity")]


class TestRecordDrivesTheEngine:
    async def test_active_medications_of_other_prescriptions_raise_duplicates(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        first = await prescribe(
            client, doctor, patient["id"], medication("ibuprofen-400-tab", route="oral")
        )
        assert first.status_code == 201, first.text

        second = await prescribe(
            client, doctor, patient["id"], medication("ibuprofen-200-tab", route="oral")
        )

        assert second.status_code == 201, second.text
        kinds = {a["kind"] for a in second.json()["lines"][0]["alerts"]}
        assert "duplicate_therapy" in kinds

    async def test_a_stopped_prescription_no_longer_counts(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        first = await prescribe(
            client, doctor, patient["id"], medication("ibuprofen-400-tab", route="oral")
        )
        stopped = await client.post(
            f"/api/v1/prescriptions/{first.json()['id']}/stop",
            headers=doctor,
            json={"reason": "Pain resolved"},
        )
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["status"] == "stopped"

        second = await prescribe(
            client, doctor, patient["id"], medication("ibuprofen-200-tab", route="oral")
        )

        kinds = {a["kind"] for a in second.json()["lines"][0]["alerts"]}
        assert "duplicate_therapy" not in kinds

    async def test_check_re_evaluates_against_the_record_as_it_is_now(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        created = await prescribe(client, doctor, patient["id"], AMOXICILLIN)
        assert created.status_code == 201
        url = f"/api/v1/prescriptions/{created.json()['id']}/check"
        before = await client.get(url, headers=doctor)
        assert "penicillin-class-allergy" not in _rules(before.json()["lines"][0]["alerts"])

        await allergy(client, doctor, patient["id"], code="benzylpenicillin")
        after = await client.get(url, headers=doctor)

        assert after.status_code == 200, after.text
        assert _rules(after.json()["lines"][0]["alerts"])["penicillin-class-allergy"] == (
            "contraindicated"
        )
