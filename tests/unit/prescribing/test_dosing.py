"""Dose conversion and dose-range alerts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from afiya.domain.prescribing.model import (
    Ingredient,
    MedicationOrderDraft,
    PatientContext,
    Product,
    Strength,
)
from afiya.domain.prescribing.safety import AlertKind, KnowledgeBase, Severity, check
from afiya.domain.prescribing.safety.dosing import ingredient_amount

Order = Callable[..., MedicationOrderDraft]
Patient = Callable[..., PatientContext]


def _dose_alerts(alerts: list) -> list:
    return [a for a in alerts if a.kind is AlertKind.DOSE]


class TestIngredientAmount:
    def test_millilitres_of_a_suspension_use_the_strength(self, order: Order) -> None:
        draft = order("amoxicillin-250-5-susp", dose=7.5, dose_unit="mL")

        amount = ingredient_amount(draft, draft.product.ingredients[0], "mg")

        assert amount == pytest.approx(375)

    def test_tablets_of_a_combination_give_each_ingredient(self, order: Order) -> None:
        draft = order("al-20-120-tab", dose=4, dose_unit="tablet")
        artemether, lumefantrine = draft.product.ingredients

        assert ingredient_amount(draft, artemether, "mg") == pytest.approx(80)
        assert ingredient_amount(draft, lumefantrine, "g") == pytest.approx(0.48)

    def test_a_mass_dose_of_a_combination_is_shared_by_strength(self, order: Order) -> None:
        draft = order("cotrimoxazole-800-160-tab", dose=960, dose_unit="mg")
        smx, tmp = draft.product.ingredients

        assert ingredient_amount(draft, smx, "mg") == pytest.approx(800)
        assert ingredient_amount(draft, tmp, "mg") == pytest.approx(160)

    def test_grams_and_micrograms_convert(self, order: Order) -> None:
        grams = order("ceftriaxone-1g-inj", dose=1.5, dose_unit="g")
        micrograms = order("digoxin-250-tab", dose=250, dose_unit="µg")

        assert ingredient_amount(grams, grams.product.ingredients[0], "mg") == 1500
        assert ingredient_amount(micrograms, micrograms.product.ingredients[0], "mg") == 0.25

    def test_international_units_stay_units(self, order: Order) -> None:
        draft = order("insulin-soluble-100-inj", dose=0.1, dose_unit="mL")

        assert ingredient_amount(draft, draft.product.ingredients[0], "IU") == pytest.approx(10)

    def test_an_unknown_presentation_cannot_be_converted(self) -> None:
        product = Product(
            "x", "X", (Ingredient("x", "x", "N02BE01"),), form="tablet", routes=("oral",)
        )
        draft = MedicationOrderDraft(product, dose=2, dose_unit="tablet")

        assert ingredient_amount(draft, product.ingredients[0], "mg") is None

    def test_strength_without_a_mass_unit_does_not_convert_to_mass(self) -> None:
        ing = Ingredient("y", "y", "N02BE01", Strength(10, "IU", 1, "mL"))
        product = Product("y", "Y", (ing,), form="solution", routes=("oral",))
        draft = MedicationOrderDraft(product, dose=2, dose_unit="mL")

        assert ingredient_amount(draft, ing, "mg") is None


class TestDoseAlerts:
    def test_tenfold_paediatric_paracetamol_is_contraindicated(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        draft = order("paracetamol-125-5-susp", dose=50, dose_unit="mL", frequency_per_day=4)

        [alert] = _dose_alerts(check(draft, patient(years=1, weight_kg=10), kb))

        assert alert.rule_id == "dose-paracetamol-child"
        assert alert.severity is Severity.CONTRAINDICATED
        codes = {e.code for e in alert.evidence}
        assert {"max_per_kg_per_dose", "max_per_kg_per_day", "max_per_dose", "weight"} <= codes

    def test_correct_paediatric_dose_raises_nothing(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        draft = order("paracetamol-125-5-susp", dose=6, dose_unit="mL", frequency_per_day=4)

        assert check(draft, patient(years=1, weight_kg=10), kb) == []

    def test_child_dose_without_weight_is_flagged_as_unverified(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        draft = order("paracetamol-125-5-susp", dose=5, dose_unit="mL", frequency_per_day=4)

        [alert] = check(draft, patient(years=3), kb)

        assert alert.severity is Severity.INFO
        assert "without the weight" in alert.message.msgid

    def test_dose_without_age_is_flagged_when_every_band_needs_age(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        draft = order("amoxicillin-500-cap", dose=500, dose_unit="mg", frequency_per_day=3)

        [alert] = check(draft, patient(), kb)

        assert alert.severity is Severity.INFO
        assert "age" in alert.message.msgid

    def test_unconvertible_unit_is_reported(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        draft = order("ibuprofen-400-tab", dose=2, dose_unit="spoon", frequency_per_day=3)

        [alert] = check(draft, patient(years=40), kb)

        assert alert.severity is Severity.INFO
        assert alert.message.params == {
            "ingredient": "ibuprofen",
            "unit": "spoon",
            "rule_unit": "mg",
        }

    def test_underdosed_artesunate_warns(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        draft = order("artesunate-60-inj", route="iv", dose=30, dose_unit="mg", frequency_per_day=1)

        [alert] = check(draft, patient(years=9, weight_kg=25), kb)

        assert alert.rule_id == "dose-artesunate-parenteral-20kg-and-over"
        assert alert.severity is Severity.WARNING
        assert "below the minimum" in alert.message.msgid

    def test_rounding_within_tolerance_is_accepted(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        # 2.4 mg/kg x 25 kg = 60 mg; 55 mg is 8% under, within the 10% tolerance.
        draft = order("artesunate-60-inj", route="iv", dose=55, dose_unit="mg", frequency_per_day=1)

        assert check(draft, patient(years=9, weight_kg=25), kb) == []

    def test_order_without_dose_is_not_dose_checked(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        assert check(order("paracetamol-500-tab"), patient(years=2), kb) == []

    def test_adult_absolute_limit_applies_without_weight(
        self, kb: KnowledgeBase, order: Order, patient: Patient
    ) -> None:
        draft = order("paracetamol-500-tab", dose=1, dose_unit="g", frequency_per_day=6)

        [alert] = check(draft, patient(years=40), kb)

        assert (alert.rule_id, alert.severity) == ("dose-paracetamol-adult", Severity.WARNING)
        assert alert.message.params["value"] == "6000"
        assert alert.message.params["limit"] == "4000"
