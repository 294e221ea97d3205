"""PBF intelligence jobs: train the models, score a period, draw a counter-verification plan.

Each handler takes the id of a run that the API wrote (with the requester's scope and
parameters), reads the PBF tables through the repository, hands the CPU work to a child
process (:func:`afiya.adapters.ml.tasks.run_isolated`: LightGBM is never imported by the
process that runs the job loop, nor by the API) and stores the outcome in the job's own
transaction. Idempotent: a run that is no longer ``pending`` is left alone; a model whose
(programme, kind, data hash) is already registered is not trained or stored twice; flags,
plan units and plan targets of a run replace what an interrupted delivery wrote. Blob keys are
derived from the data hash, so a re-delivery overwrites the same object.
"""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

from afiya.adapters.db.models.pbf_intelligence import (
    PbfAnomalyFlagRow,
    PbfIntelligenceRunRow,
    PbfModelRow,
    PbfPlanTargetRow,
    PbfPlanUnitRow,
)
from afiya.adapters.db.repositories.pbf_intelligence import SqlPbfIntelligenceRepository
from afiya.adapters.ml.tasks import (
    MODEL_KINDS,
    PLAN_JOB,
    SCORE_JOB,
    TRAIN_JOB,
    plan_period,
    records_hash,
    run_isolated,
    score_period,
    train_models,
)
from afiya.adapters.queue.runner import Handler, JobContext
from afiya.domain.access.policy import Scope
from afiya.domain.audit.model import AuditRecord
from afiya.domain.pbf_intelligence.errors import InvalidModelArtefact
from afiya.domain.pbf_intelligence.model import SelectionBasis
from afiya.domain.pbf_intelligence.periods import shift_period
from afiya.domain.shared.i18n import N_, Message

log = logging.getLogger("afiya.jobs")

MODEL_CONTENT_TYPE = "application/vnd.afiya.model"
#: Months of history loaded before a scored or planned period (lags, rolling means, gaps).
HISTORY_MONTHS = 24


def jsonable(value: Any) -> Any:
    """Message parameters as JSON: exact numbers (Decimal, Fraction) become strings."""
    if isinstance(value, Decimal | Fraction):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def stored_message(message: Message) -> dict[str, Any]:
    return {"msgid": message.msgid, "params": jsonable(dict(message.params))}


async def _pending(ctx: JobContext, run_id: str, kind: str) -> PbfIntelligenceRunRow | None:
    run = await ctx.uow.pbf_intelligence.run(UUID(run_id))
    if run is None or run.kind != kind or run.status != "pending":
        return None  # done or failed by an earlier delivery
    return run


def _finish(ctx: JobContext, run: PbfIntelligenceRunRow, *, failed: Message | None = None) -> None:
    run.status = "failed" if failed is not None else "done"
    if failed is not None:
        run.message = stored_message(failed)
    run.finished_at = ctx.uow.clock.now()


async def _audit(ctx: JobContext, action: str, run: PbfIntelligenceRunRow, **details: Any) -> None:
    await ctx.uow.audit.record(
        AuditRecord(action, "pbf_intelligence_run", str(run.id), details=jsonable(details))
    )


async def _history(
    repo: SqlPbfIntelligenceRepository, run: PbfIntelligenceRunRow
) -> tuple[list[Any], dict[str, str]] | Message:
    assert run.period is not None
    data = await repo.training_data(
        run.programme_id,
        shift_period(run.period, -HISTORY_MONTHS),
        run.period,
        Scope(tuple(run.scope_paths)),
    )
    if not any(r.period == run.period for r in data.records):
        return Message(
            N_("No quantity was declared for {period} in your facilities."),
            {"period": run.period},
        )
    return data.records, data.paths


