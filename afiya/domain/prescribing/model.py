"""What the safety engine reads: products, the order being written, and the patient.

Every fact is a frozen value. Sequences are stored as tuples so that a context can be
shared between threads and hashed; constructors accept any sequence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

Sex = Literal["female", "male", "other", "unknown"]
AllergyVerification = Literal["unconfirmed", "presumed", "confirmed", "refuted", "entered-in-error"]
Criticality = Literal["low", "high", "unable-to-assess"]
SubstanceKind = Literal["ingredient", "atc_class"]
ClinicalStatus = Literal["active", "recurrence", "relapse", "inactive", "remission", "resolved"]
ConditionVerification = Literal[
    "confirmed", "provisional", "differential", "unconfirmed", "refuted", "entered-in-error"
]

ATC_PATTERN = re.compile(r"^[A-Z](\d\d([A-Z]([A-Z](\d\d)?)?)?)?$")
DAYS_PER_YEAR = 365.25

_SEXES = ("female", "male", "other", "unknown")
_VERIFICATIONS = ("unconfirmed", "presumed", "confirmed", "refuted", "entered-in-error")
_CRITICALITIES = ("low", "high", "unable-to-assess")
_CLINICAL = ("active", "recurrence", "relapse", "inactive", "remission", "resolved")
_COND_VERIF = (
    "confirmed",
    "provisional",
    "differential",
    "unconfirmed",
    "refuted",
    "entered-in-error",
)


def _invalid(field_name: str, msgid: str, **params: object) -> ValidationFailed:
    return ValidationFailed([FieldError(field_name, Message(msgid, params))])


def _one_of(value: str, allowed: Sequence[str], field_name: str) -> None:
    if value not in allowed:
        raise _invalid(
            field_name,
            N_("{value} is not one of {allowed}."),
            value=value,
            allowed=", ".join(allowed),
        )


def normalize_route(route: str) -> str:
    """Routes are compared lower-case and trimmed (``IV`` and ``iv`` are the same)."""
    return route.strip().lower()


def is_atc_code(code: str) -> bool:
    """Whether ``code`` is an ATC code or a valid ATC prefix (level 1 to 5)."""
    return bool(ATC_PATTERN.match(code))


@dataclass(frozen=True, slots=True)
class Strength:
    """Amount of one ingredient per presentation unit: ``250 mg`` per ``5 mL``."""

    value: float
    unit: str
    per_value: float = 1.0
    per_unit: str = "unit"

    def __post_init__(self) -> None:
        if self.value <= 0 or self.per_value <= 0:
            raise _invalid("strength", N_("A strength must be a positive amount."))


@dataclass(frozen=True, slots=True)
class Ingredient:
    """An active ingredient: ``code`` is its INN in lower case (``amoxicillin``)."""

    code: str
    inn: str
    atc: str | None = None
    strength: Strength | None = None

    def __post_init__(self) -> None:
        if self.atc is not None and not is_atc_code(self.atc):
            raise _invalid("atc", N_("{code} is not a valid ATC code."), code=self.atc)


@dataclass(frozen=True, slots=True)
class Product:
    """A medicinal product as stocked and dispensed.

    ``atc`` is the product's own code when it has one; a fixed-dose combination often
    has a combination code (``J05AR27``) while its ingredients keep theirs.
    """

    code: str
    name: str
    ingredients: tuple[Ingredient, ...]
    form: str
    routes: tuple[str, ...]
    atc: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ingredients", tuple(self.ingredients))
        object.__setattr__(self, "routes", tuple(normalize_route(r) for r in self.routes))
        if not self.ingredients:
            raise _invalid("ingredients", N_("A product needs at least one ingredient."))
        if self.atc is not None and not is_atc_code(self.atc):
            raise _invalid("atc", N_("{code} is not a valid ATC code."), code=self.atc)

    def atc_codes(self) -> frozenset[str]:
        """The product's ATC code and those of its ingredients."""
        codes = {i.atc for i in self.ingredients if i.atc}
        if self.atc:
            codes.add(self.atc)
        return frozenset(codes)


@dataclass(frozen=True, slots=True, order=True)
class Age:
    """Age in days. Many patients know their age in years only: use ``from_years``."""

    days: int

    def __post_init__(self) -> None:
        if self.days < 0 or self.days > 130 * 366:
            raise _invalid("age", N_("The age is out of range."))

    @classmethod
    def from_years(cls, years: float) -> Age:
        return cls(int(years * DAYS_PER_YEAR))

    @classmethod
    def from_birth_date(cls, birth_date: date, on: date) -> Age:
        return cls((on - birth_date).days)

    @property
    def years(self) -> float:
        return self.days / DAYS_PER_YEAR

    @property
    def completed_years(self) -> int:
        return int(self.days / DAYS_PER_YEAR + 1e-9)


