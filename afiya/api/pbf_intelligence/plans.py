"""PBF intelligence routes, second half: review, approval and outcomes of a sampling plan.

The rules live in :mod:`afiya.domain.pbf_intelligence.plan_review`; these routes call them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody

from afiya.adapters.db.uow import UnitOfWork
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.pbf_intelligence.schemas import (
    PbfPlanStateRead,
    PbfPlanTargetRead,
    PbfTargetExclusion,
    PbfTargetOutcome,
    PbfTargetReplacement,
)
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize, scope_of
from afiya.domain.pbf_intelligence import plan_review


def _ports(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    return {
        "principal": principal,
        "plans": uow.pbf_intelligence,
        "audit": uow.audit,
        "clock": uow.clock,
    }


class PbfPlanReviewController(Controller):
    path = "/api/v1/pbf/intelligence/sampling-plans"
    tags = ["pbf intelligence"]

    @get(
        "/{run_id:uuid}/targets",
        operation_id="pbf_intelligence_plan_targets",
        summary="List a sampling plan's targets",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def list_targets(
        self, run_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> list[PbfPlanTargetRead]:
        """The values to counter-verify in the caller's facilities (facility x indicator x
        period), with their review (excluded, replacement and why) and outcome."""
        authorize(principal, Permission.PBF_READ)
        plan = await plan_review.load_plan(run_id, uow.pbf_intelligence)
        targets = await uow.pbf_intelligence.plan_targets(plan.id, scope_of(principal))
        return [PbfPlanTargetRead.of(t) for t in targets]

    @post(
        "/{run_id:uuid}/targets/{target_id:uuid}/exclusion",
        operation_id="pbf_intelligence_exclude_target",
        summary="Exclude a target from a proposed sampling plan",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=200,
    )
    async def exclude(
        self,
        run_id: FromPath[UUID],
        target_id: FromPath[UUID],
        data: JSONBody[PbfTargetExclusion],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PbfPlanTargetRead:
        """The target will not be visited; the reason, the reviewer and the time are kept.
        409 once the plan is approved or when the target is already excluded."""
        target = await plan_review.exclude_target(
            run_id, target_id, data.reason, **_ports(uow, principal)
        )
        return PbfPlanTargetRead.of(target)

    @post(
        "/{run_id:uuid}/targets/{target_id:uuid}/replacement",
        operation_id="pbf_intelligence_replace_target",
        summary="Replace a target of a proposed sampling plan",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=201,
    )
    async def replace(
        self,
        run_id: FromPath[UUID],
        target_id: FromPath[UUID],
        data: JSONBody[PbfTargetReplacement],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PbfPlanTargetRead:
        """Exclude the target and check another value of the same period instead: a
        facility of the plan's sampling frame (default: the same) and an indicator it
        declared (default: the same). Returns the new target. 422 when the facility is
        outside the frame or did not declare the indicator; 409 when the plan already
        holds that value, once the plan is approved, or when the target is excluded."""
        replacement = await plan_review.replace_target(
            run_id,
            target_id,
            data.reason,
            org_unit_id=data.org_unit_id,
            indicator=data.indicator,
            pbf=uow.pbf,
            **_ports(uow, principal),
        )
        return PbfPlanTargetRead.of(replacement)

    @post(
        "/{run_id:uuid}/approve",
        operation_id="pbf_intelligence_approve_plan",
        summary="Approve a reviewed sampling plan",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=200,
    )
    async def approve(
        self, run_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> PbfPlanStateRead:
        """The plan is final: its targets are to be counter-verified and it can no longer
        be reviewed (409 on any change, or on a second approval). Who approved and when
        are kept."""
        plan = await plan_review.approve_plan(run_id, **_ports(uow, principal))
        return PbfPlanStateRead(plan.id, plan.state, plan.approved_by, plan.approved_at)

    @put(
        "/{run_id:uuid}/targets/{target_id:uuid}/outcome",
        operation_id="pbf_intelligence_record_outcome",
        summary="Record the counter-verification outcome of a plan target",
        opt={PERMISSION: Permission.PBF_VERIFY},
    )
    async def record_outcome(
        self,
        run_id: FromPath[UUID],
        target_id: FromPath[UUID],
        data: JSONBody[PbfTargetOutcome],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PbfPlanTargetRead:
        """The value the counter-verification established, and the patients sampled, found
        and confirming the service (recorded as the PBF counter-verification of the
        activity, which the penalty rules read). Only for a target of an approved plan
        that was not excluded (409 otherwise); recording again corrects the outcome. The
        next training uses the value found as the validated value of that declaration."""
        target = await plan_review.record_outcome(
            run_id,
            target_id,
            verified_value=Decimal(data.verified_value),
            sampled=data.sampled,
            found=data.found,
            confirmed=data.confirmed,
            pbf=uow.pbf,
            **_ports(uow, principal),
        )
        return PbfPlanTargetRead.of(target)
