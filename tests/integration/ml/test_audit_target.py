from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from afiya.adapters.ml.audit_target import LightGbmAuditModel, LightGbmAuditTrainer
from afiya.adapters.ml.synthetic import SyntheticConfig, SyntheticProgramme, generate_programme
from afiya.domain.pbf_intelligence.errors import InsufficientHistory
from afiya.domain.pbf_intelligence.model import PlanMethod, SelectionBasis
from afiya.domain.pbf_intelligence.sampling import random_visit_count
from afiya.domain.pbf_intelligence.use_cases import plan_counter_verification

from .conftest import CLOCK, TRAIN_MONTHS


@pytest.fixture(scope="module")
def small() -> SyntheticProgramme:
    return generate_programme(SyntheticConfig(facilities=80, months=12, indicators=6, seed=5))


class TestAuditTargetModel:
    def test_expected_recovery_concentrates_on_over_declaring_facilities(
        self, programme: SyntheticProgramme, audit_model: LightGbmAuditModel
    ) -> None:
        t = TRAIN_MONTHS + 1
        cube = programme.cube.up_to(programme.cube.periods[t])
        risks = audit_model.facility_risks(cube, audit_model.predict_period(cube, cube.periods[t]))
        assert len(risks) == len(cube.facility_ids)
        top = sorted(risks, key=lambda r: -r.expected_recovery)[:20]
        cheater = dict(zip(cube.facility_ids, programme.truth.cheater_kind > 0, strict=True))
        share_in_top = np.mean([cheater[r.facility_id] for r in top])
        base_rate = np.mean(list(cheater.values()))
        assert share_in_top >= 3 * base_rate
        for r in top:
            assert r.expected_recovery == sum(i.expected_recovery for i in r.indicators)
            assert all(i.expected_recovery >= 0 for i in r.indicators)

    def test_metrics_show_the_top_decile_captures_most_of_the_money(
        self, audit_model: LightGbmAuditModel
    ) -> None:
        metrics = audit_model.metadata.metrics
        assert metrics["validation_top_decile_capture"] > 0.5
        assert 0 < metrics["positive_share"] < 0.5


class TestTrainingGuardAndFallback:
    def test_too_little_history_raises_a_clear_error(self, small: SyntheticProgramme) -> None:
        records = small.cube.to_records(small.cube.periods[:3])
        trainer = LightGbmAuditTrainer(parents=small.parents, clock=CLOCK)
        with pytest.raises(InsufficientHistory) as caught:
            trainer.train(records, until=small.cube.periods[3])
        message = caught.value.message
        assert message.params["min_periods"] == 6
        assert message.params["periods"] <= 3
        assert "verified months" in message.render()

    def test_no_history_at_all_is_refused_too(self, small: SyntheticProgramme) -> None:
        records = small.cube.to_records(small.cube.periods[:1])
        trainer = LightGbmAuditTrainer(parents=small.parents)
        with pytest.raises(InsufficientHistory):
            trainer.train(records, until=small.cube.periods[0])

    def test_no_over_declaration_ever_found_is_refused(self, small: SyntheticProgramme) -> None:
        records = [
            r if r.validated is None else type(r)(**{**_fields(r), "validated": r.declared})
            for r in small.cube.to_records()
        ]
        trainer = LightGbmAuditTrainer(parents=small.parents)
        with pytest.raises(InsufficientHistory) as caught:
            trainer.train(records, until=small.cube.periods[-1])
        assert caught.value.message.params["positives"] == 0

    def test_planning_falls_back_to_rules_and_reports_why(self, small: SyntheticProgramme) -> None:
        period = small.cube.periods[3]
        records = small.cube.to_records(small.cube.periods[:4])
        outcome = plan_counter_verification(
            records,
            period=period,
            budget=10,
            rng=random.Random(4),
            trainer=LightGbmAuditTrainer(parents=small.parents),
        )
        assert outcome.method is PlanMethod.RULES
        assert outcome.fallback_reason is not None
        assert "verified months" in outcome.fallback_reason.render()
        assert outcome.plan.visits == 10
        assert all(i.inclusion_probability > 0 for i in outcome.plan.inclusions)


class TestModelDrivenPlan:
    def test_random_share_is_exact_and_every_facility_can_be_drawn(
        self, small: SyntheticProgramme
    ) -> None:
        period = small.cube.periods[-1]
        outcome = plan_counter_verification(
            small.cube.to_records(),
            period=period,
            budget=13,
            rng=random.Random(8),
            trainer=LightGbmAuditTrainer(parents=small.parents, clock=CLOCK),
            random_share=Fraction(1, 5),
        )
        plan = outcome.plan
        assert outcome.method is PlanMethod.MODEL
        assert outcome.model is not None
        assert outcome.model.training_last_period == small.cube.periods[-2]
        drawn = [s for s in plan.selections if s.basis is SelectionBasis.RANDOM_DRAW]
        assert len(drawn) == random_visit_count(13, Fraction(1, 5)) == 3
        assert plan.visits == 13
        assert len(plan.inclusions) == len(small.cube.facility_ids)
        assert all(0 < i.inclusion_probability <= 1 for i in plan.inclusions)
        assert sum(i.inclusion_probability for i in plan.inclusions) == 13
        assert all(Fraction(3, 70) == s.inclusion_probability for s in drawn)
        ranked = [s for s in plan.selections if s.basis is SelectionBasis.RANKED]
        assert all(s.reason.params["amount"] == s.expected_recovery for s in ranked)
        assert all(len(s.indicators) == 3 for s in plan.selections)
        assert ranked[0].expected_recovery > Decimal(0)


def _fields(record: object) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__slots__}  # type: ignore[attr-defined]
