"""Review, approval and outcomes of a sampling plan (the rules; the routes only call them).

A plan drawn by the job is ``proposed``: a manager with ``pbf:manage`` over every
sub-tree the plan was drawn for may exclude a target (a facility x indicator x period to
counter-verify) or replace it, always with a reason, then approve the plan, which freezes
it (409 on any further review). Verifiers (``pbf:verify`` over the facility) record what
the counter-verification of an approved plan's target found: the value they could
establish, kept on the target, and the patients traced, recorded through the PBF
module's own counter-verification (no second copy), which the target links to. The next
training reads these values as the validated ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.pbf import workflow_cases
from afiya.domain.pbf.ports import PbfStore
from afiya.domain.pbf.use_cases import get_programme
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

PROPOSED, APPROVED = "proposed", "approved"
EXCLUDED = "excluded"


@dataclass(frozen=True, slots=True)
class PlanUnderReview:
    """What the review rules need of a planning run."""

    id: UUID
    programme: str  # the programme's code
    period: str
    scope_paths: tuple[str, ...]  # the sub-trees the plan was drawn for
    status: str  # the job: pending | done | failed
    state: str | None  # proposed | approved; None while the job is pending
    approved_by: UUID | None = None
    approved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanTarget:
    """One value the plan sends verifiers to check, its review and its outcome."""

    id: UUID
    run_id: UUID
    org_unit_id: UUID
    org_unit_path: str
    period: str
    indicator: str  # "package.activity"
    package: str
    activity: str
    origin: str  # plan | replacement
    state: str  # proposed | excluded
    replaces_id: UUID | None = None
    review_reason: str | None = None
    reviewed_by: UUID | None = None
    reviewed_at: datetime | None = None
    counter_verification_id: UUID | None = None
    verified_value: Decimal | None = None
    outcome_by: UUID | None = None
    outcome_at: datetime | None = None


class PlanReviewRepository(Protocol):
    """Where plans and their targets are kept (``afiya.adapters.db`` implements it)."""

    async def plan_under_review(self, run_id: UUID) -> PlanUnderReview | None:
        """The planning run ``run_id``; None when there is none (or it is no plan)."""
        ...

    async def plan_target(self, run_id: UUID, target_id: UUID) -> PlanTarget | None: ...

    async def plan_target_at(
        self, run_id: UUID, org_unit_id: UUID, indicator: str
    ) -> PlanTarget | None: ...

    async def frame_unit_path(self, run_id: UUID, org_unit_id: UUID) -> str | None:
        """The facility's path when it is in the plan's sampling frame, else None."""
        ...

    async def is_declared(
        self, programme_id: UUID, org_unit_id: UUID, period: str, package: str, activity: str
    ) -> bool: ...

    async def add_plan_target(self, target: PlanTarget) -> None: ...

    async def save_plan_target(self, target: PlanTarget) -> None:
        """Keep the target's review and outcome fields."""
        ...

    async def approve_plan(self, run_id: UUID, by: UUID, at: datetime) -> None: ...


async def load_plan(run_id: UUID, plans: PlanReviewRepository) -> PlanUnderReview:
    plan = await plans.plan_under_review(run_id)
    if plan is None:
        raise NotFound(Message(N_("Sampling plan {id} not found."), {"id": str(run_id)}))
    return plan


def _authorize_review(principal: Principal, plan: PlanUnderReview) -> None:
    """Reviewing a plan needs ``pbf:manage`` over every sub-tree it was drawn for."""
    authorize(principal, Permission.PBF_MANAGE)
    for path in plan.scope_paths:
        authorize(principal, Permission.PBF_MANAGE, path)


