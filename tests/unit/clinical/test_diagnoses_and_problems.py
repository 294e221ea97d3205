"""ICD-10 codes, primary/secondary diagnoses, the problem list and Naegele's rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.clinical.diagnoses import (
    Certainty,
    DiagnosisRank,
    add_diagnosis,
    check_ready_to_close,
    make_primary,
    mark_entered_in_error,
    primary_diagnosis,
)
from afiya.domain.clinical.errors import EncounterStateError
from afiya.domain.clinical.icd10 import code_in, normalize_code
from afiya.domain.clinical.problems import (
    ProblemKind,
    ProblemStatus,
    add_problem,
    expected_delivery_date,
    gestational_age,
    resolve_problem,
)
from afiya.domain.shared.errors import ValidationFailed
from afiya.domain.shared.ids import uuid7
from tests.unit.clinical.factories import (
    CATALOGUE,
    DOCTOR,
    NOW,
    PATIENT,
    T0,
    admission,
    diagnoses_for,
)


class TestCodes:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("e119", "E11.9"),
            (" E11.9 ", "E11.9"),
            ("I10", "I10"),
            ("A41.9†", "A41.9"),
            ("E11.", "E11"),
            ("E1", None),
            ("11.9", None),
            ("E11.999", None),
            ("E10-E14", None),
            ("diabète", None),
        ],
    )
    def test_normalisation(self, raw: str, expected: str | None) -> None:
        assert normalize_code(raw) == expected

    def test_ranges(self) -> None:
        assert code_in("E11.9", "E10-E14") and code_in("E14", "E10-E14")
        assert not code_in("E15", "E10-E14")
        assert code_in("O24.4", "O") and code_in("Z32.1", "Z32.1") and not code_in("Z32.0", "Z32.1")


def _add(existing, code: str, rank: DiagnosisRank):  # type: ignore[no-untyped-def]
    return add_diagnosis(
        existing,
        id=uuid7(),
        patient_id=PATIENT,
        encounter_id=uuid7(),
        code=code,
        rank=rank,
        recorded_at=T0,
        recorded_by=DOCTOR,
        catalogue=CATALOGUE,
        now=NOW,
    )


class TestDiagnoses:
    def test_unknown_code_is_a_field_error(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            _add([], "Q99.9", DiagnosisRank.PRIMARY)
        assert [(e.field, e.code) for e in caught.value.errors] == [("code", "icd10_unknown")]

    def test_a_new_primary_demotes_the_previous_one(self) -> None:
        listed = _add(_add([], "B54", DiagnosisRank.PRIMARY), "J18.9", DiagnosisRank.PRIMARY)
        assert [(d.code, d.rank) for d in listed] == [
            ("B54", DiagnosisRank.SECONDARY),
            ("J18.9", DiagnosisRank.PRIMARY),
        ]
        check_ready_to_close(listed)

    def test_same_code_twice_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            _add(_add([], "B54", DiagnosisRank.PRIMARY), "b54", DiagnosisRank.SECONDARY)
        assert caught.value.errors[0].code == "duplicate"

    def test_closing_needs_exactly_one_primary(self) -> None:
        with pytest.raises(EncounterStateError) as caught:
            check_ready_to_close(_add([], "B54", DiagnosisRank.SECONDARY))
        assert caught.value.code == "primary_diagnosis_required"

    def test_withdrawn_primary_no_longer_counts(self) -> None:
        listed = diagnoses_for(admission())
        first = primary_diagnosis(listed)
        assert first is not None and first.code == "E11.9"
        listed = mark_entered_in_error(listed, first.id)
        assert primary_diagnosis(listed) is None
        assert listed[0].certainty is Certainty.ENTERED_IN_ERROR
        listed = make_primary(listed, listed[1].id)
        assert primary_diagnosis(listed) == listed[1]
        with pytest.raises(ValidationFailed):
            make_primary(listed, first.id)  # withdrawn: cannot come back as primary


def _problem(kind: ProblemKind, code: str, **extra):  # type: ignore[no-untyped-def]
    return add_problem(
        id=uuid7(),
        patient_id=PATIENT,
        kind=kind,
        code=code,
        recorded_at=T0,
        recorded_by=DOCTOR,
        catalogue=CATALOGUE,
        now=NOW,
        **extra,
    )


class TestProblems:
    def test_code_must_fit_the_kind(self) -> None:
        assert _problem(ProblemKind.SICKLE_CELL, "D571").code == "D57.1"
        with pytest.raises(ValidationFailed) as caught:
            _problem(ProblemKind.DIABETES, "I10")
        assert caught.value.errors[0].code == "code_not_of_kind"
        assert _problem(ProblemKind.OTHER, "I10").status is ProblemStatus.ACTIVE

    def test_pregnancy_gets_its_expected_delivery_date(self) -> None:
        lmp = date(2026, 1, 1)
        pregnancy = _problem(ProblemKind.PREGNANCY, "Z33", last_menstrual_period=lmp)
        assert pregnancy.pregnancy is not None
        assert pregnancy.pregnancy.expected_delivery == date(2026, 10, 8)
        assert pregnancy.onset == lmp

    def test_pregnancy_rules(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            _problem(ProblemKind.PREGNANCY, "Z33")
        assert caught.value.errors[0].field == "last_menstrual_period"
        with pytest.raises(ValidationFailed) as caught:
            _problem(
                ProblemKind.PREGNANCY, "Z33", last_menstrual_period=NOW.date() - timedelta(weeks=45)
            )
        assert caught.value.errors[0].code == "too_old"
        current = _problem(ProblemKind.PREGNANCY, "Z33", last_menstrual_period=date(2026, 1, 1))
        with pytest.raises(ValidationFailed) as caught:
            _problem(
                ProblemKind.PREGNANCY,
                "Z33",
                last_menstrual_period=date(2026, 2, 1),
                existing=(current,),
            )
        assert {e.code for e in caught.value.errors} == {"pregnancy_active", "duplicate"}
        with pytest.raises(ValidationFailed) as caught:
            _problem(ProblemKind.HIV, "B24", last_menstrual_period=date(2026, 2, 1))
        assert caught.value.errors[0].code == "not_applicable"

    def test_resolution(self) -> None:
        pregnancy = _problem(ProblemKind.PREGNANCY, "Z33", last_menstrual_period=date(2026, 1, 1))
        with pytest.raises(ValidationFailed):
            resolve_problem(pregnancy, on=date(2025, 12, 1), today=NOW.date())
        done = resolve_problem(pregnancy, on=date(2026, 3, 10), today=NOW.date())
        assert done.status is ProblemStatus.RESOLVED and done.resolved_on == date(2026, 3, 10)
        with pytest.raises(ValidationFailed):
            resolve_problem(done, on=date(2026, 3, 11), today=NOW.date())


class TestNaegele:
    def test_classic_example_and_cycle_adjustment(self) -> None:
        assert expected_delivery_date(date(2025, 6, 10)) == date(2026, 3, 17)
        assert expected_delivery_date(date(2025, 6, 10), cycle_days=35) == date(2026, 3, 24)
        with pytest.raises(ValueError, match="cycle"):
            expected_delivery_date(date(2025, 6, 10), cycle_days=60)

    @given(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)))
    def test_term_is_forty_weeks(self, lmp: date) -> None:
        assert gestational_age(lmp, expected_delivery_date(lmp)) == (40, 0)

    def test_gestational_age_before_lmp_is_an_error(self) -> None:
        assert gestational_age(date(2026, 1, 1), date(2026, 2, 3)) == (4, 5)
        with pytest.raises(ValueError, match="before"):
            gestational_age(date(2026, 1, 1), date(2025, 12, 31))
