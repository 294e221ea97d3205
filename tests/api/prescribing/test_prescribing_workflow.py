"""Prescription workflow through the API: lab and imaging lines, validation, amendments
(new versions), renewals, cancellation, rejection at the pharmacy, permissions and
facility scope, the formulary and pharmacists' local rules, and the ordonnance PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.api.clinical.helpers import ARABIC_FAMILY, ARABIC_GIVEN
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
CREATININE = {"kind": "lab", "lab": {"loinc": "2160-0", "name": "Creatinine"}}
CHEST_XRAY = {"kind": "imaging", "imaging": {"modality": "XR", "body_site": "Thorax"}}


class TestWriting:
    async def test_a_prescription_holds_medication_lab_and_imaging_lines(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)

        created = await prescribe(
            client, doctor, patient["id"], PARACETAMOL, CREATININE, CHEST_XRAY
        )

        assert created.status_code == 201, created.text
        body = created.json()
        assert body["status"] == "active" and body["version"] == 1 and body["is_current"]
        assert [line["kind"] for line in body["lines"]] == ["medication", "lab", "imaging"]
        assert body["lines"][0]["product_name"].lower().startswith("paracetamol")
        assert body["lines"][1]["loinc"] == "2160-0"
        assert body["knowledge_version"]
        read = await client.get(f"/api/v1/prescriptions/{body['id']}", headers=doctor)
        assert read.status_code == 200
        assert read.json()["lines"][0]["instructions"] == "Après les repas"

    async def test_bad_lines_answer_422_naming_each_field(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)

        refused = await prescribe(
            client,
            doctor,
            patient["id"],
            medication("no-such-product"),
            medication("paracetamol-500-tab", route="iv"),
            {"kind": "lab", "lab": {"loinc": "2160-1", "name": "Creatinine"}},
        )

        assert refused.status_code == 422, refused.text
        fields = {(e["field"], e["code"]) for e in refused.json()["errors"]}
        assert fields == {
            ("lines.0.product_code", "unknown_product"),
            ("lines.1.route", "route_not_available"),
            ("lines.2.loinc", "invalid_loinc"),
        }

    async def test_a_nurse_cannot_prescribe_and_a_pharmacist_of_another_facility_cannot_read(
        self, client, auth
    ):
        nurse = await auth("demo.nurse")
        doctor = await auth("demo.doctor")
        other = await auth("demo.nurse.b")
        patient = await new_patient(client, auth)

        denied = await prescribe(client, nurse, patient["id"], PARACETAMOL)
        assert denied.status_code == 403
        created = await prescribe(client, doctor, patient["id"], PARACETAMOL)
        outside = await client.get(f"/api/v1/prescriptions/{created.json()['id']}", headers=other)
        assert outside.status_code == 403


class TestVersions:
    async def test_amending_writes_a_new_version_and_keeps_the_old_one(
        self, client, auth, container
    ):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        first = (await prescribe(client, doctor, patient["id"], PARACETAMOL)).json()

        amended = await client.post(
            f"/api/v1/prescriptions/{first['id']}/amend",
            headers=doctor,
            json={
                "lines": [
                    medication("paracetamol-500-tab", route="oral", dose=500, dose_unit="mg")
                ],
                "reason": "Dose reduced",
            },
        )

        assert amended.status_code == 201, amended.text
        second = amended.json()
        assert (second["version"], second["series_id"], second["previous_id"]) == (
            2,
            first["series_id"],
            first["id"],
        )
        # the old version does not count as an active medication against the new one
        assert "duplicate_therapy" not in {a["kind"] for a in second["lines"][0]["alerts"]}
        old = (await client.get(f"/api/v1/prescriptions/{first['id']}", headers=doctor)).json()
        assert old["is_current"] is False
        current = await client.get(
            f"/api/v1/patients/{patient['id']}/prescriptions", headers=doctor
        )
        assert [p["id"] for p in current.json()] == [second["id"]]
        every = await client.get(
            f"/api/v1/patients/{patient['id']}/prescriptions",
            params={"all_versions": "true"},
            headers=doctor,
        )
        assert len(every.json()) == 2
        again = await client.post(
            f"/api/v1/prescriptions/{first['id']}/amend",
            headers=doctor,
            json={"lines": [PARACETAMOL], "reason": "again"},
        )
        assert again.status_code == 409
        pharmacist = await auth("demo.pharmacist")
        stale = await dispense(client, pharmacist, first["lines"][0]["id"])
        assert stale.status_code == 409 and stale.json()["code"] == "line_not_dispensable"
        actions = [a for a, _ in await audit_actions(container, patient["id"])]
        assert "prescribing.prescription.amend" in actions

    async def test_renewal_is_a_new_prescription_checked_afresh(self, client, auth):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        first = (await prescribe(client, doctor, patient["id"], PARACETAMOL)).json()

        renewed = await client.post(
            f"/api/v1/prescriptions/{first['id']}/renew", headers=doctor, json={}
        )

        assert renewed.status_code == 201, renewed.text
        body = renewed.json()
        assert body["renewal_of"] == first["id"] and body["series_id"] != first["series_id"]
        # the first one is still active: the renewal duplicates it, and says so
        assert "duplicate_therapy" in {a["kind"] for a in body["lines"][0]["alerts"]}

    async def test_cancel_only_while_nothing_was_dispensed(self, client, auth):
        doctor = await auth("demo.doctor")
        pharmacist = await auth("demo.pharmacist")
        patient = await new_patient(client, auth)
        first = (await prescribe(client, doctor, patient["id"], PARACETAMOL, PARACETAMOL)).json()
        handed = await dispense(client, pharmacist, first["lines"][0]["id"], quantity=15)
        assert handed.status_code == 201, handed.text
        assert handed.json()["quantity"] in ("15", 15, 15.0)

        refused = await client.post(
            f"/api/v1/prescriptions/{first['id']}/stop",
            headers=doctor,
            json={"reason": "mistake", "cancel": True},
        )
        assert refused.status_code == 409
        stopped = await client.post(
            f"/api/v1/prescriptions/{first['id']}/stop", headers=doctor, json={"reason": "done"}
        )
        assert stopped.json()["status"] == "stopped"


class TestPharmacy:
    async def test_rejecting_the_last_line_completes_the_prescription(self, client, auth):
        doctor = await auth("demo.doctor")
        pharmacist = await auth("demo.pharmacist")
        patient = await new_patient(client, auth)
        rx = (
            await prescribe(
                client, doctor, patient["id"], PARACETAMOL, medication("amoxicillin-500-cap")
            )
        ).json()
        handed = await dispense(client, pharmacist, rx["lines"][0]["id"], quantity=15)
        assert handed.status_code == 201
        partial = await client.get(f"/api/v1/prescriptions/{rx['id']}", headers=pharmacist)
        assert partial.json()["status"] == "active"

        rejected = await client.post(
            "/api/v1/dispensings/reject",
            headers=pharmacist,
            json={"line_id": rx["lines"][1]["id"], "reason": "Rupture de stock"},
        )

        assert rejected.status_code == 201, rejected.text
        assert rejected.json()["status"] == "rejected"
        done = await client.get(f"/api/v1/prescriptions/{rx['id']}", headers=pharmacist)
        assert done.json()["status"] == "completed"
        a_doctor_cannot_dispense = await dispense(client, doctor, rx["lines"][0]["id"])
        assert a_doctor_cannot_dispense.status_code == 403


class TestFormularyAndLocalRules:
    async def test_the_formulary_is_seeded_from_the_who_eml(self, client, auth):
        doctor = await auth("demo.doctor")
        found = await client.get(
            "/api/v1/formulary/products", params={"q": "amoxicillin"}, headers=doctor
        )
        assert found.status_code == 200
        codes = {p["code"] for p in found.json()}
        assert {"amoxicillin-500-cap", "amox-clav-500-125-tab"} <= codes
        assert all(p["source"] == "who_eml" for p in found.json())

    async def test_a_pharmacist_adds_a_product_that_can_then_be_prescribed(self, client, auth):
        pharmacist = await auth("demo.pharmacist")
        doctor = await auth("demo.doctor")
        body = {
            "code": "mrt-artesunate-60-inj",
            "name": "Artesunate 60 mg injection (LNME)",
            "form": "powder for injection",
            "routes": ["iv", "im"],
            "atc": "P01BE03",
            "ingredients": [
                {
                    "inn": "artesunate",
                    "strength_value": 60,
                    "strength_unit": "mg",
                    "per_unit": "vial",
                    "atc": "P01BE03",
                }
            ],
            "local_names": ["Artesun"],
        }
        denied = await client.post("/api/v1/formulary/products", headers=doctor, json=body)
        assert denied.status_code == 403
        added = await client.post("/api/v1/formulary/products", headers=pharmacist, json=body)
        assert added.status_code == 201, added.text
        assert added.json()["source"] == "local"
        duplicate = await client.post("/api/v1/formulary/products", headers=pharmacist, json=body)
        assert duplicate.status_code == 409

        patient = await new_patient(client, auth)
        created = await prescribe(
            client, doctor, patient["id"], medication("mrt-artesunate-60-inj", route="iv")
        )
        assert created.status_code == 201, created.text

    async def test_a_local_rule_is_validated_versioned_audited_and_used(
        self, client, auth, container
    ):
        pharmacist = await auth("demo.pharmacist")
        doctor = await auth("demo.doctor")
        rule = {
            "id": "local-paracetamol-liver-failure",
            "version": 1,
            "kind": "condition",
            "severity": "warning",
            "drugs": {"atc": ["N02BE01"]},
            "when_any": [{"condition": ["K72"]}],
            "source": {"ref": "who-mf-2008", "detail": "Hepatic impairment"},
            "advice": {
                "en": "Liver failure: at most 2 g of paracetamol a day.",
                "fr": "Insuffisance hépatique : au plus 2 g de paracétamol par jour.",
                "ar": "فشل كبدي: لا يتجاوز الباراسيتامول 2 غ في اليوم.",
            },
            "test_cases": [
                {
                    "expect": "fires",
                    "order": "paracetamol-500-tab",
                    "patient": {"age": "40y", "conditions": ["K72.9"]},
                },
                {"expect": "silent", "order": "paracetamol-500-tab", "patient": {"age": "40y"}},
            ],
        }
        broken = {**rule, "test_cases": [rule["test_cases"][0]]}
        refused = await client.post(
            "/api/v1/formulary/local-rules",
            headers=pharmacist,
            json={"rule_type": "contraindication", "rule": broken},
        )
        assert refused.status_code == 422, refused.text

        added = await client.post(
            "/api/v1/formulary/local-rules",
            headers=pharmacist,
            json={"rule_type": "contraindication", "rule": rule},
        )
        assert added.status_code == 201, added.text
        assert added.json()["version"] == 1
        revised = await client.post(
            "/api/v1/formulary/local-rules",
            headers=pharmacist,
            json={"rule_type": "contraindication", "rule": {**rule, "severity": "contraindicated"}},
        )
        assert revised.status_code == 201, revised.text
        assert revised.json()["version"] == 2
        assert revised.json()["knowledge_fingerprint"] != added.json()["knowledge_fingerprint"]
        in_force = await client.get("/api/v1/formulary/local-rules", headers=doctor)
        assert [(r["rule_id"], r["version"]) for r in in_force.json()] == [
            ("local-paracetamol-liver-failure", 2)
        ]

        patient = await new_patient(client, auth)
        await problem(client, doctor, patient["id"], "other", "K72.9")
        created = await prescribe(client, doctor, patient["id"], PARACETAMOL)
        assert created.status_code == 409, created.text
        alert = next(
            a
            for a in created.json()["lines"][0]["alerts"]
            if a["rule_id"] == "local-paracetamol-liver-failure"
        )
        assert (alert["origin"], alert["rule_version"]) == ("local", 2)
        async with container.uow.sessions() as session:
            from sqlalchemy import select

            from afiya.adapters.db.models import AuditEventRow

            actions = (
                await session.scalars(
                    select(AuditEventRow.action).where(
                        AuditEventRow.action == "prescribing.local_rule.create"
                    )
                )
            ).all()
        assert len(actions) == 2


class TestDocument:
    async def test_the_ordonnance_in_french_and_arabic(self, client, auth, container):
        doctor = await auth("demo.doctor")
        patient = await new_patient(client, auth)
        rx = (
            await prescribe(client, doctor, patient["id"], PARACETAMOL, CREATININE, CHEST_XRAY)
        ).json()
        url = f"/api/v1/prescriptions/{rx['id']}/document"

        french = await client.get(url, params={"language": "fr"}, headers=doctor)
        arabic = await client.get(url, params={"language": "ar"}, headers=doctor)

        assert french.status_code == 200, french.text
        assert french.headers["content-type"].startswith("application/pdf")
        text_fr = "".join(p.extract_text() for p in PdfReader(io.BytesIO(french.content)).pages)
        assert "Ordonnance" in text_fr and "Paracetamol" in text_fr
        assert "Créatinine" in text_fr or "Creatinine" in text_fr
        assert "3 fois par jour" in text_fr and patient["mrn"] in text_fr
        text_ar = "".join(p.extract_text() for p in PdfReader(io.BytesIO(arabic.content)).pages)
        assert ARABIC_GIVEN in text_ar and ARABIC_FAMILY in text_ar
        assert "وصفة طبية" in text_ar
        actions = [a for a, _ in await audit_actions(container, patient["id"])]
        assert actions.count("prescribing.prescription.document") == 2
