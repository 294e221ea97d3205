"""Risk-based counter-verification sampling within a budget of visits.

Design (a stratified "take-all + simple random sample" design, Särndal et al. 1992, ch. 3):

1. Rank every facility of the frame by expected recovery (model), or by risk category
   then expected recovery (fixed rules); ties break on the facility id.
2. ``n_random = max(1, floor(budget x random_share + 1/2))``: the random share rounded
   half up in exact rational arithmetic, and never zero, so every facility can be drawn.
3. The ``n_ranked = budget - n_random`` best-ranked facilities form a take-all stratum:
   inclusion probability 1.
4. ``n_random`` facilities are drawn by simple random sampling without replacement from
   the ``N_rest`` others: inclusion probability ``n_random / N_rest`` each, never zero.

With fewer facilities than the budget every facility is visited (probability 1) and the
spare visits stay unused. The first-order probabilities make the Horvitz-Thompson
estimate of the total over-declaration (:func:`estimate_total`) unbiased; the random
part also keeps the model honest, since it measures over-declaration where the model
does not look. Randomness comes from the ``rng`` passed in, never from global state.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

from afiya.domain.pbf_intelligence.model import (
    FacilityInclusion,
    FacilityRisk,
    PlanMethod,
    RiskCategory,
    SamplingPlan,
    Selection,
    SelectionBasis,
)
from afiya.domain.pbf_intelligence.periods import period_index
from afiya.domain.pbf_intelligence.reasons import (
    random_draw_reason,
    ranked_by_model_reason,
    ranked_by_rules_reason,
)
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

DEFAULT_RANDOM_SHARE = Fraction(1, 5)

_CATEGORY_ORDER = {
    RiskCategory.HIGH: 0,
    RiskCategory.UNKNOWN: 1,
    RiskCategory.MEDIUM: 2,
    RiskCategory.LOW: 3,
}


def random_visit_count(budget: int, random_share: Fraction) -> int:
    """Visits drawn at random: ``max(1, floor(budget x share + 1/2))``, at most ``budget``."""
    return min(budget, max(1, math.floor(budget * random_share + Fraction(1, 2))))


def rank_risks(risks: Sequence[FacilityRisk], method: PlanMethod) -> list[FacilityRisk]:
    """Facilities best first: by expected recovery, after the category for rule-based plans."""
    if method is PlanMethod.RULES:
        return sorted(
            risks,
            key=lambda r: (
                _CATEGORY_ORDER[r.category or RiskCategory.UNKNOWN],
                -r.expected_recovery,
                r.facility_id,
            ),
        )
    return sorted(risks, key=lambda r: (-r.expected_recovery, r.facility_id))


def draw_sampling_plan(
    risks: Sequence[FacilityRisk],
    *,
    period: str,
    budget: int,
    rng: random.Random,
    method: PlanMethod = PlanMethod.MODEL,
    random_share: Fraction | Decimal | float | str | int = DEFAULT_RANDOM_SHARE,
    indicators_per_visit: int = 3,
) -> SamplingPlan:
    """Choose the facilities (and indicators) to counter-verify within ``budget`` visits.

    Args:
        risks: one entry per facility of the sampling frame.
        period: the period the visits verify (``YYYYMM``).
        budget: number of visits the agency can make.
        rng: seeded random source for the random part.
        method: whether ``risks`` come from the model or from the fixed rules.
        random_share: share of the visits drawn at random, in (0, 1]; 1 gives a plain
            simple random sample.
        indicators_per_visit: how many indicators to check at each visit, the ones with
            the highest expected recovery.

    Raises:
        ValidationFailed: empty frame, duplicated facility, budget below one, share
            outside (0, 1] or no indicator to check.
    """
    share = _as_fraction(random_share)
    _validate(risks, period=period, budget=budget, share=share, per_visit=indicators_per_visit)
    ranked = rank_risks(risks, method)
    total = len(ranked)
    n_random = min(random_visit_count(budget, share), total)
    n_ranked = min(budget - n_random, total - n_random)
    pool = ranked[n_ranked:]
    drawn = {r.facility_id for r in rng.sample(pool, n_random)}
    pool_probability = Fraction(n_random, len(pool))

    selections: list[Selection] = []
    inclusions: list[FacilityInclusion] = []
    for position, risk in enumerate(ranked, start=1):
        in_top = position <= n_ranked
        probability = Fraction(1) if in_top else pool_probability
        selected = in_top or risk.facility_id in drawn
        inclusions.append(FacilityInclusion(risk.facility_id, position, probability, selected))
        if not selected:
            continue
        if in_top:
            reason = _ranked_reason(risk, position, total, method)
        else:
            reason = random_draw_reason(n_random, len(pool), probability)
        selections.append(
            Selection(
                facility_id=risk.facility_id,
                basis=SelectionBasis.RANKED if in_top else SelectionBasis.RANDOM_DRAW,
                rank=position,
                expected_recovery=risk.expected_recovery,
                inclusion_probability=probability,
                indicators=_indicators_to_check(risk, indicators_per_visit),
                reason=reason,
            )
        )
    return SamplingPlan(
        period=period,
        method=method,
        budget=budget,
        random_share=share,
        n_ranked=n_ranked,
        n_random=n_random,
        random_pool_size=len(pool),
        selections=tuple(selections),
        inclusions=tuple(inclusions),
    )


def estimate_total(plan: SamplingPlan, found: Mapping[str, Decimal]) -> Decimal:
    """Horvitz-Thompson estimate of the over-declared amount over the whole frame.

    Args:
        plan: the plan that was carried out.
        found: over-declared amount found at each visited facility.

    Raises:
        ValidationFailed: a visited facility has no finding.
    """
    missing = [s.facility_id for s in plan.selections if s.facility_id not in found]
    if missing:
        raise ValidationFailed(
            [
                FieldError(
                    f"found.{facility_id}",
                    Message(N_("No finding recorded for a visited facility.")),
                    code="required",
                )
                for facility_id in missing
            ]
        )
    estimate = Decimal(0)
    for selection in plan.selections:
        p = selection.inclusion_probability
        estimate += found[selection.facility_id] * Decimal(p.denominator) / Decimal(p.numerator)
    return estimate


def _ranked_reason(risk: FacilityRisk, rank: int, total: int, method: PlanMethod) -> Message:
    if method is PlanMethod.RULES:
        return ranked_by_rules_reason(
            rank, total, risk.category or RiskCategory.UNKNOWN, risk.mean_gap or 0.0, risk.rounds
        )
    return ranked_by_model_reason(rank, total, risk.expected_recovery)


def _indicators_to_check(risk: FacilityRisk, count: int) -> tuple[str, ...]:
    ordered = sorted(risk.indicators, key=lambda r: (-r.expected_recovery, r.indicator_code))
    return tuple(r.indicator_code for r in ordered[:count])


def _as_fraction(value: Fraction | Decimal | float | str | int) -> Fraction:
    # A float goes through its shortest decimal form, so 0.2 means exactly one fifth and
    # the rounding rule stays exact (Fraction(0.2) would be 3602879701896397/2**54).
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def _validate(
    risks: Sequence[FacilityRisk], *, period: str, budget: int, share: Fraction, per_visit: int
) -> None:
    period_index(period)
    errors: list[FieldError] = []
    if not risks:
        errors.append(
            FieldError("risks", Message(N_("There is no facility to sample from.")), "required")
        )
    ids = [r.facility_id for r in risks]
    if len(set(ids)) != len(ids):
        errors.append(
            FieldError("risks", Message(N_("A facility appears twice in the sampling frame.")))
        )
    if budget < 1:
        errors.append(
            FieldError("budget", Message(N_("The budget must allow at least one visit.")))
        )
    if not 0 < share <= 1:
        errors.append(
            FieldError(
                "random_share",
                Message(
                    N_("The random share must be above 0 and at most 1, got {share}."),
                    {"share": str(share)},
                ),
            )
        )
    if per_visit < 1:
        errors.append(
            FieldError(
                "indicators_per_visit",
                Message(N_("At least one indicator must be checked at each visit.")),
            )
        )
    if errors:
        raise ValidationFailed(errors)