def _check_reviewable(plan: PlanUnderReview) -> None:
    """Only a drawn, not yet approved plan can be reviewed or approved."""
    if plan.state == APPROVED:
        raise Conflict(
            Message(N_("The sampling plan is approved and can no longer be changed.")),
            code="plan_approved",
        )
    if plan.status != "done" or plan.state != PROPOSED:
        raise Conflict(
            Message(
                N_("The sampling plan is not ready for review (status {status})."),
                {"status": plan.status},
            ),
            code="plan_not_ready",
        )


async def _load_target(
    plans: PlanReviewRepository, plan: PlanUnderReview, target_id: UUID
) -> PlanTarget:
    target = await plans.plan_target(plan.id, target_id)
    if target is None:
        raise NotFound(
            Message(N_("Target {id} is not part of this sampling plan."), {"id": str(target_id)})
        )
    return target


def _check_reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise ValidationFailed(
            [FieldError("reason", Message(N_("Give the reason for this change.")))]
        )
    return reason


def _check_not_excluded(target: PlanTarget) -> None:
    if target.state == EXCLUDED:
        raise Conflict(
            Message(N_("This target was excluded from the plan.")), code="target_excluded"
        )


async def _reviewable_target(
    run_id: UUID, target_id: UUID, principal: Principal, plans: PlanReviewRepository
) -> tuple[PlanUnderReview, PlanTarget]:
    plan = await load_plan(run_id, plans)
    _authorize_review(principal, plan)
    _check_reviewable(plan)
    target = await _load_target(plans, plan, target_id)
    _check_not_excluded(target)
    return plan, target


def _excluded(target: PlanTarget, principal: Principal, reason: str, at: datetime) -> PlanTarget:
    return replace(
        target,
        state=EXCLUDED,
        review_reason=reason,
        reviewed_by=principal.user_id,
        reviewed_at=at,
    )


async def exclude_target(
    run_id: UUID,
    target_id: UUID,
    reason: str,
    *,
    principal: Principal,
    plans: PlanReviewRepository,
    audit: AuditLog,
    clock: Clock,
) -> PlanTarget:
    """The target will not be visited; the reason, the reviewer and the time are kept.

    Raises:
        Conflict: the plan is approved (or not drawn yet), or the target already excluded.
    """
    plan, target = await _reviewable_target(run_id, target_id, principal, plans)
    excluded = _excluded(target, principal, _check_reason(reason), clock.now())
    await plans.save_plan_target(excluded)
    await audit.record(
        AuditRecord(
            "pbf_intelligence.plan.exclude",
            "pbf_plan_target",
            str(target.id),
            details={"run_id": str(plan.id), "reason": excluded.review_reason},
        )
    )
    return excluded


async def replace_target(
    run_id: UUID,
    target_id: UUID,
    reason: str,
    *,
    org_unit_id: UUID | None,
    indicator: str | None,
    principal: Principal,
    plans: PlanReviewRepository,
    pbf: PbfStore,
    audit: AuditLog,
    clock: Clock,
) -> PlanTarget:
    """Exclude the target and check another value of the same period instead: a facility
    of the plan's sampling frame (default: the same) and an indicator it declared
    (default: the same). Returns the new target.

    Raises:
        ValidationFailed: the facility is outside the frame or did not declare the indicator.
        Conflict: the plan already holds that value, is approved, or the target is excluded.
    """
    plan, target = await _reviewable_target(run_id, target_id, principal, plans)
    checked_reason = _check_reason(reason)
    unit_id = org_unit_id or target.org_unit_id
    wanted = indicator or target.indicator
    path = await plans.frame_unit_path(plan.id, unit_id)
    if path is None:
        raise ValidationFailed(
            [
                FieldError(
                    "org_unit_id",
                    Message(N_("The facility is not in this plan's sampling frame.")),
                )
            ]
        )
    authorize(principal, Permission.PBF_MANAGE, path)
    package, activity = wanted.split(".", 1)
    programme = await get_programme(plan.programme, store=pbf)
    if not await plans.is_declared(programme.id, unit_id, target.period, package, activity):
        raise ValidationFailed(
            [
                FieldError(
                    "indicator",
                    Message(
                        N_("The facility declared no {indicator} for {period}."),
                        {"indicator": wanted, "period": target.period},
                    ),
                )
            ]
        )
    if await plans.plan_target_at(plan.id, unit_id, wanted) is not None:
        raise Conflict(
            Message(N_("The plan already checks this indicator at this facility.")),
            code="target_exists",
        )
    excluded = _excluded(target, principal, checked_reason, clock.now())
    await plans.save_plan_target(excluded)
    replacement = PlanTarget(
        id=uuid7(),
        run_id=plan.id,
        org_unit_id=unit_id,
        org_unit_path=path,
        period=target.period,
        indicator=wanted,
        package=package,
        activity=activity,
        origin="replacement",
        state=PROPOSED,
        replaces_id=target.id,
        review_reason=checked_reason,
        reviewed_by=principal.user_id,
        reviewed_at=excluded.reviewed_at,
    )
    await plans.add_plan_target(replacement)
    await audit.record(
        AuditRecord(
            "pbf_intelligence.plan.replace",
            "pbf_plan_target",
            str(replacement.id),
            details={
                "run_id": str(plan.id),
                "replaces": str(target.id),
                "reason": checked_reason,
            },
        )
    )
    return replacement


