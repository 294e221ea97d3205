"""Rule signals beside the model: jump, capacity, digit preference, HMIS gap, related indicators.

Thresholds come from :class:`~afiya.domain.pbf_intelligence.policies.AnomalyPolicy`; the
plausibility limits (capacity per inhabitant, child/parent ratios) are learned from
validated values of the training window and travel with the model artefact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from afiya.adapters.ml.cube import FloatArray
from afiya.adapters.ml.features import FeatureRows
from afiya.domain.pbf_intelligence.policies import AnomalyPolicy

BoolArray = npt.NDArray[np.bool_]
N_LEVELS = 3
_MIN_SAMPLE = 30


@dataclass(frozen=True, slots=True, eq=False)
class PlausibilityTables:
    """Learned limits, indexed by the model's indicator vocabulary."""

    capacity: FloatArray  # (levels, indicators): validated per 1,000 inhabitants, upper limit
    related_bound: FloatArray  # (indicators,): child / parent ratio upper limit, NaN if none

    def to_state(self) -> dict[str, list[float | None] | list[list[float | None]]]:
        """JSON-ready form (NaN as ``None``)."""
        return {
            "capacity": [_nullable(row) for row in self.capacity],
            "related_bound": _nullable(self.related_bound),
        }

    @classmethod
    def from_state(cls, state: dict[str, list[object]]) -> PlausibilityTables:
        """Inverse of :meth:`to_state`."""
        return cls(
            np.array(state["capacity"], dtype=np.float64),
            np.array(state["related_bound"], dtype=np.float64),
        )


def _nullable(values: FloatArray) -> list[float | None]:
    return [None if np.isnan(x) else float(x) for x in values]


def learn_tables(rows: FeatureRows, n_indicators: int, policy: AnomalyPolicy) -> PlausibilityTables:
    """Limits from the validated values of training rows (rows without one are ignored)."""
    cols = rows.columns
    seen = ~np.isnan(cols["validated"])
    vocab = cols["indicator"]
    level = cols["level"]
    per_1000 = cols["validated"] / cols["population"] * 1000.0
    capacity = np.full((N_LEVELS, n_indicators), np.nan)
    related = np.full(n_indicators, np.nan)
    ratio = cols["validated"] / np.maximum(cols["parent_validated"], 1.0)
    parent_ok = ~np.isnan(cols["parent_validated"]) & (
        cols["parent_validated"] >= policy.related_min_parent
    )
    for i in range(n_indicators):
        of_indicator = seen & (vocab == i)
        overall = per_1000[of_indicator]
        for lv in range(N_LEVELS):
            sample = per_1000[of_indicator & (level == lv)]
            if sample.size < _MIN_SAMPLE:
                sample = overall
            if sample.size >= _MIN_SAMPLE:
                capacity[lv, i] = np.quantile(sample, policy.capacity_quantile)
        ratios = ratio[of_indicator & parent_ok]
        if ratios.size >= _MIN_SAMPLE:
            related[i] = np.quantile(ratios, policy.related_quantile)
    return PlausibilityTables(capacity * policy.capacity_margin, related * policy.related_margin)


@dataclass(frozen=True, slots=True, eq=False)
class RuleSignals:
    """Per row: which rules fire, and the figures the reasons quote."""

    jump: BoolArray
    capacity: BoolArray
    digit: BoolArray
    hmis: BoolArray
    related: BoolArray
    baseline: FloatArray
    capacity_limit: FloatArray
    related_limit: FloatArray

    def weighted(self, policy: AnomalyPolicy) -> FloatArray:
        """Sum of the weights of the signals that fire."""
        total: FloatArray = (
            policy.jump_weight * self.jump
            + policy.capacity_weight * self.capacity
            + policy.digit_weight * self.digit
            + policy.hmis_weight * self.hmis
            + policy.related_weight * self.related
        ).astype(np.float64)
        return total


def rule_signals(
    rows: FeatureRows, tables: PlausibilityTables, policy: AnomalyPolicy
) -> RuleSignals:
    """Evaluate every rule on every row."""
    cols = rows.columns
    declared = cols["declared"]
    trend = np.where(np.isnan(cols["peer_trend"]), 1.0, cols["peer_trend"])
    baseline = cols["mean_6"] * trend
    enough_history = ~np.isnan(cols["std_6"])
    with np.errstate(invalid="ignore"):
        jump = (
            enough_history
            & (declared >= policy.jump_ratio * np.maximum(baseline, 1.0))
            & (
                (declared - baseline) / np.sqrt(baseline + cols["std_6"] ** 2 + 1.0)
                >= policy.jump_min_z
            )
        )
    known = ~np.isnan(cols["indicator"])
    vocab = np.where(known, cols["indicator"], 0).astype(np.int64)
    level = cols["level"].astype(np.int64)
    capacity_limit = np.where(known, tables.capacity[level, vocab], np.nan)
    related_limit = np.where(known, tables.related_bound[vocab], np.nan)
    with np.errstate(invalid="ignore"):
        capacity = cols["declared_per_1000"] > capacity_limit
        digit = (
            (cols["round_number"] > 0)
            & (cols["digit_n"] >= policy.digit_min_values)
            & (cols["digit_z"] >= policy.digit_min_z)
        )
        hmis = (declared > cols["hmis"] * (1 + policy.hmis_tolerance)) & (
            declared - cols["hmis"] >= policy.hmis_min_excess
        )
        related = (cols["parent_declared"] >= policy.related_min_parent) & (
            declared / np.maximum(cols["parent_declared"], 1.0) > related_limit
        )
    return RuleSignals(
        jump, capacity, digit, hmis, related, baseline, capacity_limit, related_limit
    )
