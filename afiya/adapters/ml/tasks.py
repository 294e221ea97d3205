"""Model work for the jobs, run in a child process so LightGBM never loads where they run.

The jobs call :func:`run_isolated`, which starts a fresh ``spawn`` process for one piece of
CPU work (train, score a period, plan a period) and stops it afterwards. In the embedded
default the in-process job runner shares the API's process and event loop: isolating
the work keeps LightGBM, numpy's model code and seconds of CPU out of the process that
answers requests; in an ARQ worker it keeps the worker's event loop answering (job
heart-beats, timeouts). Inputs and results are plain picklable values (records, bytes,
domain dataclasses). This module imports nothing heavy at import time. ``spawn`` re-imports
the parent's main script in the child: entry points must guard ``if __name__ ==
"__main__"`` (console scripts, uvicorn and ARQ do).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Any, TypeVar

from afiya.domain.pbf_intelligence.errors import InsufficientHistory
from afiya.domain.pbf_intelligence.model import (
    AnomalyScore,
    DeclarationRecord,
    ModelMetadata,
    PlanOutcome,
)
from afiya.domain.pbf_intelligence.use_cases import plan_counter_verification
from afiya.domain.shared.i18n import Message

T = TypeVar("T")

ANOMALY_KIND = "pbf_anomaly_expected_value"  # afiya.adapters.ml.anomaly.KIND
AUDIT_KIND = "pbf_audit_target"  # afiya.adapters.ml.audit_target.KIND
MODEL_KINDS = (ANOMALY_KIND, AUDIT_KIND)


async def run_isolated(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``func(*args, **kwargs)`` in a fresh child process and return its result."""
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return await loop.run_in_executor(pool, partial(func, *args, **kwargs))


def records_hash(records: Sequence[DeclarationRecord]) -> str:
    """SHA-256 of the training records in a canonical order: same data, same hash."""
    digest = hashlib.sha256()
    for r in sorted(records, key=lambda r: (r.period, r.facility_id, r.indicator_code)):
        digest.update(
            f"{r.facility_id}|{r.district}|{r.level.value}|{r.catchment_population}|"
            f"{r.indicator_code}|{r.period}|{r.declared}|{r.tariff}|{r.verified}|"
            f"{r.validated}|{r.hmis_value}\n".encode()
        )
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """One trained artefact, or why this kind could not be trained."""

    kind: str
    artefact: bytes | None = None
    metadata: ModelMetadata | None = None
    refusal: Message | None = None


def train_models(
    records: Sequence[DeclarationRecord],
    *,
    first_period: str,
    last_period: str,
    parents: dict[str, str] | None = None,
    num_threads: int = 2,
) -> list[TrainedModel]:
    """Train the anomaly and audit-target models on the window (child process).

    A model whose history is too thin is returned with the refusal message, not raised.
    """
    from afiya.adapters.ml.anomaly import train_anomaly_model
    from afiya.adapters.ml.audit_target import train_audit_model
    from afiya.adapters.ml.cube import ProgrammeCube
    from afiya.adapters.ml.features import CubeContext

    parents = parents or {}
    cube = ProgrammeCube.from_records(records)
    first = max(first_period, cube.periods[0])
    last = min(last_period, cube.periods[-1])
    context = CubeContext.build(cube, parents)
    trained: list[TrainedModel] = []
    trainers: tuple[tuple[str, Callable[..., Any]], ...] = (
        (ANOMALY_KIND, train_anomaly_model),
        (AUDIT_KIND, train_audit_model),
    )
    for kind, train in trainers:
        try:
            model = train(
                cube,
                parents=parents,
                first_period=first,
                last_period=last,
                num_threads=num_threads,
                context=context,
            )
        except InsufficientHistory as refused:
            trained.append(TrainedModel(kind, refusal=refused.message))
            continue
        trained.append(TrainedModel(kind, model.to_bytes(), model.metadata))
    return trained


def score_period(
    artefact: bytes, records: Sequence[DeclarationRecord], *, period: str
) -> list[AnomalyScore]:
    """Flagged values of ``period`` with their reasons, highest score first (child process)."""
    from afiya.adapters.ml.anomaly import AnomalyModel, LightGbmAnomalyScorer

    return LightGbmAnomalyScorer(AnomalyModel.from_bytes(artefact)).score(records, period=period)


def plan_period(
    artefact: bytes | None,
    records: Sequence[DeclarationRecord],
    *,
    period: str,
    budget: int,
    random_share: Fraction,
    seed: int,
    indicators_per_visit: int,
) -> PlanOutcome:
    """A counter-verification plan: the approved audit model ranks, else the fixed rules."""
    model = None
    if artefact is not None:
        from afiya.adapters.ml.audit_target import LightGbmAuditModel

        model = LightGbmAuditModel.from_bytes(artefact)
    return plan_counter_verification(
        records,
        period=period,
        budget=budget,
        rng=random.Random(seed),
        model=model,
        random_share=random_share,
        indicators_per_visit=indicators_per_visit,
    )


#: Job names (the handlers are in ``afiya.jobs.pbf_intelligence``).
TRAIN_JOB = "pbf_intelligence.train"
SCORE_JOB = "pbf_intelligence.score"
PLAN_JOB = "pbf_intelligence.plan"
