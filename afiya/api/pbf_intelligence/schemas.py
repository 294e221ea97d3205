"""Bodies of the PBF intelligence routes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec

from afiya.adapters.db.models.pbf_intelligence import (
    PbfAnomalyFlagRow,
    PbfIntelligenceRunRow,
    PbfModelRow,
    PbfPlanUnitRow,
)
from afiya.adapters.i18n import Translator
from afiya.domain.pbf_intelligence.plan_review import PlanTarget
from afiya.domain.shared.i18n import Message

Month = Annotated[str, msgspec.Meta(pattern=r"^\d{4}(0[1-9]|1[0-2])$")]
Share = Annotated[str, msgspec.Meta(pattern=r"^(0(\.\d{1,6})?|1(\.0{1,6})?|\d{1,6}/\d{1,6})$")]


def render(stored: dict[str, Any] | None, translate: Translator) -> str | None:
    """A stored ``{"msgid", "params"}`` in the caller's language."""
    if not stored:
        return None
    return Message(stored["msgid"], stored.get("params") or {}).render(translate)


class PbfTrainingRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The window of declarations, verifications and validations to learn from."""

    first_period: Month
    last_period: Month


class PbfPlanRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``random_share``: a decimal or a fraction in (0, 1], e.g. ``0.2`` or ``1/5``."""

    budget: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    random_share: Share = "0.2"
    indicators_per_visit: Annotated[int, msgspec.Meta(ge=1, le=50)] = 3


class PbfRunRead(msgspec.Struct):
    id: UUID
    kind: str
    status: str
    period: str | None
    first_period: str | None
    last_period: str | None
    model_id: UUID | None
    method: str | None
    message: str | None
    parameters: dict[str, Any]
    summary: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, run: PbfIntelligenceRunRow, translate: Translator) -> PbfRunRead:
        summary = dict(run.summary)
        if summary.get("refusals"):
            summary["refusals"] = [
                {"kind": r["kind"], "message": render(r, translate)} for r in summary["refusals"]
            ]
        return cls(
            run.id,
            run.kind,
            run.status,
            run.period,
            run.first_period,
            run.last_period,
            run.model_id,
            run.method,
            render(run.message, translate),
            {k: v for k, v in run.parameters.items() if k != "programme"},
            summary,
            run.created_at,
            run.finished_at,
        )


class PbfModelListItem(msgspec.Struct):
    id: UUID
    kind: str
    model_version: str
    state: str
    training_first_period: str
    training_last_period: str
    created_at: datetime
    approved_at: datetime | None

    @classmethod
    def of(cls, m: PbfModelRow) -> PbfModelListItem:
        return cls(
            m.id,
            m.kind,
            m.model_version,
            m.state,
            m.training_first_period,
            m.training_last_period,
            m.created_at,
            m.approved_at,
        )


class PbfModelRead(msgspec.Struct):
    id: UUID
    kind: str
    model_version: str
    state: str
    blob_key: str
    blob_sha256: str
    size: int
    scope_path: str
    training_first_period: str
    training_last_period: str
    data_hash: str
    rows: int
    library: str
    features: list[str]
    metrics: dict[str, float]
    trained_run_id: UUID | None
    created_at: datetime
    approved_by: UUID | None
    approved_at: datetime | None
    retired_at: datetime | None

    @classmethod
    def of(cls, m: PbfModelRow) -> PbfModelRead:
        return cls(
            m.id,
            m.kind,
            m.model_version,
            m.state,
            m.blob_key,
            m.blob_sha256,
            m.size,
            m.scope_path,
            m.training_first_period,
            m.training_last_period,
            m.data_hash,
            m.rows,
            m.library,
            list(m.features),
            dict(m.metrics),
            m.trained_run_id,
            m.created_at,
            m.approved_by,
            m.approved_at,
            m.retired_at,
        )


class PbfFlagReasonRead(msgspec.Struct):
    code: str
    text: str
    weight: float


