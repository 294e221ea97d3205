"""The field's fixed rules: risk categories from past declared-vs-validated gaps.

Used when no model can be trained (a new programme, too few verification rounds) and as
the baseline a model must beat. A verification round is one facility-month with
validated values; its gap is the money declared beyond what was validated over the money
declared, ``sum((declared - validated)+ x tariff) / sum(declared x tariff)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from afiya.domain.pbf_intelligence.model import (
    DeclarationRecord,
    FacilityRisk,
    IndicatorRisk,
    RiskCategory,
)
from afiya.domain.pbf_intelligence.periods import period_index
from afiya.domain.pbf_intelligence.policies import RiskRulePolicy
from afiya.domain.pbf_intelligence.reasons import category_evidence

_ZERO = Decimal(0)
_UNIT = Decimal(1)


@dataclass(frozen=True, slots=True)
class CategoryAssessment:
    """A facility's category and the figures behind it."""

    category: RiskCategory
    mean_gap: Fraction
    rounds: int


def _exact(value: Fraction | Decimal | float) -> Fraction:
    # Thresholds are compared exactly: a mean gap of exactly 10 % is not "above 10 %",
    # which binary floats (0.1 + 0.1 + 0.1) / 3 would get wrong.
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def classify_gaps(
    recent_gaps: Sequence[Fraction | Decimal | float], policy: RiskRulePolicy
) -> CategoryAssessment:
    """Category from the gaps of the last verification rounds, oldest first.

    Only the last ``policy.window`` rounds count. High when their mean gap is above
    ``policy.high_gap``, medium above ``policy.medium_gap``, low otherwise, unknown when
    the facility was never verified. Arithmetic is exact.
    """
    window = list(recent_gaps[-policy.window :]) if policy.window > 0 else []
    if not window:
        return CategoryAssessment(RiskCategory.UNKNOWN, Fraction(0), 0)
    mean_gap = sum((_exact(g) for g in window), Fraction(0)) / len(window)
    if mean_gap > _exact(policy.high_gap):
        category = RiskCategory.HIGH
    elif mean_gap > _exact(policy.medium_gap):
        category = RiskCategory.MEDIUM
    else:
        category = RiskCategory.LOW
    return CategoryAssessment(category, mean_gap, len(window))


@dataclass(slots=True)
class _Money:
    gap: Decimal = _ZERO
    base: Decimal = _ZERO

    def add(self, record: DeclarationRecord) -> None:
        self.gap += record.over_declared_amount or _ZERO
        self.base += record.declared * record.tariff

    def ratio(self) -> Fraction | None:
        return Fraction(self.gap) / Fraction(self.base) if self.base > 0 else None


def rule_based_risks(
    records: Iterable[DeclarationRecord], *, period: str, policy: RiskRulePolicy | None = None
) -> list[FacilityRisk]:
    """Expected recovery of a visit to every facility that declared in ``period``, by rule.

    Only verification rounds strictly before ``period`` count. A facility's expected
    recovery is, per indicator, the indicator's gap over the last rounds (the facility's
    mean gap when the indicator has none) times the money declared this period; a never
    verified facility gets the programme's mean gap as a prior.
    """
    policy = policy or RiskRulePolicy()
    target = period_index(period)
    current: dict[str, list[DeclarationRecord]] = defaultdict(list)
    rounds: dict[str, dict[int, _Money]] = defaultdict(lambda: defaultdict(_Money))
    indicator_rounds: dict[tuple[str, str], dict[int, _Money]] = defaultdict(
        lambda: defaultdict(_Money)
    )
    programme = _Money()
    for record in records:
        index = period_index(record.period)
        if index == target:
            current[record.facility_id].append(record)
        elif index < target and record.validated is not None:
            rounds[record.facility_id][index].add(record)
            indicator_rounds[(record.facility_id, record.indicator_code)][index].add(record)
            programme.add(record)
    prior = programme.ratio() or Fraction(0)

    risks: list[FacilityRisk] = []
    for facility_id, declared in current.items():
        facility_rounds = rounds.get(facility_id, {})
        gaps = [g for _, m in sorted(facility_rounds.items()) if (g := m.ratio()) is not None]
        assessment = classify_gaps(gaps, policy)
        facility_gap = assessment.mean_gap if assessment.rounds else prior
        indicators: list[IndicatorRisk] = []
        for record in declared:
            history = indicator_rounds.get((facility_id, record.indicator_code), {})
            recent = _Money()
            for _, money in sorted(history.items())[-policy.window :]:
                recent.gap += money.gap
                recent.base += money.base
            gap = recent.ratio()
            ratio = facility_gap if gap is None else gap
            expected = ratio * record.declared * Fraction(record.tariff)
            indicators.append(IndicatorRisk(record.indicator_code, _to_money(expected)))
        indicators.sort(key=lambda r: (-r.expected_recovery, r.indicator_code))
        risks.append(
            FacilityRisk(
                facility_id=facility_id,
                district=declared[0].district,
                expected_recovery=sum((r.expected_recovery for r in indicators), _ZERO),
                indicators=tuple(indicators),
                category=assessment.category,
                evidence=category_evidence(
                    assessment.category, float(assessment.mean_gap), assessment.rounds
                ),
                mean_gap=float(assessment.mean_gap),
                rounds=assessment.rounds,
            )
        )
    risks.sort(key=lambda r: r.facility_id)
    return risks


def _to_money(amount: Fraction) -> Decimal:
    exact = Decimal(amount.numerator) / Decimal(amount.denominator)
    return exact.quantize(_UNIT, rounding=ROUND_HALF_UP)
