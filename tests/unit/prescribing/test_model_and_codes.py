"""Value objects, code systems and estimates the rules rely on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from afiya.domain.prescribing.model import (
    Age,
    AllergyFact,
    ConditionFact,
    Ingredient,
    MedicationOrderDraft,
    PatientContext,
    Product,
)
from afiya.domain.prescribing.safety import LocalizedText, Severity
from afiya.domain.prescribing.safety.codes import (
    convert_amount,
    normalize_icd10,
    parse_icd10_pattern,
)
from afiya.domain.prescribing.safety.patient_view import bedside_schwartz, ckd_epi_2021
from afiya.domain.shared.errors import ValidationFailed

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class TestIcd10:
    @pytest.mark.parametrize(
        ("pattern", "code", "expected"),
        [
            ("E10-E14", "E11.9", True),
            ("E10-E14", "E14", True),
            ("E10-E14", "E15", False),
            ("E10-E14", "E09.1", False),
            ("E16.0-E16.2", "E16.1", True),
            ("E16.0-E16.2", "E16.4", False),
            ("E16.0-E16.2", "E16", False),
            ("N18.4-N18.5", "n18.5", True),
            ("N17", "N17.9", True),
            ("O10-O16", "O14.1", True),
            ("J45-J46", "J44.9", False),
        ],
    )
    def test_ranges_match_by_prefix(self, pattern: str, code: str, expected: bool) -> None:
        assert parse_icd10_pattern(pattern).matches(normalize_icd10(code)) is expected

    @pytest.mark.parametrize("bad", ["", "E1", "E11-E1", "E14-E10", "diabetes", "E10-E12-E14"])
    def test_invalid_patterns_are_refused(self, bad: str) -> None:
        with pytest.raises(ValueError, match=r".*"):
            parse_icd10_pattern(bad)


class TestUnits:
    @pytest.mark.parametrize(
        ("value", "unit", "to", "expected"),
        [
            (1.5, "g", "mg", 1500),
            (250, "mcg", "mg", 0.25),
            (250, "µg", "mg", 0.25),
            (2.4, "MUI", "IU", 2_400_000),
            (5, "mL", "L", 0.005),
            (3, "tablet", "tablet", 3),
        ],
    )
    def test_conversions(self, value: float, unit: str, to: str, expected: float) -> None:
        assert convert_amount(value, unit, to) == pytest.approx(expected)

    @pytest.mark.parametrize(("unit", "to"), [("mg", "mL"), ("IU", "mg"), ("tablet", "mg")])
    def test_different_dimensions_do_not_convert(self, unit: str, to: str) -> None:
        assert convert_amount(1, unit, to) is None


class TestRenalEstimates:
    def test_ckd_epi_2021_reference_values(self) -> None:
        assert ckd_epi_2021(1.0, 50, female=False) == pytest.approx(91.7, abs=0.5)
        assert ckd_epi_2021(0.7, 50, female=True) == pytest.approx(105.3, abs=0.5)
        assert ckd_epi_2021(3.4, 62, female=False) < 30

    def test_bedside_schwartz(self) -> None:
        assert bedside_schwartz(0.5, 100) == pytest.approx(82.6)


class TestPatientContext:
    def test_naive_time_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            PatientContext(as_of=datetime(2026, 1, 1))
        assert caught.value.errors[0].field == "as_of"

    def test_every_invalid_field_is_reported(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            PatientContext(as_of=NOW, weight_kg=-1, height_cm=5, gestational_weeks=20)
        assert {e.field for e in caught.value.errors} == {
            "weight_kg",
            "height_cm",
            "gestational_weeks",
        }

    def test_lists_become_tuples(self) -> None:
        context = PatientContext(as_of=NOW, conditions=[ConditionFact("E11.9")])  # type: ignore[arg-type]
        assert isinstance(context.conditions, tuple)
        assert hash(context)

    def test_age_from_birth_date_and_years(self) -> None:
        assert Age.from_birth_date(date(2018, 3, 1), date(2026, 3, 1)).completed_years == 8
        assert Age.from_years(8).completed_years == 8
        assert Age(20).years < 0.1

    def test_condition_currency(self) -> None:
        assert ConditionFact("E11").is_current
        assert not ConditionFact("E11", clinical_status="resolved").is_current
        assert not ConditionFact("E11", verification="refuted").is_current

    def test_allergy_class_must_be_an_atc_code(self) -> None:
        with pytest.raises(ValidationFailed):
            AllergyFact("penicillins", substance_kind="atc_class")


class TestProductsAndOrders:
    def test_product_needs_an_ingredient_and_valid_atc(self) -> None:
        with pytest.raises(ValidationFailed):
            Product("p", "P", (), form="tablet", routes=("oral",))
        with pytest.raises(ValidationFailed):
            Product("p", "P", (Ingredient("a", "a", "not-atc"),), form="tablet", routes=())

    def test_order_dose_needs_a_unit_and_positive_values(self) -> None:
        product = Product("p", "P", (Ingredient("a", "a", "N02BE01"),), "tablet", ("oral",))
        with pytest.raises(ValidationFailed) as caught:
            MedicationOrderDraft(product, dose=-1, frequency_per_day=0)
        assert {e.field for e in caught.value.errors} == {"dose", "dose_unit", "frequency_per_day"}

    def test_route_defaults_to_the_products_first_route(self) -> None:
        product = Product("p", "P", (Ingredient("a", "a", "N02BE01"),), "inj", ("IV", "im"))
        assert MedicationOrderDraft(product).effective_route == "iv"
        assert MedicationOrderDraft(product, route=" IM ").effective_route == "im"


class TestSeverityAndText:
    def test_severity_ranks_and_lowering(self) -> None:
        assert Severity.INFO.rank < Severity.WARNING.rank < Severity.CONTRAINDICATED.rank
        assert Severity.CONTRAINDICATED.lowered() is Severity.WARNING
        assert Severity.INFO.lowered() is Severity.INFO

    def test_localized_text_falls_back_to_english(self) -> None:
        text = LocalizedText(en="Stop", fr="Arrêter", ar="أوقف")
        assert text.get("fr_MR") == "Arrêter"
        assert text.get("ar") == "أوقف"
        assert text.get("wo") == "Stop"
        assert LocalizedText(en="x", fr=" ", ar="y").missing() == ("fr",)