@dataclass(frozen=True, slots=True)
class AllergyFact:
    """A recorded allergy or intolerance.

    ``substance_code`` is an ingredient (INN code or ATC level-5 code) when
    ``substance_kind`` is ``ingredient``, or an ATC prefix (``J01C``) for a class.
    ``criticality`` None means nobody assessed it, which the engine treats as
    ``unable-to-assess``.
    """

    substance_code: str
    substance_kind: SubstanceKind = "ingredient"
    verification: AllergyVerification = "unconfirmed"
    criticality: Criticality | None = None
    reaction: str | None = None
    display: str | None = None

    def __post_init__(self) -> None:
        _one_of(self.substance_kind, ("ingredient", "atc_class"), "substance_kind")
        _one_of(self.verification, _VERIFICATIONS, "verification")
        if self.criticality is not None:
            _one_of(self.criticality, _CRITICALITIES, "criticality")
        if self.substance_kind == "atc_class" and not is_atc_code(self.substance_code):
            raise _invalid(
                "substance_code", N_("{code} is not a valid ATC code."), code=self.substance_code
            )


@dataclass(frozen=True, slots=True)
class ConditionFact:
    """A problem-list entry coded in ICD-10 (``E11.9``)."""

    code: str
    clinical_status: ClinicalStatus = "active"
    verification: ConditionVerification = "confirmed"
    display: str | None = None

    def __post_init__(self) -> None:
        _one_of(self.clinical_status, _CLINICAL, "clinical_status")
        _one_of(self.verification, _COND_VERIF, "verification")

    @property
    def is_current(self) -> bool:
        """Active, and not refuted: what the safety rules take into account."""
        return self.clinical_status in ("active", "recurrence", "relapse") and (
            self.verification not in ("refuted", "entered-in-error")
        )


@dataclass(frozen=True, slots=True)
class LabFact:
    """One laboratory result, identified by its LOINC code."""

    loinc: str
    value: float
    unit: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MedicationFact:
    """A medication the patient currently takes (dose fields are optional)."""

    product: Product
    route: str | None = None
    dose: float | None = None
    dose_unit: str | None = None
    frequency_per_day: float | None = None
    as_needed: bool = False

    @property
    def effective_route(self) -> str | None:
        if self.route:
            return normalize_route(self.route)
        return self.product.routes[0] if self.product.routes else None


@dataclass(frozen=True, slots=True)
class MedicationOrderDraft:
    """The order being written or dispensed. ``frequency_per_day`` is the maximum
    number of administrations a day (for ``as_needed`` orders too)."""

    product: Product
    route: str | None = None
    dose: float | None = None
    dose_unit: str | None = None
    frequency_per_day: float | None = None
    duration_days: float | None = None
    as_needed: bool = False

    def __post_init__(self) -> None:
        errors = []
        if self.dose is not None and self.dose <= 0:
            errors.append(FieldError("dose", Message(N_("The dose must be positive."))))
        if self.dose is not None and not self.dose_unit:
            errors.append(FieldError("dose_unit", Message(N_("A dose needs a unit."))))
        if self.frequency_per_day is not None and self.frequency_per_day <= 0:
            errors.append(
                FieldError("frequency_per_day", Message(N_("The frequency must be positive.")))
            )
        if errors:
            raise ValidationFailed(errors)

    @property
    def effective_route(self) -> str | None:
        if self.route:
            return normalize_route(self.route)
        return self.product.routes[0] if self.product.routes else None


@dataclass(frozen=True, slots=True)
class PatientContext:
    """Everything the engine knows about the patient at ``as_of`` (aware UTC).

    ``as_of`` is the time of the check: lab results are aged against it, which keeps
    the engine pure (no clock inside).
    """

    as_of: datetime
    age: Age | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    sex: Sex = "unknown"
    pregnant: bool = False
    gestational_weeks: int | None = None
    breastfeeding: bool = False
    allergies: tuple[AllergyFact, ...] = field(default=())
    conditions: tuple[ConditionFact, ...] = field(default=())
    medications: tuple[MedicationFact, ...] = field(default=())
    labs: tuple[LabFact, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("allergies", "conditions", "medications", "labs"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        errors: list[FieldError] = []
        if self.as_of.tzinfo is None:
            errors.append(FieldError("as_of", Message(N_("The time must be timezone-aware."))))
        if self.weight_kg is not None and not 0 < self.weight_kg < 400:
            errors.append(FieldError("weight_kg", Message(N_("The weight is out of range."))))
        if self.height_cm is not None and not 20 < self.height_cm < 260:
            errors.append(FieldError("height_cm", Message(N_("The height is out of range."))))
        if self.sex not in _SEXES:
            errors.append(
                FieldError(
                    "sex",
                    Message(
                        N_("{value} is not one of {allowed}."),
                        {"value": self.sex, "allowed": ", ".join(_SEXES)},
                    ),
                )
            )
        if self.gestational_weeks is not None and (
            not self.pregnant or not 0 <= self.gestational_weeks <= 45
        ):
            errors.append(
                FieldError(
                    "gestational_weeks",
                    Message(N_("Gestational weeks need a pregnancy and must be 0 to 45.")),
                )
            )
        if errors:
            raise ValidationFailed(errors)
