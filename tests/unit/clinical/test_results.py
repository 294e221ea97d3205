"""Lab results: reference ranges by sex and age, HL7 flags, critical-result events."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.clinical.results import (
    Flag,
    ImagingReport,
    LabResult,
    Modality,
    ReferenceRange,
    ResultStatus,
    correct_result,
    flag,
    record_imaging_report,
    record_result,
    select_range,
)
from afiya.domain.shared.errors import ValidationFailed
from afiya.domain.shared.ids import uuid7
from tests.unit.clinical.factories import DOCTOR, NOW, PATIENT, T0

# haemoglobin (718-7), g/dL; WHO anaemia thresholds differ by sex and age
HB_RANGES = (
    ReferenceRange("g/dL", Decimal("12.0"), Decimal("16.0"), Decimal("5.0"), Decimal("20.0")),
    ReferenceRange(
        "g/dL", Decimal("13.0"), Decimal("17.0"), Decimal("5.0"), Decimal("20.0"), sex="male"
    ),
    ReferenceRange(
        "g/dL",
        Decimal("11.0"),
        Decimal("14.0"),
        Decimal("5.0"),
        Decimal("20.0"),
        age_from_days=183,
        age_to_days=5 * 365,
    ),
    ReferenceRange(
        "g/dL", Decimal("14.0"), Decimal("22.0"), Decimal("9.0"), Decimal("25.0"), age_to_days=29
    ),
)
POTASSIUM = ReferenceRange("mmol/L", Decimal("3.5"), Decimal("5.1"), Decimal("2.5"), Decimal("6.5"))


def _result(value: str | None, unit: str | None = "g/dL", **extra) -> LabResult:  # type: ignore[no-untyped-def]
    fields = {"reported_at": T0 + timedelta(hours=2)} | extra
    return LabResult(
        id=uuid7(),
        patient_id=PATIENT,
        encounter_id=None,
        code="718-7",
        name="Hémoglobine",
        status=ResultStatus.FINAL,
        observed_at=T0,
        responsible_id=DOCTOR,
        value=Decimal(value) if value is not None else None,
        unit=unit,
        **fields,
    )


class TestRanges:
    def test_most_specific_range_applies(self) -> None:
        assert select_range(HB_RANGES, "male", 40 * 365) == HB_RANGES[1]
        assert select_range(HB_RANGES, "female", 40 * 365) == HB_RANGES[0]
        assert select_range(HB_RANGES, "male", 2 * 365) == HB_RANGES[2]  # a child: age band wins
        assert select_range(HB_RANGES, "female", 3) == HB_RANGES[3]
        assert select_range(HB_RANGES[1:3], "female", None) is None

    def test_flags(self) -> None:
        assert [
            flag(Decimal(v), POTASSIUM) for v in ("2.5", "3.0", "3.5", "5.1", "6.0", "6.5")
        ] == [
            Flag.CRITICAL_LOW,
            Flag.LOW,
            Flag.NORMAL,
            Flag.NORMAL,
            Flag.HIGH,
            Flag.CRITICAL_HIGH,
        ]

    @given(st.decimals(min_value=Decimal(0), max_value=Decimal(10), places=2))
    def test_flag_is_monotonic(self, value: Decimal) -> None:
        order = [Flag.CRITICAL_LOW, Flag.LOW, Flag.NORMAL, Flag.HIGH, Flag.CRITICAL_HIGH]
        assert order.index(flag(value, POTASSIUM)) <= order.index(
            flag(value + Decimal("0.01"), POTASSIUM)
        )


class TestRecording:
    def test_same_value_flags_differently_for_a_man_and_a_woman(self) -> None:
        woman, _ = record_result(
            _result("12.5"), ranges=HB_RANGES, sex="female", age_days=30 * 365, now=NOW
        )
        man, _ = record_result(
            _result("12.5"), ranges=HB_RANGES, sex="male", age_days=30 * 365, now=NOW
        )
        assert (woman.flag, man.flag) == (Flag.NORMAL, Flag.LOW)
        assert man.reference == HB_RANGES[1]

    def test_critical_value_produces_one_event_with_a_stable_key(self) -> None:
        result, event = record_result(
            _result("4.1"), ranges=HB_RANGES, sex="female", age_days=9000, now=NOW
        )
        assert result.flag is Flag.CRITICAL_LOW
        assert (
            event is not None and event.responsible_id == DOCTOR and event.value == Decimal("4.1")
        )
        assert event.dedup_key == f"critical-result:{result.id}:1"
        assert (
            record_result(_result("9.0"), ranges=HB_RANGES, sex="female", age_days=9000, now=NOW)[1]
            is None
        )

    def test_invalid_results_are_refused_with_every_field(self) -> None:
        bad = _result(None, None, text=None, reported_at=T0 - timedelta(hours=1))
        with pytest.raises(ValidationFailed) as caught:
            record_result(bad, now=NOW)
        assert {e.field for e in caught.value.errors} == {"reported_at", "value"}
        with pytest.raises(ValidationFailed) as caught:
            record_result(
                _result("4.0", "mmol/L"), ranges=HB_RANGES, sex="female", age_days=9000, now=NOW
            )
        assert caught.value.errors[0].code == "unit_mismatch"
        with pytest.raises(ValidationFailed) as caught:
            record_result(
                _result("4.0", reference=ReferenceRange("g/dL", Decimal(12), Decimal(10))), now=NOW
            )
        assert caught.value.errors[0].code == "limits_out_of_order"

    def test_text_result_has_no_flag(self) -> None:
        result, event = record_result(
            _result(None, None, text="Présence de trophozoïtes de P. falciparum"), now=NOW
        )
        assert result.flag is None and event is None


class TestCorrections:
    def test_correction_is_a_new_version_and_alerts_when_it_becomes_critical(self) -> None:
        first, _ = record_result(
            _result("9.0"), ranges=HB_RANGES, sex="female", age_days=9000, now=NOW
        )
        second, event = correct_result(
            first,
            id=uuid7(),
            value=Decimal("4.0"),
            text=None,
            reported_at=first.reported_at + timedelta(hours=1),
            now=NOW,
            ranges=HB_RANGES,
            sex="female",
            age_days=9000,
        )
        assert (second.version, second.previous_id, second.status) == (
            2,
            first.id,
            ResultStatus.CORRECTED,
        )
        assert event is not None and event.dedup_key.endswith(":2")

    def test_unchanged_critical_value_does_not_alert_twice(self) -> None:
        first, event = record_result(
            _result("4.0"), ranges=HB_RANGES, sex="female", age_days=9000, now=NOW
        )
        assert event is not None
        _, again = correct_result(
            first,
            id=uuid7(),
            value=Decimal("4.0"),
            text="Contrôlé sur second prélèvement",
            reported_at=first.reported_at + timedelta(hours=1),
            now=NOW,
            ranges=HB_RANGES,
            sex="female",
            age_days=9000,
        )
        assert again is None

    def test_correction_dated_before_the_result_is_refused(self) -> None:
        first, _ = record_result(_result("9.0"), now=NOW)
        with pytest.raises(ValidationFailed):
            correct_result(
                first,
                id=uuid7(),
                value=Decimal(10),
                text=None,
                reported_at=first.reported_at - timedelta(minutes=1),
                now=NOW,
            )


def test_urgent_imaging_finding_produces_an_event() -> None:
    report = ImagingReport(
        id=uuid7(),
        patient_id=PATIENT,
        encounter_id=None,
        modality=Modality.ULTRASOUND,
        body_site="Pelvis",
        findings="Masse latéro-utérine droite, épanchement du Douglas",
        conclusion="Grossesse extra-utérine probable",
        reported_by=DOCTOR,
        reported_at=T0,
        responsible_id=DOCTOR,
        urgent_finding="Grossesse extra-utérine rompue probable",
    )
    _, event = record_imaging_report(report, now=NOW)
    assert event is not None and event.finding == "Grossesse extra-utérine rompue probable"
    assert event.code == "US"
    from dataclasses import replace

    assert record_imaging_report(replace(report, urgent_finding=None), now=NOW)[1] is None
    with pytest.raises(ValidationFailed):
        record_imaging_report(replace(report, conclusion=" "), now=NOW)
