"""Time-based hold-out on the seeded synthetic programme: train on months 1-18, test 19-24."""

from __future__ import annotations

import pytest

from afiya.adapters.ml.evaluation import HoldOutReport, evaluate_holdout
from afiya.adapters.ml.synthetic import SyntheticProgramme

from .conftest import TRAIN_MONTHS


@pytest.fixture(scope="module")
def report(programme: SyntheticProgramme) -> HoldOutReport:
    result = evaluate_holdout(programme, train_months=TRAIN_MONTHS)
    print()
    for line in result.lines():
        print(line)
    return result


class TestHoldOut:
    def test_model_plan_recovers_at_least_one_and_a_half_times_the_random_plan(
        self, report: HoldOutReport
    ) -> None:
        print(
            f"model plan {report.model_recovery:,.0f} | random plan {report.random_recovery:,.0f}"
            f" | rule-based plan {report.rule_recovery:,.0f}"
        )
        assert report.random_recovery > 0
        assert report.model_recovery >= 1.5 * report.random_recovery

    def test_model_plan_is_not_worse_than_the_fixed_rules(self, report: HoldOutReport) -> None:
        assert report.model_recovery >= report.rule_recovery

    def test_anomaly_flags_find_injected_over_declaration(self, report: HoldOutReport) -> None:
        print(f"precision {report.precision:.3f} recall {report.recall:.3f}")
        assert report.injected > 0
        assert report.precision >= 0.6
        assert report.recall >= 0.4

    def test_evaluation_covers_the_hold_out_months_only(self, report: HoldOutReport) -> None:
        assert report.train_last == "202406"
        assert report.test_periods == ("202407", "202408", "202409", "202410", "202411", "202412")
        assert report.anomaly_model.training_last_period == "202406"
        assert report.audit_model.training_last_period == "202406"
        assert report.visits_per_period == 20
