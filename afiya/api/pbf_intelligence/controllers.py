"""PBF intelligence routes: model registry, training, scoring, flagged values, plans.

The API only records requests (a run row and an outbox job) and reads results: the
models are trained and applied by jobs in a child process, so this process never loads
LightGBM. Permissions: ``pbf:read`` to read, ``pbf:manage`` to request work and to
approve models; lists and plans are limited to the caller's org-unit sub-trees.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from afiya.adapters.db.models.pbf_intelligence import PbfIntelligenceRunRow, PbfModelRow
from afiya.adapters.db.uow import UnitOfWork
from afiya.adapters.ml.tasks import ANOMALY_KIND, AUDIT_KIND, PLAN_JOB, SCORE_JOB, TRAIN_JOB
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.i18n import request_translator
from afiya.api.pagination import check_limit, decode_cursor, encode_cursor
from afiya.api.pbf_intelligence.plans import PbfPlanReviewController
from afiya.api.pbf_intelligence.schemas import (
    Month,
    PbfFlagPage,
    PbfFlagRead,
    PbfModelListItem,
    PbfModelRead,
    PbfPlanRead,
    PbfPlanRequest,
    PbfPlanTargetRead,
    PbfPlanUnitRead,
    PbfProfileIn,
    PbfProfileRead,
    PbfRunRead,
    PbfTrainingRequest,
)
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize, scope_of
from afiya.domain.audit.model import AuditRecord
from afiya.domain.pbf.records import ProgrammeRecord
from afiya.domain.pbf.use_cases import get_programme
from afiya.domain.platform.jobs import JobRequest
from afiya.domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

_PROGRAMME = "/programmes/{code:str}"


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


async def _programme(uow: UnitOfWork, code: str) -> ProgrammeRecord:
    return await get_programme(code, store=uow.pbf)


async def _model(uow: UnitOfWork, model_id: UUID) -> PbfModelRow:
    model = await uow.pbf_intelligence.model(model_id)
    if model is None:
        raise NotFound(Message(N_("Model {id} not found."), {"id": str(model_id)}))
    return model


async def _run(uow: UnitOfWork, run_id: UUID, kind: str | None = None) -> PbfIntelligenceRunRow:
    run = await uow.pbf_intelligence.run(run_id)
    if run is None or (kind is not None and run.kind != kind):
        raise NotFound(Message(N_("Run {id} not found."), {"id": str(run_id)}))
    return run


async def _request(
    uow: UnitOfWork,
    principal: Principal,
    programme: ProgrammeRecord,
    *,
    kind: str,
    job: str,
    key: str,
    parameters: dict[str, Any],
    **fields: Any,
) -> PbfIntelligenceRunRow:
    """The run for ``key`` (an identical request returns the same run), else a new one."""
    repo = uow.pbf_intelligence
    existing = await repo.run_by_key(key)
    if existing is not None:
        return existing
    run = await repo.add_run(
        PbfIntelligenceRunRow(
            programme_id=programme.id,
            kind=kind,
            key=key,
            status="pending",
            scope_paths=list(principal.unit_paths),
            parameters={"programme": programme.code, **parameters},
            summary={},
            requested_by=principal.user_id,
            **fields,
        )
    )
    await uow.jobs.schedule(JobRequest(job, {"run_id": str(run.id)}, f"{job}:{run.id}"))
    await uow.audit.record(
        AuditRecord(f"pbf_intelligence.{kind}.request", "pbf_intelligence_run", str(run.id))
    )
    return run


def _authorize_model(principal: Principal, model: PbfModelRow) -> None:
    """Managing a model needs the right over every sub-tree it was trained on."""
    authorize(principal, Permission.PBF_MANAGE)
    for path in model.scope_path.split(","):
        authorize(principal, Permission.PBF_MANAGE, path)


class PbfIntelligenceController(Controller):
    path = "/api/v1/pbf/intelligence"
    tags = ["pbf intelligence"]

    @post(
        f"{_PROGRAMME}/training",
        operation_id="pbf_intelligence_request_training",
        summary="Request the training of the models",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=202,
    )
    async def request_training(
        self,
        code: FromPath[str],
        data: JSONBody[PbfTrainingRequest],
        principal: CurrentPrincipal,
        uow: Uow,
        request: Request[Any, Any, Any],
    ) -> PbfRunRead:
        """A job trains the anomaly and audit-target models on the declarations,
        verifications and validations of the window in the caller's facilities and
        registers them as ``trained``. The same request on unchanged data returns the same
        run. Too little history ends the run as ``failed`` with the reason; plans then use
        the fixed rules."""
        authorize(principal, Permission.PBF_MANAGE)
        programme = await _programme(uow, code)
        if data.first_period > data.last_period:
            raise ValidationFailed(
                [
                    FieldError(
                        "last_period",
                        Message(N_("The last period must not come before the first.")),
                    )
                ]
            )
        scope = scope_of(principal)
        count, changed = await uow.pbf_intelligence.data_fingerprint(
            programme.id, data.first_period, data.last_period, scope
        )
        run = await _request(
            uow,
            principal,
            programme,
            kind="train",
            job=TRAIN_JOB,
            key=_key(
                "train", programme.id, data.first_period, data.last_period, scope, count, changed
            ),
            parameters={},
            first_period=data.first_period,
            last_period=data.last_period,
        )
        return PbfRunRead.of(run, request_translator(request))

    @get(
        "/runs/{run_id:uuid}",
        operation_id="pbf_intelligence_run",
        summary="Read a training, scoring or planning run",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def read_run(
        self,
        run_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        request: Request[Any, Any, Any],
    ) -> PbfRunRead:
        """Status (``pending``, ``done``, ``failed``), the reason of a failure or of a
        fallback to the fixed rules, and a summary of what the job produced."""
        authorize(principal, Permission.PBF_READ)
        return PbfRunRead.of(await _run(uow, run_id), request_translator(request))

    @get(
        f"{_PROGRAMME}/models",
        operation_id="pbf_intelligence_models",
        summary="List the programme's models",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def list_models(
        self,
        code: FromPath[str],
        principal: CurrentPrincipal,
        uow: Uow,
        kind: FromQuery[str | None] = None,
        model_state: Annotated[str | None, QueryParameter(name="state", max_length=12)] = None,
    ) -> list[PbfModelListItem]:
        """Newest first; filter by ``kind`` and ``state`` (trained, approved, retired)."""
        authorize(principal, Permission.PBF_READ)
        programme = await _programme(uow, code)
        rows = await uow.pbf_intelligence.models(programme.id, kind=kind, state=model_state)
        return [PbfModelListItem.of(m) for m in rows]

    @get(
        "/models/{model_id:uuid}",
        operation_id="pbf_intelligence_model",
        summary="Read a model's registry entry",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def read_model(
        self, model_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> PbfModelRead:
        """Training window, features, metrics, data hash, blob key and checksum, approval."""
        authorize(principal, Permission.PBF_READ)
        return PbfModelRead.of(await _model(uow, model_id))

    @post(
        "/models/{model_id:uuid}/approve",
        operation_id="pbf_intelligence_approve_model",
        summary="Approve a trained model",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=200,
    )
    async def approve(
        self, model_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> PbfModelRead:
        """From now on the model drives scoring (anomaly model) or sampling (audit-target
        model); the model of the same kind approved before is retired. Only a ``trained``
        model can be approved (409 otherwise)."""
        model = await _model(uow, model_id)
        _authorize_model(principal, model)
        if model.state != "trained":
            raise Conflict(
                Message(
                    N_("Only a trained model can be approved; this one is {state}."),
                    {"state": model.state},
                ),
                code="model_not_trained",
            )
        now = uow.clock.now()
        retired = await uow.pbf_intelligence.retire_approved(model.programme_id, model.kind, now)
        model.state = "approved"
        model.approved_by = principal.user_id
        model.approved_at = now
        await uow.audit.record(
            AuditRecord(
                "pbf_intelligence.model.approve",
                "pbf_model",
                str(model.id),
                details={"kind": model.kind, "retired": [str(r) for r in retired]},
            )
        )
        return PbfModelRead.of(model)

    @post(
        "/models/{model_id:uuid}/retire",
        operation_id="pbf_intelligence_retire_model",
        summary="Retire a model",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=200,
    )
    async def retire(
        self, model_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> PbfModelRead:
        """A retired model no longer drives anything; plans fall back to the fixed rules
        when no audit-target model remains approved."""
        model = await _model(uow, model_id)
        _authorize_model(principal, model)
        if model.state != "retired":
            model.state = "retired"
            model.retired_at = uow.clock.now()
            await uow.audit.record(
                AuditRecord("pbf_intelligence.model.retire", "pbf_model", str(model.id))
            )
        return PbfModelRead.of(model)

    @post(
        f"{_PROGRAMME}/periods/{{period:str}}/scoring",
        operation_id="pbf_intelligence_request_scoring",
        summary="Request anomaly scores for a period",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=202,
    )
    async def request_scoring(
        self,
        code: FromPath[str],
        period: FromPath[Month],
        principal: CurrentPrincipal,
        uow: Uow,
        request: Request[Any, Any, Any],
    ) -> PbfRunRead:
        """A job scores every declared value of the period in the caller's facilities with
        the latest approved anomaly model and stores the flagged ones with their reasons.
        One run per programme, period, model and scope."""
        authorize(principal, Permission.PBF_MANAGE)
        programme = await _programme(uow, code)
        model = await uow.pbf_intelligence.latest_approved(programme.id, ANOMALY_KIND)
        if model is None:
            raise Conflict(
                Message(N_("No anomaly model of this programme is approved yet.")),
                code="no_approved_model",
            )
        scope = scope_of(principal)
        run = await _request(
            uow,
            principal,
            programme,
            kind="score",
            job=SCORE_JOB,
            key=_key("score", programme.id, period, model.id, scope),
            parameters={},
            period=period,
            model_id=model.id,
        )
        return PbfRunRead.of(run, request_translator(request))

    @get(
        f"{_PROGRAMME}/periods/{{period:str}}/flags",
        operation_id="pbf_intelligence_flags",
        summary="List flagged declared values with their reasons",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def flags(
        self,
        code: FromPath[str],
        period: FromPath[Month],
        principal: CurrentPrincipal,
        uow: Uow,
        request: Request[Any, Any, Any],
        run_id: FromQuery[UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> PbfFlagPage:
        """Values of the caller's facilities flagged by the latest finished scoring of the
        period (or by ``run_id``), highest score first, each with the reasons in the
        caller's language: the rules that fired and the features that weigh most."""
        authorize(principal, Permission.PBF_READ)
        limit = check_limit(limit)
        programme = await _programme(uow, code)
        repo = uow.pbf_intelligence
        run = (
            await _run(uow, run_id, "score")
            if run_id
            else await repo.latest_run(programme.id, "score", period)
        )
        if run is None or run.programme_id != programme.id or run.period != period:
            raise NotFound(
                Message(N_("No finished scoring of {period} was found."), {"period": period})
            )
        position = decode_cursor(cursor) or {}
        offset = int(position.get("o", 0)) if isinstance(position, dict) else 0
        rows = await repo.flags(run.id, scope_of(principal), limit=limit + 1, offset=offset)
        translate = request_translator(request)
        following = encode_cursor({"o": offset + limit}) if len(rows) > limit else None
        return PbfFlagPage(
            PbfRunRead.of(run, translate),
            [PbfFlagRead.of(f, translate) for f in rows[:limit]],
            following,
            limit,
        )

    @post(
        f"{_PROGRAMME}/periods/{{period:str}}/sampling-plans",
        operation_id="pbf_intelligence_request_plan",
        summary="Request a counter-verification sampling plan",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=202,
    )
    async def request_plan(
        self,
        code: FromPath[str],
        period: FromPath[Month],
        data: JSONBody[PbfPlanRequest],
        principal: CurrentPrincipal,
        uow: Uow,
        request: Request[Any, Any, Any],
    ) -> PbfRunRead:
        """A job chooses the facilities to counter-verify within ``budget`` visits: the
        latest approved audit-target model ranks them (the fixed risk rules when none is
        approved), ``random_share`` of the visits (default 20 %) are drawn at random so
        every facility has a non-zero inclusion probability, and each choice says why."""
        authorize(principal, Permission.PBF_MANAGE)
        programme = await _programme(uow, code)
        share = Fraction(data.random_share)
        if not 0 < share <= 1:
            raise ValidationFailed(
                [
                    FieldError(
                        "random_share",
                        Message(
                            N_("The random share must be above 0 and at most 1, got {share}."),
                            {"share": data.random_share},
                        ),
                    )
                ]
            )
        model = await uow.pbf_intelligence.latest_approved(programme.id, AUDIT_KIND)
        scope = scope_of(principal)
        key = _key(
            "plan",
            programme.id,
            period,
            model.id if model else "rules",
            data.budget,
            share,
            data.indicators_per_visit,
            scope,
        )
        run = await _request(
            uow,
            principal,
            programme,
            kind="plan",
            job=PLAN_JOB,
            key=key,
            parameters={
                "budget": data.budget,
                "random_share": str(share),
                "indicators_per_visit": data.indicators_per_visit,
                "seed": int(key[:8], 16),
            },
            period=period,
            model_id=model.id if model else None,
        )
        return PbfRunRead.of(run, request_translator(request))

    @get(
        "/sampling-plans/{run_id:uuid}",
        operation_id="pbf_intelligence_plan",
        summary="Read a sampling plan",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def read_plan(
        self,
        run_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        request: Request[Any, Any, Any],
    ) -> PbfPlanRead:
        """The facilities of the caller's sub-trees in the plan's frame, by rank, with their
        inclusion probability (an exact fraction), whether they are selected, what to check
        and why; the plan's review state (``proposed``, ``approved``) and its targets."""
        authorize(principal, Permission.PBF_READ)
        run = await _run(uow, run_id, "plan")
        scope = scope_of(principal)
        units = await uow.pbf_intelligence.plan_units(run.id, scope)
        targets = await uow.pbf_intelligence.plan_targets(run.id, scope)
        translate = request_translator(request)
        frame = [PbfPlanUnitRead.of(u, translate) for u in units]
        return PbfPlanRead(
            PbfRunRead.of(run, translate),
            [u for u in frame if u.selected],
            frame,
            run.plan_state,
            run.approved_by,
            run.approved_at,
            [PbfPlanTargetRead.of(t) for t in targets],
        )

    @put(
        "/facility-profiles/{org_unit_id:uuid}",
        operation_id="pbf_intelligence_set_profile",
        summary="Set a facility's level and catchment population",
        opt={PERMISSION: Permission.PBF_MANAGE},
    )
    async def set_profile(
        self,
        org_unit_id: FromPath[UUID],
        data: JSONBody[PbfProfileIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> PbfProfileRead:
        """Peers are compared within one level and volumes per 1,000 inhabitants: without
        a profile a facility counts as a health centre of 10,000 inhabitants."""
        unit = await uow.orgunits.get(org_unit_id)
        if unit is None:
            raise NotFound(
                Message(N_("Organisation unit {id} not found."), {"id": str(org_unit_id)})
            )
        authorize(principal, Permission.PBF_MANAGE, unit.path)
        row = await uow.pbf_intelligence.set_profile(
            org_unit_id, unit.path, data.level, data.catchment_population
        )
        await uow.audit.record(
            AuditRecord("pbf_intelligence.profile.set", "org_unit", str(org_unit_id))
        )
        return PbfProfileRead(row.org_unit_id, row.level, row.catchment_population)


CONTROLLERS = [PbfIntelligenceController, PbfPlanReviewController]