async def approve_plan(
    run_id: UUID,
    *,
    principal: Principal,
    plans: PlanReviewRepository,
    audit: AuditLog,
    clock: Clock,
) -> PlanUnderReview:
    """The plan is final: its targets are to be counter-verified and it can no longer be
    reviewed. Who approved and when are kept.

    Raises:
        Conflict: the plan is already approved or not drawn yet.
    """
    plan = await load_plan(run_id, plans)
    _authorize_review(principal, plan)
    _check_reviewable(plan)
    at = clock.now()
    await plans.approve_plan(plan.id, principal.user_id, at)
    await audit.record(
        AuditRecord("pbf_intelligence.plan.approve", "pbf_intelligence_run", str(plan.id))
    )
    return replace(plan, state=APPROVED, approved_by=principal.user_id, approved_at=at)


async def record_outcome(
    run_id: UUID,
    target_id: UUID,
    *,
    verified_value: Decimal,
    sampled: int,
    found: int,
    confirmed: int,
    principal: Principal,
    plans: PlanReviewRepository,
    pbf: PbfStore,
    audit: AuditLog,
    clock: Clock,
) -> PlanTarget:
    """The value the counter-verification established, and the patients sampled, found and
    confirming the service (recorded as the PBF counter-verification of the activity,
    which the penalty rules read). Recording again corrects the outcome.

    Raises:
        Conflict: the plan is not approved, or the target was excluded.
    """
    plan = await load_plan(run_id, plans)
    authorize(principal, Permission.PBF_VERIFY)
    target = await _load_target(plans, plan, target_id)
    authorize(principal, Permission.PBF_VERIFY, target.org_unit_path)
    if plan.state != APPROVED:
        raise Conflict(
            Message(N_("Outcomes are recorded for approved sampling plans only.")),
            code="plan_not_approved",
        )
    _check_not_excluded(target)
    cv = await workflow_cases.record_counter_verification(
        plan.programme,
        target.org_unit_id,
        target.period,
        target.package,
        target.activity,
        sampled=sampled,
        found=found,
        confirmed=confirmed,
        principal=principal,
        store=pbf,
        audit=audit,
        clock=clock,
    )
    checked = replace(
        target,
        counter_verification_id=cv.id,
        verified_value=verified_value,
        outcome_by=principal.user_id,
        outcome_at=clock.now(),
    )
    await plans.save_plan_target(checked)
    await audit.record(
        AuditRecord(
            "pbf_intelligence.plan.outcome",
            "pbf_plan_target",
            str(target.id),
            details={"run_id": str(plan.id), "counter_verification_id": str(cv.id)},
        )
    )
    return checked
