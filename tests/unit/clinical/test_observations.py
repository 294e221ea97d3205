"""Vital signs: catalogue, conversions, plausibility, blood pressure, BMI, MUAC."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.clinical.derived import MuacStatus, body_mass_index, derive_bmi, muac_status
from afiya.domain.clinical.measurements import (
    Quantity,
    Reading,
    convert,
    glucose_equivalent,
    measure,
    record_observations,
)
from afiya.domain.clinical.observations import BY_KEY, BY_LOINC, DEFINITIONS
from afiya.domain.shared.errors import ValidationFailed
from afiya.domain.shared.ids import uuid7
from tests.unit.clinical.factories import DOCTOR, NOW, PATIENT, T0


def _record(*readings: Reading, at=T0):  # type: ignore[no-untyped-def]
    return record_observations(
        readings,
        ids=[uuid7() for _ in readings],
        patient_id=PATIENT,
        encounter_id=None,
        effective_at=at,
        recorded_by=DOCTOR,
        now=NOW,
    )


class TestCatalogue:
    def test_codes_and_units_are_the_loinc_and_ucum_ones(self) -> None:
        expected = {
            "temperature": ("8310-5", "Cel"),
            "pulse": ("8867-4", "/min"),
            "respiratory_rate": ("9279-1", "/min"),
            "systolic": ("8480-6", "mm[Hg]"),
            "diastolic": ("8462-4", "mm[Hg]"),
            "spo2": ("59408-5", "%"),
            "sao2": ("2708-6", "%"),
            "weight": ("29463-7", "kg"),
            "height": ("8302-2", "cm"),
            "muac": ("56072-2", "cm"),
            "bmi": ("39156-5", "kg/m2"),
            "glucose_mass": ("2339-0", "mg/dL"),
            "glucose_molar": ("15074-8", "mmol/L"),
            "pain": ("72514-3", "{score}"),
        }
        assert {k: (BY_KEY[k].loinc, BY_KEY[k].unit) for k in expected} == expected

    def test_every_definition_is_consistent(self) -> None:
        assert len(BY_LOINC) == len(DEFINITIONS) == len(BY_KEY)
        for spec in DEFINITIONS:
            assert spec.low < spec.high, spec.key
            check = int(spec.loinc.split("-")[1])
            digits = [int(d) for d in spec.loinc.split("-")[0]]
            # LOINC check digit: mod 10 (Luhn) over the code part
            total = 0
            for position, digit in enumerate(reversed(digits)):
                doubled = digit * 2 if position % 2 == 0 else digit
                total += doubled // 10 + doubled % 10
            assert (10 - total % 10) % 10 == check, spec.loinc


class TestPlausibility:
    def test_temperature_of_60_is_rejected_naming_the_range(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            _record(Reading("8310-5", "60", "Cel"))
        [error] = caught.value.errors
        assert error.field == "readings.0.value" and error.code == "implausible"
        assert error.message.params == {"value": "60", "unit": "Cel", "low": "25", "high": "45"}
        assert "between 25 and 45 Cel" in error.message.render()

    def test_range_is_given_in_the_unit_typed(self) -> None:
        _, _, errors = measure(Reading("temperature", "140", "[degF]"))
        assert errors[0].message.params["low"] == "77" and errors[0].message.params["high"] == "113"

    def test_unknown_code_unit_and_text_are_refused(self) -> None:
        assert measure(Reading("1234-5", 1))[2][0].code == "unknown_code"
        assert measure(Reading("pulse", 80, "kg"))[2][0].code == "unit_not_accepted"
        assert measure(Reading("pulse", "quatre-vingts"))[2][0].code == "not_a_number"
        assert measure(Reading("pain", "4.5"))[2][0].code == "not_an_integer"

    def test_decimal_comma_is_read(self) -> None:
        assert measure(Reading("temperature", "38,5"))[1] == Quantity(Decimal("38.5"), "Cel")

    def test_all_errors_of_a_round_are_listed(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            _record(Reading("pulse", 720), Reading("spo2", 130), Reading("pulse", 80))
        assert [(e.field, e.code) for e in caught.value.errors] == [
            ("readings.0.value", "implausible"),
            ("readings.1.value", "implausible"),
            ("readings.2.code", "duplicate"),
        ]


class TestBloodPressure:
    def test_diastolic_above_systolic_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            _record(Reading("systolic", 80), Reading("diastolic", 120))
        assert [(e.field, e.code) for e in caught.value.errors] == [
            ("readings.1.value", "diastolic_not_below_systolic")
        ]

    def test_half_a_blood_pressure_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            _record(Reading("systolic", 120))
        assert caught.value.errors[0].code == "incomplete_blood_pressure"

    def test_a_full_round_is_stored_in_canonical_units_keeping_what_was_typed(self) -> None:
        stored = _record(
            Reading("systolic", 135),
            Reading("diastolic", 85),
            Reading("temperature", "101.3", "[degF]"),
            Reading("weight", "3250", "g"),
        )
        by_code = {o.code: o for o in stored}
        assert by_code["8310-5"].value == Decimal("38.5") and by_code["8310-5"].unit == "Cel"
        assert by_code["8310-5"].entered == Quantity(Decimal("101.3"), "[degF]")
        assert by_code["29463-7"].value == Decimal("3.250")
        assert by_code["8480-6"].entered is None


class TestConversions:
    def test_known_points(self) -> None:
        assert measure(Reading("temperature", "98.6", "[degF]"))[1] == Quantity(
            Decimal("37.0"), "Cel"
        )
        assert measure(Reading("weight", "154", "[lb_av]"))[1] == Quantity(Decimal("69.853"), "kg")
        assert measure(Reading("height", "1.72", "m"))[1] == Quantity(Decimal("172.0"), "cm")
        assert measure(Reading("glucose_mass", "7", "mmol/L"))[1] == Quantity(
            Decimal("126"), "mg/dL"
        )

    def test_glucose_equivalent_switches_code_and_unit(self) -> None:
        [obs] = _record(Reading("2339-0", 180))
        assert glucose_equivalent(obs) == ("15074-8", Quantity(Decimal("10.0"), "mmol/L"))
        with pytest.raises(ValueError, match="not a blood glucose"):
            glucose_equivalent(_record(Reading("pulse", 80))[0])

    @given(st.decimals(min_value=Decimal(77), max_value=Decimal(113), places=1))
    def test_fahrenheit_round_trip_within_rounding(self, fahrenheit: Decimal) -> None:
        _, celsius, errors = measure(Reading("temperature", fahrenheit, "[degF]"))
        assert not errors and celsius is not None
        back = convert(celsius, "8310-5", "[degF]")
        assert abs(back.value - fahrenheit) <= Decimal("0.09")  # 0.05 °C of rounding = 0.09 °F

    @given(st.decimals(min_value=Decimal(10), max_value=Decimal(1500), places=0))
    def test_glucose_conversion_is_monotonic_and_round_trips(self, mg: Decimal) -> None:
        mmol = convert(Quantity(mg, "mg/dL"), "2339-0", "mmol/L")
        higher = convert(Quantity(mg + 1, "mg/dL"), "2339-0", "mmol/L")
        assert higher.value >= mmol.value
        # 0.05 mmol/L of rounding is 0.9 mg/dL, then rounding to whole mg/dL adds 0.5
        assert abs(convert(mmol, "15074-8", "mg/dL").value - mg) <= Decimal("1.4")

    @given(st.decimals(min_value=Decimal("0.7"), max_value=Decimal(770), places=2))
    def test_pounds_convert_exactly_to_kilograms(self, pounds: Decimal) -> None:
        _, kg, errors = measure(Reading("weight", pounds, "[lb_av]"))
        assert not errors and kg is not None
        assert kg.value == (pounds * Decimal("0.45359237")).quantize(
            Decimal("0.001"), rounding="ROUND_HALF_UP"
        )


class TestDerived:
    def test_bmi_from_weight_and_height(self) -> None:
        weight, height = _record(Reading("weight", 70), Reading("height", 175))
        bmi = derive_bmi(weight, height, id=uuid7(), recorded_by=DOCTOR)
        assert (bmi.code, bmi.value, bmi.unit) == ("39156-5", Decimal("22.9"), "kg/m2")
        assert bmi.derived_from == (weight.id, height.id)

    def test_bmi_refuses_measurements_a_year_apart_and_implausible_results(self) -> None:
        [weight] = _record(Reading("weight", 70))
        [height] = _record(Reading("height", 175), at=T0 - timedelta(days=365))
        with pytest.raises(ValidationFailed) as caught:
            derive_bmi(weight, height, id=uuid7(), recorded_by=DOCTOR)
        assert caught.value.errors[0].code == "too_far_apart"
        heavy, short = _record(Reading("weight", 300), Reading("height", 50))
        with pytest.raises(ValidationFailed) as caught:
            derive_bmi(heavy, short, id=uuid7(), recorded_by=DOCTOR)
        assert caught.value.errors[0].code == "implausible_bmi"

    def test_bmi_formula(self) -> None:
        assert body_mass_index(Decimal(50), Decimal(160)) == Decimal("19.5")

    def test_muac_cut_offs_for_children_6_to_59_months(self) -> None:
        assert muac_status(Decimal("11.4"), 24) is MuacStatus.SEVERE
        assert muac_status(Decimal("11.5"), 24) is MuacStatus.MODERATE
        assert muac_status(Decimal("12.5"), 24) is MuacStatus.NORMAL
        assert muac_status(Decimal("11.0"), 72) is None
