"""Data the PBF intelligence module reads and produces.

This module does not depend on the PBF rules engine (``afiya.domain.pbf``): it takes its
own flat input, one :class:`DeclarationRecord` per facility x indicator x month, which the
outer rings fill from the PBF tables, the verification rounds and the HMIS (DHIS2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from afiya.domain.pbf_intelligence.periods import period_index
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


class FacilityLevel(StrEnum):
    """Level of care; peers are compared within one level."""

    HEALTH_POST = "health_post"
    HEALTH_CENTRE = "health_centre"
    HOSPITAL = "hospital"


@dataclass(frozen=True, slots=True)
class DeclarationRecord:
    """One indicator of one facility for one month, with what each actor reported.

    ``verified`` (by the verification agency) and ``validated`` (by the committee) are
    ``None`` when the month was not verified; ``hmis_value`` is ``None`` when the indicator
    is not in the HMIS or was not reported there. ``tariff`` is the unit price paid.
    """

    facility_id: str
    district: str
    level: FacilityLevel
    catchment_population: int
    indicator_code: str
    period: str
    declared: int
    tariff: Decimal
    verified: int | None = None
    validated: int | None = None
    hmis_value: int | None = None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        period_index(self.period)
        if self.declared < 0:
            errors.append(FieldError("declared", Message(N_("A quantity cannot be negative."))))
        for name, value in (("verified", self.verified), ("validated", self.validated)):
            if value is not None and value < 0:
                errors.append(FieldError(name, Message(N_("A quantity cannot be negative."))))
        if self.catchment_population <= 0:
            errors.append(
                FieldError(
                    "catchment_population",
                    Message(N_("The catchment population must be positive.")),
                )
            )
        if self.tariff < 0:
            errors.append(FieldError("tariff", Message(N_("A tariff cannot be negative."))))
        if errors:
            raise ValidationFailed(errors)

    @property
    def is_verified(self) -> bool:
        """Whether the committee validated a quantity for this month."""
        return self.validated is not None

    @property
    def over_declared_amount(self) -> Decimal | None:
        """Money declared beyond what was validated, ``(declared - validated)+ x tariff``."""
        if self.validated is None:
            return None
        return max(self.declared - self.validated, 0) * self.tariff


class RiskCategory(StrEnum):
    """The field's fixed-rule risk classes, from past declared-vs-validated gaps."""

    HIGH = "high"
    UNKNOWN = "unknown"  # never verified: ranked after high, before medium
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class IndicatorRisk:
    """Expected money recovered by checking one indicator at a visit."""

    indicator_code: str
    expected_recovery: Decimal


@dataclass(frozen=True, slots=True)
class FacilityRisk:
    """Expected recovery of a counter-verification visit to one facility for one period.

    Produced either by the audit-target model or by the rule-based categories (then
    ``category`` and ``evidence`` say which rule put the facility where it is).
    """

    facility_id: str
    district: str
    expected_recovery: Decimal
    indicators: tuple[IndicatorRisk, ...] = ()
    category: RiskCategory | None = None
    evidence: Message | None = None
    mean_gap: float | None = None  # rule-based: mean gap of the last rounds (0.12 = 12 %)
    rounds: int = 0  # rule-based: how many verification rounds that mean covers


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason a value was flagged: a stable ``code`` and the officer-facing text."""

    code: str
    message: Message
    weight: float = 0.0


@dataclass(frozen=True, slots=True)
class AnomalyScore:
    """Anomaly score of one declared value; ``reasons`` are filled for flagged values."""

    facility_id: str
    indicator_code: str
    period: str
    declared: int
    expected: float
    standardised_residual: float
    score: float
    flagged: bool
    reasons: tuple[Reason, ...] = ()


class PlanMethod(StrEnum):
    """How the ranked part of a sampling plan was ranked."""

    MODEL = "model"
    RULES = "rules"


class SelectionBasis(StrEnum):
    """Why one facility is in the plan."""

    RANKED = "ranked"  # top of the ranking (model or rules): drawn with certainty
    RANDOM_DRAW = "random_draw"  # simple random sample of everyone else


@dataclass(frozen=True, slots=True)
class Selection:
    """A facility chosen for a counter-verification visit, what to check and why."""

    facility_id: str
    basis: SelectionBasis
    rank: int
    expected_recovery: Decimal
    inclusion_probability: Fraction
    indicators: tuple[str, ...]
    reason: Message


@dataclass(frozen=True, slots=True)
class FacilityInclusion:
    """First-order inclusion probability of one facility under the plan's design."""

    facility_id: str
    rank: int
    inclusion_probability: Fraction
    selected: bool


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    """A counter-verification plan for one period.

    Design: the ``n_ranked`` best-ranked facilities are visited with certainty; a simple
    random sample without replacement of ``n_random`` facilities is drawn from the
    ``random_pool_size`` others, each of which therefore has inclusion probability
    ``n_random / random_pool_size``. Every facility has a non-zero probability, which
    keeps Horvitz-Thompson estimates of the total over-declaration unbiased.
    """

    period: str
    method: PlanMethod
    budget: int
    random_share: Fraction
    n_ranked: int
    n_random: int
    random_pool_size: int
    selections: tuple[Selection, ...]
    inclusions: tuple[FacilityInclusion, ...]

    @property
    def visits(self) -> int:
        """Number of visits the plan uses (the budget, unless there are fewer facilities)."""
        return len(self.selections)

    def probability_of(self, facility_id: str) -> Fraction:
        """Inclusion probability of ``facility_id``; raises ``KeyError`` if unknown."""
        for inclusion in self.inclusions:
            if inclusion.facility_id == facility_id:
                return inclusion.inclusion_probability
        raise KeyError(facility_id)


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """A plan and how it was made; ``fallback_reason`` says why rules replaced the model."""

    plan: SamplingPlan
    method: PlanMethod
    fallback_reason: Message | None = None
    model: ModelMetadata | None = None


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    """What a registry needs to know about a trained model, independent of the library."""

    kind: str
    version: str
    training_first_period: str
    training_last_period: str
    features: tuple[str, ...]
    metrics: Mapping[str, float]
    created_at: datetime
    library: str
    parameters: Mapping[str, object] = field(default_factory=dict)