class PbfFlagRead(msgspec.Struct):
    org_unit_id: UUID
    period: str
    indicator: str
    declared: int
    expected: float
    residual: float
    score: float
    reasons: list[PbfFlagReasonRead]

    @classmethod
    def of(cls, f: PbfAnomalyFlagRow, translate: Translator) -> PbfFlagRead:
        return cls(
            f.org_unit_id,
            f.period,
            f.indicator,
            f.declared,
            f.expected,
            f.residual,
            f.score,
            [
                PbfFlagReasonRead(r["code"], render(r, translate) or "", r["weight"])
                for r in f.reasons
            ],
        )


class PbfFlagPage(msgspec.Struct):
    run: PbfRunRead
    items: list[PbfFlagRead]
    next_cursor: str | None
    limit: int


class PbfPlanUnitRead(msgspec.Struct):
    org_unit_id: UUID
    rank: int
    selected: bool
    basis: str | None
    inclusion_probability: str
    expected_recovery: Decimal
    indicators: list[str]
    reason: str | None

    @classmethod
    def of(cls, u: PbfPlanUnitRow, translate: Translator) -> PbfPlanUnitRead:
        return cls(
            u.org_unit_id,
            u.rank,
            u.selected,
            u.basis,
            u.inclusion_probability,
            u.expected_recovery,
            list(u.indicators),
            render(u.reason, translate),
        )


class PbfPlanTargetRead(msgspec.Struct):
    """A value to counter-verify, its review and, once checked, its outcome."""

    id: UUID
    org_unit_id: UUID
    period: str
    indicator: str
    origin: str
    state: str
    replaces_id: UUID | None
    review_reason: str | None
    reviewed_by: UUID | None
    reviewed_at: datetime | None
    verified_value: Decimal | None
    counter_verification_id: UUID | None
    outcome_by: UUID | None
    outcome_at: datetime | None

    @classmethod
    def of(cls, t: PlanTarget) -> PbfPlanTargetRead:
        return cls(
            t.id,
            t.org_unit_id,
            t.period,
            t.indicator,
            t.origin,
            t.state,
            t.replaces_id,
            t.review_reason,
            t.reviewed_by,
            t.reviewed_at,
            t.verified_value,
            t.counter_verification_id,
            t.outcome_by,
            t.outcome_at,
        )


class PbfPlanRead(msgspec.Struct):
    run: PbfRunRead
    selections: list[PbfPlanUnitRead]
    frame: list[PbfPlanUnitRead]
    #: ``proposed`` (reviewable), ``approved`` (frozen); None while the job is pending
    state: str | None = None
    approved_by: UUID | None = None
    approved_at: datetime | None = None
    targets: list[PbfPlanTargetRead] = []


class PbfPlanStateRead(msgspec.Struct):
    id: UUID
    state: str | None
    approved_by: UUID | None
    approved_at: datetime | None


Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class PbfTargetExclusion(msgspec.Struct, forbid_unknown_fields=True):
    """Why the target is not to be visited (access, security, already audited...)."""

    reason: Reason


class PbfTargetReplacement(msgspec.Struct, forbid_unknown_fields=True):
    """Check another value instead: another facility of the plan's frame and/or another
    declared indicator (each defaults to the replaced target's)."""

    reason: Reason
    org_unit_id: UUID | None = None
    indicator: Annotated[str, msgspec.Meta(pattern=r"^[^.\s]{1,50}\.[^\s]{1,50}$")] | None = None


class PbfTargetOutcome(msgspec.Struct, forbid_unknown_fields=True):
    """What the counter-verification found: the value it could establish, and the patients
    sampled from the register, found in the community and confirming the service."""

    verified_value: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
    sampled: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    found: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    confirmed: Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class PbfProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    level: Annotated[str, msgspec.Meta(pattern=r"^(health_post|health_centre|hospital)$")]
    catchment_population: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]


class PbfProfileRead(msgspec.Struct):
    org_unit_id: UUID
    level: str
    catchment_population: int
