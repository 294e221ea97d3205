"""From the clinical record to what the safety engine reads (``PatientContext``).

The repository hands back the facts as stored by the clinical record (its vocabulary);
the rules here translate them:

- allergies to an ingredient (INN) or a drug class (ATC) count, whatever their
  verification: a *refuted* one is passed as refuted, and the engine ignores it;
  food and environment allergies are not passed;
- problems are ICD-10 conditions; an active pregnancy gives the gestational age from the
  last menstrual period; an active ``Z39.1`` (care of a lactating mother) means
  breastfeeding (the record has no other place for it);
- the weight and height are the latest measured, if recent enough (30 days for a child,
  a year for an adult: a child's weight changes quickly);
- laboratory results are the latest versions with a numeric value (the engine ages them);
- active medications are the medication lines of the patient's other current, active
  prescriptions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from afiya.domain.prescribing.model import (
    Age,
    AllergyFact,
    ConditionFact,
    LabFact,
    MedicationFact,
    MedicationOrderDraft,
    PatientContext,
    Product,
    Sex,
)
from afiya.domain.prescribing.orders import MedicationRequest

BREASTFEEDING_CODES = ("Z39.1",)
CHILD_WEIGHT_DAYS = 30
ADULT_WEIGHT_DAYS = 365
LAB_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class RecordedAllergy:
    system: str  # ingredient, drug_class, other
    code: str
    display: str
    criticality: str  # low, high, unable_to_assess
    verification: str  # unconfirmed, confirmed, refuted


@dataclass(frozen=True, slots=True)
class RecordedProblem:
    code: str
    kind: str
    status: str  # active, resolved, inactive, entered_in_error
    last_menstrual_period: date | None = None


@dataclass(frozen=True, slots=True)
class RecordedMeasure:
    value: Decimal
    at: datetime


@dataclass(frozen=True, slots=True)
class RecordedLab:
    loinc: str
    value: Decimal
    unit: str
    at: datetime  # specimen taken


@dataclass(frozen=True, slots=True)
class ActiveMedication:
    series_id: UUID
    request: MedicationRequest


@dataclass(frozen=True, slots=True)
class SafetyRecord:
    """The facts of the record that the safety check reads, as stored."""

    allergies: tuple[RecordedAllergy, ...] = ()
    problems: tuple[RecordedProblem, ...] = ()
    weight_kg: RecordedMeasure | None = None
    height_cm: RecordedMeasure | None = None
    labs: tuple[RecordedLab, ...] = ()
    medications: tuple[ActiveMedication, ...] = ()


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the registry knows: sex and birth."""

    sex: str
    birth_date: date | None = None
    birth_year: int | None = None


def _ingredient_code(code: str) -> str:
    return "-".join(code.strip().lower().split())


def _allergy(a: RecordedAllergy) -> AllergyFact | None:
    if a.system not in ("ingredient", "drug_class"):
        return None
    criticality = {"low": "low", "high": "high"}.get(a.criticality, "unable-to-assess")
    verification = a.verification if a.verification in ("confirmed", "refuted") else "unconfirmed"
    if a.system == "ingredient":
        return AllergyFact(
            _ingredient_code(a.code),
            "ingredient",
            verification,  # type: ignore[arg-type]
            criticality,  # type: ignore[arg-type]
            display=a.display,
        )
    return AllergyFact(
        a.code.strip().upper(),
        "atc_class",
        verification,  # type: ignore[arg-type]
        criticality,  # type: ignore[arg-type]
        display=a.display,
    )


def _condition(p: RecordedProblem) -> ConditionFact:
    if p.status == "entered_in_error":
        return ConditionFact(p.code, "inactive", "entered-in-error")
    status = {"active": "active", "resolved": "resolved"}.get(p.status, "inactive")
    return ConditionFact(p.code, status)  # type: ignore[arg-type]


