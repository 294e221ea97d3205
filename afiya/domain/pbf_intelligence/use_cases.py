"""Use cases of the PBF intelligence module."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from afiya.domain.pbf_intelligence.errors import InsufficientHistory
from afiya.domain.pbf_intelligence.model import (
    DeclarationRecord,
    FacilityRisk,
    ModelMetadata,
    PlanMethod,
    PlanOutcome,
)
from afiya.domain.pbf_intelligence.policies import RiskRulePolicy
from afiya.domain.pbf_intelligence.ports import AuditTargetModel, AuditTargetTrainer
from afiya.domain.pbf_intelligence.risk_rules import rule_based_risks
from afiya.domain.pbf_intelligence.sampling import DEFAULT_RANDOM_SHARE, draw_sampling_plan
from afiya.domain.shared.i18n import N_, Message


def plan_counter_verification(
    records: Sequence[DeclarationRecord],
    *,
    period: str,
    budget: int,
    rng: random.Random,
    model: AuditTargetModel | None = None,
    trainer: AuditTargetTrainer | None = None,
    random_share: Fraction | Decimal | float | str | int = DEFAULT_RANDOM_SHARE,
    indicators_per_visit: int = 3,
    rule_policy: RiskRulePolicy | None = None,
) -> PlanOutcome:
    """Plan the counter-verification visits of ``period`` and say how the plan was made.

    Business rules: a model given by the caller ranks the facilities; otherwise one is
    trained on the history before ``period``; when there is neither (or training refuses
    the history as too thin) the field's fixed risk categories rank them, and the outcome
    carries the reason. Whatever ranks them, ``random_share`` of the visits are drawn at
    random so every facility has a non-zero inclusion probability (see
    :mod:`afiya.domain.pbf_intelligence.sampling`).

    This is CPU work without I/O (training may take seconds): call it from a worker job.

    Raises:
        ValidationFailed: invalid budget, share or period, or no facility declared in it.
    """
    fallback: Message | None = None
    if model is None and trainer is not None:
        try:
            model = trainer.train(records, until=period)
        except InsufficientHistory as refused:
            fallback = refused.message
    elif model is None:
        fallback = Message(N_("No model is available, so the fixed rules rank the facilities."))

    risks: list[FacilityRisk]
    metadata: ModelMetadata | None = None
    if model is not None:
        risks = model.expected_recovery(records, period=period)
        method = PlanMethod.MODEL
        metadata = model.metadata
    else:
        risks = rule_based_risks(records, period=period, policy=rule_policy)
        method = PlanMethod.RULES
    plan = draw_sampling_plan(
        risks,
        period=period,
        budget=budget,
        rng=rng,
        method=method,
        random_share=random_share,
        indicators_per_visit=indicators_per_visit,
    )
    return PlanOutcome(plan=plan, method=method, fallback_reason=fallback, model=metadata)
