"""The situations the engine exists for, checked end to end on the shipped release."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from afiya.domain.prescribing.model import (
    AllergyFact,
    ConditionFact,
    LabFact,
    MedicationOrderDraft,
    PatientContext,
)
from afiya.domain.prescribing.safety import AlertKind, KnowledgeBase, Severity, check

Order = Callable[..., MedicationOrderDraft]
Patient = Callable[..., PatientContext]


def _by_rule(alerts: list, rule_id: str) -> list:
    return [a for a in alerts if a.rule_id == rule_id]


class TestDiabeticGivenGlucose:
    def test_glucose_10_percent_infusion_is_contraindicated_in_a_diabetic(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        context = patient(years=58, conditions=[ConditionFact("E11.9", display="Type 2 diabetes")])

        alerts = check(order("glucose-10-inf", route="iv"), context, kb)

        [alert] = _by_rule(alerts, "glucose-infusion-diabetes")
        assert alert.severity is Severity.CONTRAINDICATED
        assert alert.requires_override
        assert alert.kind is AlertKind.CONDITION
        assert [e.code for e in alert.evidence] == ["E11.9"]
        assert alert.message.params["drug"] == "Glucose 10% solution for infusion"
        assert "E11.9 Type 2 diabetes" in alert.message.render()
        assert alert.advice.get("fr").startswith("Le patient est diabétique")
        assert alert.advice.get("ar-MR") == alert.advice.ar
        assert alert.source.title.startswith("American Diabetes Association")
        assert alerts[0] is alert  # the most severe alert comes first

    def test_a_documented_hypoglycaemia_lifts_the_block(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        low = LabFact("15074-8", 2.6, "mmol/L", at=patient().as_of - timedelta(hours=2))
        context = patient(years=58, conditions=[ConditionFact("E11.9")], labs=[low])

        alerts = check(order("glucose-10-inf"), context, kb)

        assert _by_rule(alerts, "glucose-infusion-diabetes") == []

    def test_a_hypoglycaemia_older_than_a_day_does_not(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        old = LabFact("15074-8", 2.6, "mmol/L", at=patient().as_of - timedelta(hours=30))
        context = patient(years=58, conditions=[ConditionFact("E11.9")], labs=[old])

        assert _by_rule(check(order("glucose-10-inf"), context, kb), "glucose-infusion-diabetes")

    def test_normal_saline_raises_nothing_for_the_same_patient(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        context = patient(years=58, conditions=[ConditionFact("E11.9")])

        assert check(order("nacl-0-9-inf"), context, kb) == []


class TestPenicillinAllergy:
    def test_confirmed_penicillin_allergy_contraindicates_amoxicillin(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        allergy = AllergyFact("J01C", "atc_class", "confirmed", "low", display="Pénicillines")

        alerts = check(order("amoxicillin-500-cap"), patient(allergies=[allergy]), kb)

        [alert] = alerts
        assert (alert.rule_id, alert.severity) == ("allergy-recorded-class", "contraindicated")
        assert alert.kind is AlertKind.ALLERGY
        assert alert.evidence[0].code == "J01C"

    def test_allergy_to_one_penicillin_extends_to_amoxicillin(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        allergy = AllergyFact("benzylpenicillin", verification="confirmed", criticality="high")

        [alert] = check(order("amox-clav-500-125-tab"), patient(allergies=[allergy]), kb)

        assert (alert.rule_id, alert.severity) == ("penicillin-class-allergy", "contraindicated")

    def test_refuted_allergy_raises_nothing(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        refuted = AllergyFact("amoxicillin", verification="refuted", criticality="high")

        assert check(order("amoxicillin-500-cap"), patient(allergies=[refuted]), kb) == []

    def test_unconfirmed_low_criticality_allergy_still_warns(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        unconfirmed = AllergyFact("amoxicillin", verification="unconfirmed", criticality="low")

        [alert] = check(order("amoxicillin-500-cap"), patient(allergies=[unconfirmed]), kb)

        assert alert.severity is Severity.WARNING

    def test_unconfirmed_allergy_of_unknown_criticality_is_treated_as_real(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        unassessed = AllergyFact("amoxicillin", verification="unconfirmed", criticality=None)

        [alert] = check(order("amoxicillin-500-cap"), patient(allergies=[unassessed]), kb)

        assert alert.severity is Severity.CONTRAINDICATED

    def test_cephalosporin_cross_reactivity_depends_on_criticality(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        def severity(criticality: str) -> Severity:
            allergy = AllergyFact("amoxicillin", verification="confirmed", criticality=criticality)
            [alert] = check(order("ceftriaxone-1g-inj"), patient(allergies=[allergy]), kb)
            assert alert.kind is AlertKind.CROSS_REACTIVITY
            return alert.severity

        assert severity("high") is Severity.CONTRAINDICATED
        assert severity("low") is Severity.WARNING


class TestInteractions:
    def test_warfarin_and_ibuprofen_warn_in_both_orders_of_entry(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        one = check(order("warfarin-5-tab"), patient(medications=["ibuprofen-400-tab"]), kb)
        other = check(order("ibuprofen-400-tab"), patient(medications=["warfarin-5-tab"]), kb)

        first = _by_rule(one, "warfarin-nsaid")
        second = _by_rule(other, "warfarin-nsaid")
        assert [a.severity for a in first] == [a.severity for a in second] == [Severity.WARNING]
        assert first[0].evidence[0].code == "ibuprofen-400-tab"
        assert second[0].evidence[0].code == "warfarin-5-tab"
        assert first[0].detail is not None
        assert first[0].detail.msgid == "Additive bleeding risk."

    def test_rifampicin_with_lopinavir_is_contraindicated_either_way(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        rule = "rifampicin-boosted-protease-inhibitor"
        one = check(order("rifampicin-300-cap"), patient(medications=["lpv-r-200-50-tab"]), kb)
        other = check(order("lpv-r-200-50-tab"), patient(medications=["rifampicin-300-cap"]), kb)

        assert [a.severity for a in _by_rule(one, rule)] == [Severity.CONTRAINDICATED]
        assert [a.severity for a in _by_rule(other, rule)] == [Severity.CONTRAINDICATED]

    def test_route_restricted_interaction_ignores_other_routes(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        context = patient(medications=["ferrous-sulfate-200-tab"])

        oral = check(order("ciprofloxacin-500-tab"), context, kb)
        iv = check(order("ciprofloxacin-2-inf"), context, kb)

        assert _by_rule(oral, "fluoroquinolone-polyvalent-cations")
        assert not _by_rule(iv, "fluoroquinolone-polyvalent-cations")

    def test_one_alert_per_interacting_medication(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        context = patient(
            medications=["ibuprofen-400-tab", "aspirin-300-tab", "paracetamol-500-tab"]
        )

        alerts = _by_rule(check(order("warfarin-5-tab"), context, kb), "warfarin-nsaid")

        assert sorted(a.evidence[0].code for a in alerts) == [
            "aspirin-300-tab",
            "ibuprofen-400-tab",
        ]


class TestDuplicates:
    def test_same_ingredient_in_two_products(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        alerts = check(
            order("paracetamol-500-tab"), patient(medications=["paracetamol-10-inf"]), kb
        )

        assert [a.rule_id for a in alerts] == ["duplicate-same-ingredient"]
        assert alerts[0].message.params["ingredient"] == "paracetamol"

    def test_nrti_backbone_is_not_a_duplicate(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        alerts = check(
            order("lamivudine-150-tab"), patient(medications=["tenofovir-df-300-tab"]), kb
        )

        assert alerts == []


class TestRenalFunction:
    def test_egfr_is_estimated_from_creatinine_when_not_measured(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        creat = LabFact("2160-0", 3.4, "mg/dL", at=patient().as_of - timedelta(days=2))
        context = patient(years=62, sex="male", labs=[creat])

        [alert] = _by_rule(
            check(order("metformin-500-tab"), context, kb), "metformin-egfr-below-30"
        )

        assert alert.kind is AlertKind.RENAL
        assert alert.evidence[0].code == "egfr:CKD-EPI 2021"
        assert 18 < (alert.evidence[0].value or 0) < 22

    def test_a_lab_in_an_unconvertible_unit_is_ignored(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        odd = LabFact("98979-8", 20, "furlongs", at=patient().as_of)

        assert check(order("metformin-500-tab"), patient(years=62, labs=[odd]), kb) == []


class TestPureAndOrdered:
    def test_same_inputs_give_the_same_alerts_in_the_same_order(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        context = patient(
            years=30,
            pregnant=True,
            gestational_weeks=26,
            medications=["warfarin-5-tab", "aspirin-300-tab", "lithium-300-tab"],
            allergies=[AllergyFact("aspirin", verification="confirmed")],
        )
        draft = order("ibuprofen-400-tab", dose=800, dose_unit="mg", frequency_per_day=4)

        first, second = check(draft, context, kb), check(draft, context, kb)

        assert first == second
        ranks = [a.severity.rank for a in first]
        assert ranks == sorted(ranks, reverse=True)
        assert {a.kind for a in first} >= {
            AlertKind.PREGNANCY,
            AlertKind.INTERACTION,
            AlertKind.DUPLICATE_THERAPY,
            AlertKind.DOSE,
        }