async def train(ctx: JobContext, run_id: str) -> None:
    """Train both models on the run's window and register them as ``trained``."""
    run = await _pending(ctx, run_id, "train")
    if run is None:
        return
    repo = ctx.uow.pbf_intelligence
    assert run.first_period is not None
    assert run.last_period is not None
    data = await repo.training_data(
        run.programme_id, run.first_period, run.last_period, Scope(tuple(run.scope_paths))
    )
    if not data.records:
        _finish(
            ctx,
            run,
            failed=Message(
                N_("No quantity was declared between {first} and {last} in your facilities."),
                {"first": run.first_period, "last": run.last_period},
            ),
        )
        return
    data_hash = records_hash(data.records)
    known = {
        kind: await repo.model_by_hash(run.programme_id, kind, data_hash) for kind in MODEL_KINDS
    }
    models: list[PbfModelRow] = [m for m in known.values() if m is not None]
    refusals: list[dict[str, Any]] = []
    if len(models) < len(MODEL_KINDS):
        trained = await run_isolated(
            train_models,
            data.records,
            first_period=run.first_period,
            last_period=run.last_period,
        )
        for outcome in trained:
            if known.get(outcome.kind) is not None:
                continue
            if outcome.artefact is None or outcome.metadata is None:
                assert outcome.refusal is not None
                refusals.append({"kind": outcome.kind, **stored_message(outcome.refusal)})
                continue
            meta = outcome.metadata
            programme = run.parameters["programme"]
            key = f"pbf_intelligence/models/{programme}/{meta.kind}/{data_hash}.afml"
            blob = await ctx.services.blobs.put(key, outcome.artefact, MODEL_CONTENT_TYPE)
            models.append(
                await repo.add_model(
                    PbfModelRow(
                        programme_id=run.programme_id,
                        kind=meta.kind,
                        model_version=meta.version,
                        state="trained",
                        blob_key=blob.key,
                        blob_sha256=blob.sha256,
                        size=blob.size,
                        scope_path=",".join(run.scope_paths),
                        training_first_period=meta.training_first_period,
                        training_last_period=meta.training_last_period,
                        data_hash=data_hash,
                        rows=len(data.records),
                        library=meta.library,
                        features=list(meta.features),
                        metrics=dict(meta.metrics),
                        trained_run_id=run.id,
                    )
                )
            )
    run.summary = {
        "data_hash": data_hash,
        "records": len(data.records),
        "facilities": len(data.paths),
        "models": [str(m.id) for m in models],
        "refusals": refusals,
    }
    if models:
        _finish(ctx, run)
        if refusals:
            run.message = {k: v for k, v in refusals[0].items() if k != "kind"}
    else:
        _finish(ctx, run, failed=Message(refusals[0]["msgid"], refusals[0]["params"]))
    await _audit(ctx, "pbf_intelligence.train", run, models=run.summary["models"])
    log.info("pbf models trained", extra={"run_id": run_id, "models": len(models)})


async def _artefact(ctx: JobContext, model: PbfModelRow) -> bytes | Message:
    try:
        blob: bytes = await ctx.services.blobs.get(model.blob_key)
    except KeyError:
        return Message(N_("The stored model file is missing from the blob store."))
    if hashlib.sha256(blob).hexdigest() != model.blob_sha256:
        return Message(N_("The stored model is damaged or in an unknown format."))
    return blob


async def score(ctx: JobContext, run_id: str) -> None:
    """Score every declared value of the run's period with the run's approved model."""
    run = await _pending(ctx, run_id, "score")
    if run is None:
        return
    repo = ctx.uow.pbf_intelligence
    model = await repo.model(run.model_id) if run.model_id else None
    if model is None:
        _finish(ctx, run, failed=Message(N_("No approved anomaly model is available.")))
        return
    history = await _history(repo, run)
    if isinstance(history, Message):
        _finish(ctx, run, failed=history)
        return
    artefact = await _artefact(ctx, model)
    if isinstance(artefact, Message):
        _finish(ctx, run, failed=artefact)
        return
    records, paths = history
    assert run.period is not None
    try:
        scores = await run_isolated(score_period, artefact, records, period=run.period)
    except InvalidModelArtefact as refused:  # another format version, a foreign artefact
        _finish(ctx, run, failed=refused.message)
        return
    flagged = [
        PbfAnomalyFlagRow(
            run_id=run.id,
            org_unit_id=UUID(s.facility_id),
            org_unit_path=paths[s.facility_id],
            period=s.period,
            indicator=s.indicator_code,
            declared=s.declared,
            expected=round(s.expected, 3),
            residual=round(s.standardised_residual, 3),
            score=round(s.score, 3),
            reasons=[
                {"code": r.code, "weight": round(r.weight, 3), **stored_message(r.message)}
                for r in s.reasons
            ],
        )
        for s in scores
    ]
    await repo.replace_flags(run.id, flagged)
    run.summary = {
        "values": sum(1 for r in records if r.period == run.period),
        "flagged": len(flagged),
        "model_version": model.model_version,
    }
    _finish(ctx, run)
    await _audit(ctx, "pbf_intelligence.score", run, flagged=len(flagged))


