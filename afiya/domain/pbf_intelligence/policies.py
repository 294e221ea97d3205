"""Thresholds and weights, in one place so a programme can tune them and an audit can read them.

The adapters compute the signals (vectorised); the values that decide what is flagged,
what counts as enough history and how rule-based categories are drawn live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from afiya.domain.pbf_intelligence.errors import InsufficientHistory
from afiya.domain.shared.i18n import N_, Message


@dataclass(frozen=True, slots=True)
class AnomalyPolicy:
    """How the anomaly score combines the model residual and the rule signals.

    ``score = min(max(z, 0), z_cap) + sum(weight_k * signal_k)`` where ``z`` is the
    standardised residual of the declared value against the model's expected value and
    each signal is 0 or 1. A value is flagged when ``score >= flag_threshold``: a residual
    of three standard deviations alone, or a smaller one backed by rule signals.
    """

    z_cap: float = 8.0
    flag_threshold: float = 3.0
    jump_weight: float = 1.5
    capacity_weight: float = 2.0
    digit_weight: float = 1.0
    hmis_weight: float = 2.0
    related_weight: float = 1.5
    # Sudden jump: declared >= jump_ratio x the own 6-month mean (scaled by how much the
    # peers moved) and at least jump_min_z standard deviations above it, counting both
    # Poisson noise and the facility's own month-to-month variation.
    jump_ratio: float = 1.6
    jump_min_z: float = 3.0
    # Plausible capacity: the training quantile of validated values per 1,000 inhabitants
    # for the level and indicator, times a margin.
    capacity_quantile: float = 0.995
    capacity_margin: float = 1.5
    # Digit preference: share of the facility's values >= 10 over the last 12 months that
    # end in 0 or 5 (20 % expected), as a binomial z-score, with a minimum sample.
    digit_min_values: int = 12
    digit_min_z: float = 3.0
    # Declared above the HMIS for the same indicator and month.
    hmis_tolerance: float = 0.10
    hmis_min_excess: int = 3
    # Related indicators: child / parent ratio above the training quantile x margin.
    related_quantile: float = 0.99
    related_margin: float = 1.15
    related_min_parent: int = 5
    reasons_from_model: int = 3


@dataclass(frozen=True, slots=True)
class TrainingPolicy:
    """Minimum history before a model may be trained instead of the fixed rules."""

    min_periods: int = 6
    min_rows: int = 500
    min_positive: int = 20
    positive_gap: float = 0.0  # a row is positive when (declared - validated)/declared > this


@dataclass(frozen=True, slots=True)
class RiskRulePolicy:
    """The field's fixed rules: mean gap over the last verifications sets the category.

    Gaps are ratios (0.10 = 10 %) compared exactly; a float is read as its decimal form.
    """

    window: int = 3
    high_gap: Decimal | float = Decimal("0.10")
    medium_gap: Decimal | float = Decimal("0.05")


def check_training_history(
    *, periods: int, rows: int, positives: int, policy: TrainingPolicy
) -> None:
    """Refuse to train on too little history.

    Business rules: a model needs ``policy.min_periods`` verified months, ``min_rows``
    verified values and ``min_positive`` values where an over-declaration was found;
    otherwise the caller uses the rule-based categories.

    Raises:
        InsufficientHistory: with a message naming the first missing condition.
    """
    details = {"periods": periods, "rows": rows, "positives": positives}
    if periods < policy.min_periods:
        raise InsufficientHistory(
            Message(
                N_(
                    "Too little verification history to train the model: {periods} verified "
                    "months, at least {min_periods} needed."
                ),
                {"periods": periods, "min_periods": policy.min_periods},
            ),
            details=details,
        )
    if rows < policy.min_rows:
        raise InsufficientHistory(
            Message(
                N_(
                    "Too little verification history to train the model: {rows} verified "
                    "values, at least {min_rows} needed."
                ),
                {"rows": rows, "min_rows": policy.min_rows},
            ),
            details=details,
        )
    if positives < policy.min_positive:
        raise InsufficientHistory(
            Message(
                N_(
                    "Only {positives} over-declarations were found in {rows} verified values: "
                    "at least {min_positive} are needed for the model to learn from."
                ),
                {"positives": positives, "rows": rows, "min_positive": policy.min_positive},
            ),
            details=details,
        )
