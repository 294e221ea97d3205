"""The problem list: long-term conditions and pregnancies that follow the patient.

Each problem has a kind (diabetes, hypertension, HIV...) and an ICD-10 code that must fall
in the kind's chapter range, so that programme reports (HIV, NCD, maternal health) can
count by kind without re-reading codes. A pregnancy carries its last menstrual period
and the expected delivery date computed by Naegele's rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID

from afiya.domain.clinical.common import check_time, field_error, iso, raise_if
from afiya.domain.clinical.icd10 import Icd10Catalogue, check_code, code_in
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_

PREGNANCY_DAYS = 280
"""Naegele: 280 days (40 weeks) from the first day of the last menstrual period."""
REFERENCE_CYCLE_DAYS = 28
MAX_GESTATION_DAYS = 44 * 7
"""An active pregnancy older than 44 weeks is a data error (post-term is 42 weeks)."""


class ProblemKind(StrEnum):
    DIABETES = "diabetes"
    HYPERTENSION = "hypertension"
    HIV = "hiv"
    SICKLE_CELL = "sickle_cell"
    PREGNANCY = "pregnancy"
    TUBERCULOSIS = "tuberculosis"
    ASTHMA = "asthma"
    EPILEPSY = "epilepsy"
    CHRONIC_KIDNEY_DISEASE = "chronic_kidney_disease"
    HEART_FAILURE = "heart_failure"
    HEPATITIS_B = "hepatitis_b"
    MALNUTRITION = "malnutrition"
    OTHER = "other"


KIND_CODES: Mapping[ProblemKind, tuple[str, ...]] = MappingProxyType(
    {
        ProblemKind.DIABETES: ("E10-E14", "O24"),
        ProblemKind.HYPERTENSION: ("I10-I15", "O10-O11", "O13-O16"),
        ProblemKind.HIV: ("B20-B24", "Z21", "O98.7"),
        ProblemKind.SICKLE_CELL: ("D57",),
        ProblemKind.PREGNANCY: ("Z32.1", "Z33", "Z34-Z36", "O"),
        ProblemKind.TUBERCULOSIS: ("A15-A19", "B90"),
        ProblemKind.ASTHMA: ("J45-J46",),
        ProblemKind.EPILEPSY: ("G40-G41",),
        ProblemKind.CHRONIC_KIDNEY_DISEASE: ("N18",),
        ProblemKind.HEART_FAILURE: ("I50",),
        ProblemKind.HEPATITIS_B: ("B16", "B18.0-B18.1", "Z22.5"),
        ProblemKind.MALNUTRITION: ("E40-E46",),
    }
)
"""ICD-10 ranges each kind accepts (``OTHER`` accepts any valid code)."""


class ProblemStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"  # a delivered pregnancy, a cured tuberculosis
    INACTIVE = "inactive"
    ENTERED_IN_ERROR = "entered_in_error"


@dataclass(frozen=True, slots=True)
class Pregnancy:
    last_menstrual_period: date
    expected_delivery: date
    cycle_days: int = REFERENCE_CYCLE_DAYS


@dataclass(frozen=True, slots=True)
class Problem:
    id: UUID
    patient_id: UUID
    kind: ProblemKind
    code: str
    status: ProblemStatus
    recorded_at: datetime
    recorded_by: UUID
    onset: date | None = None
    pregnancy: Pregnancy | None = None
    resolved_on: date | None = None


def expected_delivery_date(lmp: date, cycle_days: int = REFERENCE_CYCLE_DAYS) -> date:
    """Naegele's rule: LMP + 280 days, shifted by the cycle's difference from 28 days.

    The calendar form "LMP + 1 year − 3 months + 7 days" differs by up to three days
    depending on the months crossed; 280 days is the form obstetric wheels and WHO
    antenatal-care guidance use.
    """
    if not 21 <= cycle_days <= 45:
        raise ValueError("cycle length outside 21 to 45 days")
    return lmp + timedelta(days=PREGNANCY_DAYS + cycle_days - REFERENCE_CYCLE_DAYS)


def gestational_age(lmp: date, on: date) -> tuple[int, int]:
    """Gestational age on ``on`` as (completed weeks, days), counted from the LMP."""
    days = (on - lmp).days
    if days < 0:
        raise ValueError("the date is before the last menstrual period")
    return divmod(days, 7)


def check_problem_code(kind: ProblemKind, code: str) -> list[FieldError]:
    """The code must fall in the ranges of ``kind``."""
    ranges = KIND_CODES.get(kind)
    if ranges is None or code_in(code, *ranges):
        return []
    return [
        field_error(
            "code",
            "code_not_of_kind",
            N_("{code} does not describe this condition; expected a code in {ranges}."),
            code=code,
            ranges=", ".join(ranges),
        )
    ]


def add_problem(
    *,
    id: UUID,
    patient_id: UUID,
    kind: ProblemKind,
    code: str,
    recorded_at: datetime,
    recorded_by: UUID,
    catalogue: Icd10Catalogue,
    now: datetime,
    existing: tuple[Problem, ...] = (),
    onset: date | None = None,
    last_menstrual_period: date | None = None,
    cycle_days: int = REFERENCE_CYCLE_DAYS,
) -> Problem:
    """Add a condition to the patient's problem list.

    Rules: valid ICD-10 code within the kind's ranges; no second active problem of the
    same kind and code; the onset is not in the future; a pregnancy gives its LMP, which
    lies within the last 44 weeks, and gets its expected delivery date (Naegele); only
    one pregnancy is active at a time.

    Raises:
        ValidationFailed: listing every invalid field.
    """
    errors = check_time("recorded_at", recorded_at, now)
    today = now.date()
    normalised, code_errors = check_code("code", code, catalogue)
    errors += code_errors
    if normalised is not None:
        errors += check_problem_code(kind, normalised)
    active = [
        p for p in existing if p.status is ProblemStatus.ACTIVE and p.patient_id == patient_id
    ]
    if normalised is not None and any(p.kind is kind and p.code == normalised for p in active):
        errors.append(
            field_error(
                "code", "duplicate", N_("This condition is already on the active problem list.")
            )
        )
    if onset is not None and onset > today:
        errors.append(field_error("onset", "future_date", N_("The onset date is in the future.")))
    pregnancy: Pregnancy | None = None
    if kind is ProblemKind.PREGNANCY:
        pregnancy, pregnancy_errors = _pregnancy(last_menstrual_period, cycle_days, today, active)
        errors += pregnancy_errors
    elif last_menstrual_period is not None:
        errors.append(
            field_error(
                "last_menstrual_period",
                "not_applicable",
                N_("A last menstrual period goes with a pregnancy only."),
            )
        )
    raise_if(errors)
    assert normalised is not None
    return Problem(
        id,
        patient_id,
        kind,
        normalised,
        ProblemStatus.ACTIVE,
        recorded_at,
        recorded_by,
        onset=onset if onset is not None or pregnancy is None else pregnancy.last_menstrual_period,
        pregnancy=pregnancy,
    )


def _pregnancy(
    lmp: date | None, cycle_days: int, today: date, active: list[Problem]
) -> tuple[Pregnancy | None, list[FieldError]]:
    errors: list[FieldError] = []
    if any(p.kind is ProblemKind.PREGNANCY for p in active):
        errors.append(
            field_error(
                "kind", "pregnancy_active", N_("A pregnancy is already active: resolve it first.")
            )
        )
    if not 21 <= cycle_days <= 45:
        errors.append(
            field_error(
                "cycle_days",
                "out_of_range",
                N_("The cycle length must lie between 21 and 45 days."),
            )
        )
    if lmp is None:
        errors.append(
            field_error(
                "last_menstrual_period",
                "required",
                N_("Give the first day of the last menstrual period."),
            )
        )
    elif lmp > today:
        errors.append(
            field_error(
                "last_menstrual_period",
                "future_date",
                N_("The last menstrual period is in the future."),
            )
        )
    elif (today - lmp).days > MAX_GESTATION_DAYS:
        errors.append(
            field_error(
                "last_menstrual_period",
                "too_old",
                N_(
                    "A last menstrual period on {lmp} means more than 44 weeks of pregnancy: "
                    "check the date."
                ),
                lmp=iso(lmp),
            )
        )
    if errors or lmp is None:
        return None, errors
    return Pregnancy(lmp, expected_delivery_date(lmp, cycle_days), cycle_days), []


def resolve_problem(problem: Problem, *, on: date, today: date) -> Problem:
    """Close an active problem (a delivery ends a pregnancy) on ``on``.

    Raises:
        ValidationFailed: the problem is not active, or the date is impossible.
    """
    errors: list[FieldError] = []
    if problem.status is not ProblemStatus.ACTIVE:
        errors.append(
            field_error("status", "not_active", N_("Only an active problem can be resolved."))
        )
    if on > today:
        errors.append(
            field_error("resolved_on", "future_date", N_("The resolution date is in the future."))
        )
    elif problem.onset is not None and on < problem.onset:
        errors.append(
            field_error(
                "resolved_on",
                "before_onset",
                N_("The resolution date is before the onset ({onset})."),
                onset=iso(problem.onset),
            )
        )
    raise_if(errors)
    return replace(problem, status=ProblemStatus.RESOLVED, resolved_on=on)