async def plan(ctx: JobContext, run_id: str) -> None:
    """Draw the run's counter-verification plan: approved audit model, else fixed rules."""
    run = await _pending(ctx, run_id, "plan")
    if run is None:
        return
    repo = ctx.uow.pbf_intelligence
    history = await _history(repo, run)
    if isinstance(history, Message):
        _finish(ctx, run, failed=history)
        return
    records, paths = history
    model = await repo.model(run.model_id) if run.model_id else None
    artefact: bytes | None = None
    if model is not None:
        loaded = await _artefact(ctx, model)
        if isinstance(loaded, Message):
            _finish(ctx, run, failed=loaded)
            return
        artefact = loaded
    params = run.parameters
    assert run.period is not None
    arguments: dict[str, Any] = {
        "period": run.period,
        "budget": int(params["budget"]),
        "random_share": Fraction(params["random_share"]),
        "seed": int(params["seed"]),
        "indicators_per_visit": int(params["indicators_per_visit"]),
    }
    if artefact is None:  # the fixed rules are plain Python: no child process needed
        outcome = plan_period(None, records, **arguments)
    else:
        try:
            outcome = await run_isolated(plan_period, artefact, records, **arguments)
        except InvalidModelArtefact as refused:
            _finish(ctx, run, failed=refused.message)
            return
    sampling = outcome.plan
    chosen = {s.facility_id: s for s in sampling.selections}
    units = []
    for inclusion in sampling.inclusions:
        selection = chosen.get(inclusion.facility_id)
        units.append(
            PbfPlanUnitRow(
                run_id=run.id,
                org_unit_id=UUID(inclusion.facility_id),
                org_unit_path=paths[inclusion.facility_id],
                rank=inclusion.rank,
                selected=inclusion.selected,
                basis=selection.basis.value if selection else None,
                inclusion_probability=str(inclusion.inclusion_probability),
                expected_recovery=selection.expected_recovery if selection else Decimal(0),
                indicators=list(selection.indicators) if selection else [],
                reason=stored_message(selection.reason) if selection else None,
            )
        )
    await repo.replace_plan_units(run.id, units)
    await repo.replace_plan_targets(
        run.id,
        (
            PbfPlanTargetRow(
                run_id=run.id,
                org_unit_id=unit.org_unit_id,
                org_unit_path=unit.org_unit_path,
                period=run.period,
                indicator=indicator,
                package=indicator.split(".", 1)[0],
                activity=indicator.split(".", 1)[1],
                origin="plan",
                state="proposed",
            )
            for unit in units
            if unit.selected
            for indicator in unit.indicators
        ),
    )
    run.plan_state = "proposed"  # a manager reviews, then approves it (frozen)
    run.method = outcome.method.value
    if outcome.fallback_reason is not None:
        run.message = stored_message(outcome.fallback_reason)
    run.summary = {
        "budget": sampling.budget,
        "visits": sampling.visits,
        "n_ranked": sampling.n_ranked,
        "n_random": sampling.n_random,
        "random_pool_size": sampling.random_pool_size,
        "random_share": str(sampling.random_share),
        "frame": len(sampling.inclusions),
        "drawn_at_random": sum(
            1 for s in sampling.selections if s.basis is SelectionBasis.RANDOM_DRAW
        ),
        "model_version": outcome.model.version if outcome.model else None,
    }
    _finish(ctx, run)
    await _audit(ctx, "pbf_intelligence.plan", run, visits=sampling.visits)


HANDLERS: dict[str, Handler] = {TRAIN_JOB: train, SCORE_JOB: score, PLAN_JOB: plan}
