from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from afiya.domain.pbf_intelligence.errors import InsufficientHistory
from afiya.domain.pbf_intelligence.model import (
    DeclarationRecord,
    FacilityRisk,
    IndicatorRisk,
    ModelMetadata,
    PlanMethod,
    SelectionBasis,
)
from afiya.domain.pbf_intelligence.use_cases import plan_counter_verification
from afiya.domain.shared.i18n import Message

METADATA = ModelMetadata(
    kind="fake",
    version="1",
    training_first_period="202301",
    training_last_period="202405",
    features=("declared",),
    metrics={"auc": 0.9},
    created_at=datetime(2024, 6, 1, tzinfo=UTC),
    library="none",
)


class FakeModel:
    """Expects the most over-declaration from the facility with the largest id number."""

    metadata = METADATA

    def expected_recovery(
        self, records: Sequence[DeclarationRecord], *, period: str
    ) -> list[FacilityRisk]:
        current = [r for r in records if r.period == period]
        return [
            FacilityRisk(
                r.facility_id,
                r.district,
                Decimal(int(r.facility_id[-2:]) * 100),
                (IndicatorRisk(r.indicator_code, Decimal(1)),),
            )
            for r in current
        ]


class FakeTrainer:
    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.calls: list[str] = []

    def train(self, records: Sequence[DeclarationRecord], *, until: str) -> FakeModel:
        self.calls.append(until)
        if self.refuse:
            raise InsufficientHistory(Message("Too little history: {n}", {"n": 1}))
        return FakeModel()


def _records(make_record) -> list[DeclarationRecord]:
    return [
        make_record(facility_id=f"FOSA-{n:02d}", period=p, validated=90 if p < "202406" else None)
        for n in range(20)
        for p in ("202404", "202405", "202406")
    ]


class TestPlanCounterVerification:
    def test_trained_model_ranks_the_facilities(self, make_record) -> None:
        trainer = FakeTrainer(refuse=False)
        outcome = plan_counter_verification(
            _records(make_record), period="202406", budget=5, rng=random.Random(1), trainer=trainer
        )
        assert trainer.calls == ["202406"]
        assert outcome.method is PlanMethod.MODEL
        assert outcome.fallback_reason is None
        assert outcome.model == METADATA
        ranked = [
            s.facility_id for s in outcome.plan.selections if s.basis is SelectionBasis.RANKED
        ]
        assert ranked == ["FOSA-19", "FOSA-18", "FOSA-17", "FOSA-16"]

    def test_refused_training_falls_back_to_rules_and_says_why(self, make_record) -> None:
        outcome = plan_counter_verification(
            _records(make_record),
            period="202406",
            budget=5,
            rng=random.Random(1),
            trainer=FakeTrainer(refuse=True),
        )
        assert outcome.method is PlanMethod.RULES
        assert outcome.plan.method is PlanMethod.RULES
        assert outcome.fallback_reason == Message("Too little history: {n}", {"n": 1})
        assert outcome.model is None
        assert outcome.plan.visits == 5
        assert outcome.plan.n_random == 1

    def test_without_model_or_trainer_the_rules_rank(self, make_record) -> None:
        outcome = plan_counter_verification(
            _records(make_record), period="202406", budget=3, rng=random.Random(1)
        )
        assert outcome.method is PlanMethod.RULES
        assert outcome.fallback_reason is not None
        assert "fixed rules" in outcome.fallback_reason.msgid

    def test_a_given_model_is_used_without_training(self, make_record) -> None:
        trainer = FakeTrainer(refuse=True)
        outcome = plan_counter_verification(
            _records(make_record),
            period="202406",
            budget=3,
            rng=random.Random(1),
            model=FakeModel(),
            trainer=trainer,
        )
        assert trainer.calls == []
        assert outcome.method is PlanMethod.MODEL
