"""PBF intelligence routes, second half: review, approval and outcomes of a sampling plan.

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

from decimal import Decimal
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody

from afiya.adapters.db.models.pbf_intelligence import PbfIntelligenceRunRow, PbfPlanTargetRow
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
from afiya.domain.audit.model import AuditRecord
from afiya.domain.pbf import workflow_cases
from afiya.domain.pbf.records import ProgrammeRecord
from afiya.domain.pbf.use_cases import get_programme
from afiya.domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

PROPOSED, APPROVED = "proposed", "approved"
EXCLUDED = "excluded"


async def plan_run(uow: UnitOfWork, run_id: UUID) -> PbfIntelligenceRunRow:
    run = await uow.pbf_intelligence.run(run_id)
    if run is None or run.kind != "plan":
        raise NotFound(Message(N_("Sampling plan {id} not found."), {"id": str(run_id)}))
    return run


def _authorize_plan(principal: Principal, run: PbfIntelligenceRunRow) -> None:
    """Reviewing a plan needs ``pbf:manage`` over every sub-tree it was drawn for."""
    authorize(principal, Permission.PBF_MANAGE)
    for path in run.scope_paths:
        authorize(principal, Permission.PBF_MANAGE, path)


def _reviewable(run: PbfIntelligenceRunRow) -> None:
    """Only a drawn, not yet approved plan can be reviewed or approved."""
    if run.plan_state == APPROVED:
        raise Conflict(
            Message(N_("The sampling plan is approved and can no longer be changed.")),
            code="plan_approved",
        )
    if run.status != "done" or run.plan_state != PROPOSED:
        raise Conflict(
            Message(
                N_("The sampling plan is not ready for review (status {status})."),
                {"status": run.status},
            ),
            code="plan_not_ready",
        )


async def _target(uow: UnitOfWork, run: PbfIntelligenceRunRow, target_id: UUID) -> PbfPlanTargetRow:
    target = await uow.pbf_intelligence.plan_target(run.id, target_id)
    if target is None:
        raise NotFound(
            Message(N_("Target {id} is not part of this sampling plan."), {"id": str(target_id)})
        )
    return target


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise ValidationFailed(
            [FieldError("reason", Message(N_("Give the reason for this change.")))]
        )
    return reason


def _not_excluded(target: PbfPlanTargetRow) -> None:
    if target.state == EXCLUDED:
        raise Conflict(
            Message(N_("This target was excluded from the plan.")), code="target_excluded"
        )


async def _programme_of(uow: UnitOfWork, run: PbfIntelligenceRunRow) -> ProgrammeRecord:
    return await get_programme(run.parameters["programme"], store=uow.pbf)


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
        run = await plan_run(uow, run_id)
        targets = await uow.pbf_intelligence.plan_targets(run.id, scope_of(principal))
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
        run = await plan_run(uow, run_id)
        _authorize_plan(principal, run)
        _reviewable(run)
        target = await _target(uow, run, target_id)
        _not_excluded(target)
        reason = _reason(data.reason)
        self._exclude(uow, principal, target, reason)
        await uow.audit.record(
            AuditRecord(
                "pbf_intelligence.plan.exclude",
                "pbf_plan_target",
                str(target.id),
                details={"run_id": str(run.id), "reason": reason},
            )
        )
        return PbfPlanTargetRead.of(target)

    @staticmethod
    def _exclude(
        uow: UnitOfWork, principal: Principal, target: PbfPlanTargetRow, reason: str
    ) -> None:
        target.state = EXCLUDED
        target.review_reason = reason
        target.reviewed_by = principal.user_id
        target.reviewed_at = uow.clock.now()

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
        run = await plan_run(uow, run_id)
        _authorize_plan(principal, run)
        _reviewable(run)
        target = await _target(uow, run, target_id)
        _not_excluded(target)
        reason = _reason(data.reason)
        repo = uow.pbf_intelligence
        org_unit_id = data.org_unit_id or target.org_unit_id
        indicator = data.indicator or target.indicator
        unit = await repo.frame_unit(run.id, org_unit_id)
        if unit is None:
            raise ValidationFailed(
                [
                    FieldError(
                        "org_unit_id",
                        Message(N_("The facility is not in this plan's sampling frame.")),
                    )
                ]
            )
        authorize(principal, Permission.PBF_MANAGE, unit.org_unit_path)
        package, activity = indicator.split(".", 1)
        programme = await _programme_of(uow, run)
        assert target.period == run.period
        if not await repo.is_declared(programme.id, org_unit_id, target.period, package, activity):
            raise ValidationFailed(
                [
                    FieldError(
                        "indicator",
                        Message(
                            N_("The facility declared no {indicator} for {period}."),
                            {"indicator": indicator, "period": target.period},
                        ),
                    )
                ]
            )
        if await repo.plan_target_at(run.id, org_unit_id, indicator) is not None:
            raise Conflict(
                Message(N_("The plan already checks this indicator at this facility.")),
                code="target_exists",
            )
        self._exclude(uow, principal, target, reason)
        replacement = await repo.add_plan_target(
            PbfPlanTargetRow(
                run_id=run.id,
                org_unit_id=org_unit_id,
                org_unit_path=unit.org_unit_path,
                period=target.period,
                indicator=indicator,
                package=package,
                activity=activity,
                origin="replacement",
                state=PROPOSED,
                replaces_id=target.id,
                review_reason=reason,
                reviewed_by=principal.user_id,
                reviewed_at=target.reviewed_at,
            )
        )
        await uow.audit.record(
            AuditRecord(
                "pbf_intelligence.plan.replace",
                "pbf_plan_target",
                str(replacement.id),
                details={"run_id": str(run.id), "replaces": str(target.id), "reason": reason},
            )
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
        run = await plan_run(uow, run_id)
        _authorize_plan(principal, run)
        _reviewable(run)
        run.plan_state = APPROVED
        run.approved_by = principal.user_id
        run.approved_at = uow.clock.now()
        await uow.audit.record(
            AuditRecord("pbf_intelligence.plan.approve", "pbf_intelligence_run", str(run.id))
        )
        return PbfPlanStateRead(run.id, run.plan_state, run.approved_by, run.approved_at)

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
        run = await plan_run(uow, run_id)
        authorize(principal, Permission.PBF_VERIFY)
        target = await _target(uow, run, target_id)
        authorize(principal, Permission.PBF_VERIFY, target.org_unit_path)
        if run.plan_state != APPROVED:
            raise Conflict(
                Message(N_("Outcomes are recorded for approved sampling plans only.")),
                code="plan_not_approved",
            )
        _not_excluded(target)
        cv = await workflow_cases.record_counter_verification(
            run.parameters["programme"],
            target.org_unit_id,
            target.period,
            target.package,
            target.activity,
            sampled=data.sampled,
            found=data.found,
            confirmed=data.confirmed,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
            clock=uow.clock,
        )
        target.counter_verification_id = cv.id
        target.verified_value = Decimal(data.verified_value)
        target.outcome_by = principal.user_id
        target.outcome_at = uow.clock.now()
        await uow.audit.record(
            AuditRecord(
                "pbf_intelligence.plan.outcome",
                "pbf_plan_target",
                str(target.id),
                details={"run_id": str(run.id), "counter_verification_id": str(cv.id)},
            )
        )
        return PbfPlanTargetRead.of(target)
