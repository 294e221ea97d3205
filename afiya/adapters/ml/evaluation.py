"""Time-based hold-out evaluation on a synthetic programme with known over-declaration.

Both models train on the first months only; each later month is then planned as it
would be on the day: declarations and HMIS figures of the month, verification outcomes
of the months before. Anomaly flags are compared with the injected over-declarations;
the model-ranked plan, a plain random plan and the fixed-rules plan, with the same number
of visits, are compared by the over-declared money a full verification of the visited
facilities would recover.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from afiya.adapters.ml.anomaly import train_anomaly_model
from afiya.adapters.ml.audit_target import train_audit_model
from afiya.adapters.ml.features import CubeContext
from afiya.adapters.ml.synthetic import SyntheticProgramme
from afiya.domain.pbf_intelligence.model import ModelMetadata, PlanMethod, SamplingPlan
from afiya.domain.pbf_intelligence.risk_rules import rule_based_risks
from afiya.domain.pbf_intelligence.sampling import DEFAULT_RANDOM_SHARE, draw_sampling_plan


@dataclass(frozen=True, slots=True)
class HoldOutReport:
    """Figures of one hold-out evaluation (money in the programme's currency)."""

    train_first: str
    train_last: str
    test_periods: tuple[str, ...]
    visits_per_period: int
    flagged: int
    true_positives: int
    injected: int
    model_recovery: float
    random_recovery: float
    rule_recovery: float
    model_targeted_recovery: float
    total_over_declared: float
    anomaly_model: ModelMetadata
    audit_model: ModelMetadata

    @property
    def precision(self) -> float:
        """Share of flagged values that were injected over-declarations."""
        return self.true_positives / self.flagged if self.flagged else 0.0

    @property
    def recall(self) -> float:
        """Share of injected over-declarations that were flagged."""
        return self.true_positives / self.injected if self.injected else 0.0

    def lines(self) -> list[str]:
        """Human-readable summary."""
        ratio = self.model_recovery / self.random_recovery if self.random_recovery else float("inf")
        return [
            f"train {self.train_first}-{self.train_last}, test {self.test_periods[0]}-"
            f"{self.test_periods[-1]}, {self.visits_per_period} visits per month",
            f"anomaly flags: precision {self.precision:.3f}, recall {self.recall:.3f} "
            f"({self.true_positives} of {self.flagged} flagged; {self.injected} injected)",
            f"recovered: model plan {self.model_recovery:,.0f}, random plan "
            f"{self.random_recovery:,.0f}, rule-based plan {self.rule_recovery:,.0f} "
            f"(model/random {ratio:.2f}x; all over-declared {self.total_over_declared:,.0f})",
            f"model plan, recovered on its listed indicators only: "
            f"{self.model_targeted_recovery:,.0f}",
        ]


def evaluate_holdout(
    programme: SyntheticProgramme,
    *,
    train_months: int = 18,
    visits: int | None = None,
    random_share: Fraction = DEFAULT_RANDOM_SHARE,
    indicators_per_visit: int = 3,
    seed: int = 2024,
    num_threads: int = 2,
) -> HoldOutReport:
    """Train on the first ``train_months`` months, plan and score each later month.

    ``visits`` defaults to a tenth of the facilities per month.
    """
    cube = programme.cube
    parents = programme.parents
    n_t = len(cube.periods)
    if not 0 < train_months < n_t:
        raise ValueError("train_months must leave at least one month to test")
    budget = visits or max(1, len(cube.facility_ids) // 10)
    last_train = cube.periods[train_months - 1]
    history = cube.up_to(last_train, hide_outcomes_of_last=False)
    context = CubeContext.build(history, parents)
    anomaly = train_anomaly_model(
        history, parents=parents, last_period=last_train, seed=seed,
        num_threads=num_threads, context=context,
    )  # fmt: skip
    audit = train_audit_model(
        history, parents=parents, last_period=last_train, seed=seed + 1,
        num_threads=num_threads, context=context,
    )  # fmt: skip
    records = cube.to_records()
    flagged = hits = injected = 0
    recovered = {"model": 0.0, "random": 0.0, "rules": 0.0, "targeted": 0.0}
    total = 0.0
    test_periods = cube.periods[train_months:]
    for t in range(train_months, n_t):
        period = cube.periods[t]
        view = cube.up_to(period)
        ctx = CubeContext.build(view, parents)
        batch = anomaly.score_period(view, period, context=ctx)
        truth = programme.truth.over_declared[batch.rows.f_idx, batch.rows.i_idx, t]
        flagged += int(batch.flagged.sum())
        hits += int((batch.flagged & truth).sum())
        injected += int(truth.sum())

        risks = audit.facility_risks(view, audit.predict_period(view, period, context=ctx))
        plans = {
            "model": draw_sampling_plan(
                risks, period=period, budget=budget, rng=random.Random(seed + t),
                random_share=random_share, indicators_per_visit=indicators_per_visit,
            ),
            "random": draw_sampling_plan(
                risks, period=period, budget=budget, rng=random.Random(seed + 7919 * t),
                random_share=1,
            ),
            "rules": draw_sampling_plan(
                rule_based_risks(records, period=period), period=period, budget=budget,
                rng=random.Random(seed + t), method=PlanMethod.RULES, random_share=random_share,
            ),
        }  # fmt: skip
        money = programme.over_declared_money(t)
        total += float(money.sum())
        for name, plan in plans.items():
            recovered[name] += _recovered(programme, plan, money)
        recovered["targeted"] += _targeted(programme, plans["model"], t)
    return HoldOutReport(
        train_first=cube.periods[0],
        train_last=last_train,
        test_periods=test_periods,
        visits_per_period=budget,
        flagged=flagged,
        true_positives=hits,
        injected=injected,
        model_recovery=recovered["model"],
        random_recovery=recovered["random"],
        rule_recovery=recovered["rules"],
        model_targeted_recovery=recovered["targeted"],
        total_over_declared=total,
        anomaly_model=anomaly.metadata,
        audit_model=audit.metadata,
    )


def _recovered(programme: SyntheticProgramme, plan: SamplingPlan, money: np.ndarray) -> float:
    position = {fid: n for n, fid in enumerate(programme.cube.facility_ids)}
    return float(sum(money[position[s.facility_id]] for s in plan.selections))


def _targeted(programme: SyntheticProgramme, plan: SamplingPlan, t: int) -> float:
    cube = programme.cube
    f_pos = {fid: n for n, fid in enumerate(cube.facility_ids)}
    i_pos = {code: n for n, code in enumerate(cube.indicator_codes)}
    amount = 0.0
    for selection in plan.selections:
        f = f_pos[selection.facility_id]
        for code in selection.indicators:
            i = i_pos[code]
            gap = cube.declared[f, i, t] - programme.truth.validated_if_verified[f, i, t]
            amount += float(max(gap, 0.0) * cube.tariff[f, i, t])
    return amount