def age_of(patient: PatientFacts, on: date) -> Age | None:
    if patient.birth_date is not None and patient.birth_date <= on:
        return Age.from_birth_date(patient.birth_date, on)
    if patient.birth_year is not None and patient.birth_year <= on.year:
        # only the year is known: count from the middle of it
        return Age.from_birth_date(
            date(patient.birth_year, 7, 1), max(on, date(patient.birth_year, 7, 1))
        )
    return None


def _recent(measure: RecordedMeasure | None, as_of: datetime, days: int) -> float | None:
    if measure is None or as_of - measure.at > timedelta(days=days):
        return None
    return float(measure.value)


def medication_fact(request: MedicationRequest, product: Product) -> MedicationFact:
    return MedicationFact(
        product=product,
        route=request.route,
        dose=float(request.dose) if request.dose is not None else None,
        dose_unit=request.dose_unit,
        frequency_per_day=float(request.frequency_per_day)
        if request.frequency_per_day is not None
        else None,
        as_needed=request.as_needed,
    )


def order_draft(request: MedicationRequest, product: Product) -> MedicationOrderDraft:
    return MedicationOrderDraft(
        product=product,
        route=request.route,
        dose=float(request.dose) if request.dose is not None else None,
        dose_unit=request.dose_unit,
        frequency_per_day=float(request.frequency_per_day)
        if request.frequency_per_day is not None
        else None,
        duration_days=float(request.duration_days) if request.duration_days is not None else None,
        as_needed=request.as_needed,
    )


def build_context(
    patient: PatientFacts,
    record: SafetyRecord,
    products: Mapping[str, Product],
    *,
    as_of: datetime,
    exclude_series: UUID | None = None,
    companions: Sequence[MedicationFact] = (),
) -> PatientContext:
    """The engine's view of the patient at ``as_of``.

    Args:
        exclude_series: the prescription being amended (its old lines are replaced, so
            they must not interact with, or duplicate, the new ones).
        companions: the other lines of the prescription being checked, which the patient
            will take together with the line under check.
    """
    today = as_of.date()
    age = age_of(patient, today)
    sex: Sex = patient.sex if patient.sex in ("female", "male", "other") else "unknown"  # type: ignore[assignment]
    pregnant = False
    weeks: int | None = None
    breastfeeding = False
    for p in record.problems:
        if p.status != "active":
            continue
        if p.kind == "pregnancy":
            pregnant = True
            if p.last_menstrual_period is not None and p.last_menstrual_period <= today:
                weeks = min(45, (today - p.last_menstrual_period).days // 7)
        if p.code.startswith(BREASTFEEDING_CODES):
            breastfeeding = True
    child = age is not None and age.years < 18
    weight_days = CHILD_WEIGHT_DAYS if child else ADULT_WEIGHT_DAYS
    weight = _recent(record.weight_kg, as_of, weight_days)
    height = _recent(record.height_cm, as_of, weight_days)
    allergies = [fact for fact in (_allergy(a) for a in record.allergies) if fact is not None]
    medications = [
        medication_fact(m.request, products[m.request.product_code])
        for m in record.medications
        if m.series_id != exclude_series and m.request.product_code in products
    ]
    medications.extend(companions)
    labs = [
        LabFact(lab.loinc, float(lab.value), lab.unit, lab.at)
        for lab in record.labs
        if as_of - lab.at <= LAB_LOOKBACK
    ]
    return PatientContext(
        as_of=as_of,
        age=age,
        weight_kg=weight if weight is not None and 0 < weight < 400 else None,
        height_cm=height if height is not None and 20 < height < 260 else None,
        sex=sex,
        pregnant=pregnant,
        gestational_weeks=weeks if pregnant else None,
        breastfeeding=breastfeeding,
        allergies=tuple(allergies),
        conditions=tuple(_condition(p) for p in record.problems),
        medications=tuple(medications),
        labs=tuple(labs),
    )
