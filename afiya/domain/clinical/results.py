"""Laboratory and imaging results: values, reference ranges, flags and critical alerts.

Flags follow HL7 v2 table 0078: ``N`` normal, ``L``/``H`` below/above the reference range,
``LL``/``HH`` at or beyond a critical limit. A critical limit is inclusive (a potassium
"critical at 6.5" alerts at 6.5): when in doubt, alert. A critical result yields a
:class:`CriticalResult` event value; the use case stores it in the change log in the same
transaction as the result, and a job delivers it to the responsible clinician. Its
``dedup_key`` makes the delivery idempotent: one alert per result version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from afiya.domain.clinical.common import Sex, check_time, field_error, raise_if, text_or_none
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_


class Flag(StrEnum):
    NORMAL = "N"
    LOW = "L"
    HIGH = "H"
    CRITICAL_LOW = "LL"
    CRITICAL_HIGH = "HH"

    @property
    def abnormal(self) -> bool:
        return self is not Flag.NORMAL

    @property
    def critical(self) -> bool:
        return self in (Flag.CRITICAL_LOW, Flag.CRITICAL_HIGH)


class ResultStatus(StrEnum):
    PRELIMINARY = "preliminary"
    FINAL = "final"
    CORRECTED = "corrected"


@dataclass(frozen=True, slots=True)
class ReferenceRange:
    """Normal and critical limits, for a sex and an age band when given (age in days,
    ``age_from_days`` inclusive, ``age_to_days`` exclusive)."""

    unit: str
    low: Decimal | None = None
    high: Decimal | None = None
    critical_low: Decimal | None = None
    critical_high: Decimal | None = None
    sex: Sex | None = None
    age_from_days: int | None = None
    age_to_days: int | None = None

    def applies_to(self, sex: Sex | None, age_days: int | None) -> bool:
        if self.sex is not None and sex != self.sex:
            return False
        if self.age_from_days is None and self.age_to_days is None:
            return True
        if age_days is None:
            return False
        return (self.age_from_days is None or age_days >= self.age_from_days) and (
            self.age_to_days is None or age_days < self.age_to_days
        )

    @property
    def specificity(self) -> tuple[int, int]:
        band = (self.age_to_days or 200 * 366) - (self.age_from_days or 0)
        return (self.sex is not None) + (
            self.age_from_days is not None or self.age_to_days is not None
        ), -band


def check_range(reference: ReferenceRange, field: str = "reference") -> list[FieldError]:
    """Limits in order: critical low ≤ low ≤ high ≤ critical high."""
    limits = [reference.critical_low, reference.low, reference.high, reference.critical_high]
    given = [v for v in limits if v is not None]
    if given != sorted(given):
        return [
            field_error(
                field,
                "limits_out_of_order",
                N_("The limits must be in order: critical low, low, high, critical high."),
            )
        ]
    return []


def select_range(
    ranges: Sequence[ReferenceRange], sex: Sex | None, age_days: int | None
) -> ReferenceRange | None:
    """The most specific range that applies: by sex and age over sex only over general;
    of two age bands, the narrower."""
    fitting = [r for r in ranges if r.applies_to(sex, age_days)]
    return max(fitting, key=lambda r: r.specificity) if fitting else None


def flag(value: Decimal, reference: ReferenceRange) -> Flag:
    """The HL7 flag of ``value`` against ``reference`` (critical limits inclusive)."""
    if reference.critical_low is not None and value <= reference.critical_low:
        return Flag.CRITICAL_LOW
    if reference.critical_high is not None and value >= reference.critical_high:
        return Flag.CRITICAL_HIGH
    if reference.low is not None and value < reference.low:
        return Flag.LOW
    if reference.high is not None and value > reference.high:
        return Flag.HIGH
    return Flag.NORMAL


@dataclass(frozen=True, slots=True)
class LabResult:
    id: UUID
    patient_id: UUID
    encounter_id: UUID | None
    code: str  # LOINC
    name: str
    status: ResultStatus
    observed_at: datetime  # specimen collected
    reported_at: datetime
    responsible_id: UUID  # the clinician to tell
    value: Decimal | None = None
    unit: str | None = None
    text: str | None = None  # a text result or comment
    reference: ReferenceRange | None = None
    flag: Flag | None = None
    version: int = 1
    previous_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class CriticalResult:
    """Domain event: a critical value the responsible clinician must hear about now."""

    result_id: UUID
    result_version: int
    patient_id: UUID
    encounter_id: UUID | None
    responsible_id: UUID
    code: str
    name: str
    value: Decimal | None
    unit: str | None
    flag: Flag | None
    detected_at: datetime
    finding: str | None = None  # for imaging: the urgent finding, in words

    @property
    def dedup_key(self) -> str:
        return f"critical-result:{self.result_id}:{self.result_version}"


def _event(result: LabResult) -> CriticalResult | None:
    if result.flag is None or not result.flag.critical:
        return None
    return CriticalResult(
        result.id,
        result.version,
        result.patient_id,
        result.encounter_id,
        result.responsible_id,
        result.code,
        result.name,
        result.value,
        result.unit,
        result.flag,
        result.reported_at,
    )


def _check(result: LabResult, now: datetime) -> list[FieldError]:
    errors = check_time("observed_at", result.observed_at, now)
    errors += check_time("reported_at", result.reported_at, now)
    if not errors and result.reported_at < result.observed_at:
        errors.append(
            field_error(
                "reported_at",
                "before_observed",
                N_("A result cannot be reported before the specimen was taken."),
            )
        )
    if result.value is None and text_or_none(result.text) is None:
        errors.append(field_error("value", "required", N_("Give a value or a text result.")))
    if result.value is not None and not result.value.is_finite():
        errors.append(
            field_error(
                "value", "not_a_number", N_("{value} is not a number."), value=str(result.value)
            )
        )
    if result.value is not None and not result.unit:
        errors.append(field_error("unit", "required", N_("A numeric result needs its unit.")))
    if result.reference is not None:
        errors += check_range(result.reference)
        if result.unit and result.reference.unit != result.unit:
            errors.append(
                field_error(
                    "reference.unit",
                    "unit_mismatch",
                    N_("The reference range is in {range_unit}, the result in {unit}."),
                    range_unit=result.reference.unit,
                    unit=result.unit,
                )
            )
    return errors


def record_result(
    result: LabResult,
    *,
    ranges: Sequence[ReferenceRange] = (),
    sex: Sex | None = None,
    age_days: int | None = None,
    now: datetime,
) -> tuple[LabResult, CriticalResult | None]:
    """Validate a result, attach the reference range that applies, compute its flag.

    Args:
        result: the result as reported (``reference`` and ``flag`` are computed here when
            ``ranges`` are given; a range set on ``result`` is kept otherwise).
        ranges: the test's ranges, by sex and age band; the most specific applies.
        sex: the patient's sex.
        age_days: the patient's age in days on the day of the specimen.
        now: the current time.

    Returns:
        The result with its range and flag, and the critical-result event when the value
        is critical.

    Raises:
        ValidationFailed: listing every invalid field.
    """
    reference = select_range(ranges, sex, age_days) if ranges else result.reference
    computed = replace(
        result,
        reference=reference,
        flag=flag(result.value, reference)
        if result.value is not None and reference is not None and result.value.is_finite()
        else None,
    )
    raise_if(_check(computed, now))
    return computed, _event(computed)


def correct_result(
    previous: LabResult,
    *,
    id: UUID,
    value: Decimal | None,
    text: str | None,
    reported_at: datetime,
    now: datetime,
    ranges: Sequence[ReferenceRange] = (),
    sex: Sex | None = None,
    age_days: int | None = None,
) -> tuple[LabResult, CriticalResult | None]:
    """A corrected result: a new version pointing at the previous one.

    A critical event is emitted again only when the correction is critical and either the
    previous version was not, or the value changed: re-alerting on an unchanged value
    would train clinicians to ignore alerts.

    Raises:
        ValidationFailed: as :func:`record_result`, or when the correction is dated
            before the version it corrects.
    """
    if reported_at < previous.reported_at:
        raise_if(
            [
                field_error(
                    "reported_at",
                    "before_previous",
                    N_("A correction cannot be dated before the result it corrects."),
                )
            ]
        )
    corrected, event = record_result(
        replace(
            previous,
            id=id,
            value=value,
            text=text,
            reported_at=reported_at,
            status=ResultStatus.CORRECTED,
            version=previous.version + 1,
            previous_id=previous.id,
            flag=None,
        ),
        ranges=ranges,
        sex=sex,
        age_days=age_days,
        now=now,
    )
    was_critical = previous.flag is not None and previous.flag.critical
    if event is not None and was_critical and previous.value == corrected.value:
        event = None
    return corrected, event


class Modality(StrEnum):
    """DICOM modality codes of the imaging done in district and regional hospitals."""

    RADIOGRAPHY = "DX"
    COMPUTED_RADIOGRAPHY = "CR"
    ULTRASOUND = "US"
    CT = "CT"
    MR = "MR"
    MAMMOGRAPHY = "MG"
    ECG = "ECG"


@dataclass(frozen=True, slots=True)
class ImagingReport:
    id: UUID
    patient_id: UUID
    encounter_id: UUID | None
    modality: Modality
    body_site: str
    findings: str
    conclusion: str
    reported_by: UUID
    reported_at: datetime
    responsible_id: UUID
    urgent_finding: str | None = None  # e.g. pneumothorax, ectopic pregnancy
    image_keys: tuple[str, ...] = ()  # blob-store keys of the images and renditions


def record_imaging_report(
    report: ImagingReport, *, now: datetime
) -> tuple[ImagingReport, CriticalResult | None]:
    """Validate an imaging report; an urgent finding produces a critical-result event.

    Raises:
        ValidationFailed: missing body site, findings or conclusion, or an impossible time.
    """
    errors = check_time("reported_at", report.reported_at, now)
    for name in ("body_site", "findings", "conclusion"):
        if text_or_none(getattr(report, name)) is None:
            errors.append(field_error(name, "required", N_("This part of the report is required.")))
    raise_if(errors)
    urgent = text_or_none(report.urgent_finding)
    if urgent is None:
        return report, None
    event = CriticalResult(
        report.id,
        1,
        report.patient_id,
        report.encounter_id,
        report.responsible_id,
        report.modality.value,
        report.body_site,
        None,
        None,
        None,
        report.reported_at,
        finding=urgent,
    )
    return report, event
