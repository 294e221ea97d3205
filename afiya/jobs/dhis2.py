"""DHIS2 jobs: metadata sync, push planning and chunks, conflict retries, pulls, nightly.

Every handler takes ids, runs in the job's own unit of work (its effects commit with its
``done`` mark) and is idempotent: a run already planned is not planned again, a chunk
already done is not sent again. Retries with back-off of a chunk are jobs of their own
(see :func:`afiya.domain.dhis2.push_chunks.send_chunk`), so each attempt is recorded.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from afiya.adapters.db.uow import UnitOfWork
from afiya.adapters.dhis2.connections import gateway_opener
from afiya.adapters.queue.runner import Handler, JobContext
from afiya.domain.access.policy import Principal
from afiya.domain.dhis2.connections import NIGHTLY_JOB, schedule_nightly
from afiya.domain.dhis2.errors import Dhis2Error
from afiya.domain.dhis2.metadata_sync import sync_metadata
from afiya.domain.dhis2.pull import run_pull
from afiya.domain.dhis2.push import plan_push
from afiya.domain.dhis2.push_chunks import retry_conflicts, send_chunk
from afiya.domain.dhis2.sync_ports import PlanCheckpoint

log = logging.getLogger("afiya.jobs")

# Jobs act for the deployment; the API checked the requesting user's permission.
SYSTEM = Principal(
    user_id=UUID(int=0),
    username="system:dhis2",
    roles=frozenset({"system_admin"}),
    unit_paths=("/",),
)


async def sync_metadata_job(
    ctx: JobContext, connection_id: str, full: bool = False, update_afiya_units: bool = False
) -> None:
    repos = ctx.uow.dhis2
    await sync_metadata(
        UUID(connection_id),
        full=full,
        update_afiya_units=update_afiya_units,
        principal=SYSTEM,
        connections=repos.connections,
        metadata=repos.metadata,
        units=ctx.uow.orgunits,
        gateways=gateway_opener(ctx.services),
        audit=ctx.uow.audit,
        clock=ctx.uow.clock,
    )


def plan_checkpoint(uow: UnitOfWork) -> PlanCheckpoint | None:
    """How a push plan makes its slices durable.

    SQLite: a writing transaction holds the only write lock of the database, so each
    slice is committed in the job's own transaction (the job is not marked done by it)
    and other writers get in between slices; a stopped plan resumes from what was
    committed. PostgreSQL: no checkpoint, the plan is one transaction (row locks only).
    """
    if uow.session.get_bind().dialect.name != "sqlite":
        return None

    async def commit() -> None:
        await uow.session.commit()

    return commit


async def plan_push_job(ctx: JobContext, run_id: str) -> None:
    repos = ctx.uow.dhis2
    await plan_push(
        UUID(run_id),
        runs=repos.runs,
        mappings=repos.mappings,
        metadata=repos.metadata,
        ledger=repos.ledger,
        sources=repos.sources,
        jobs=ctx.uow.jobs,
        clock=ctx.uow.clock,
        checkpoint=plan_checkpoint(ctx.uow),
    )


async def push_chunk_job(ctx: JobContext, run_id: str, chunk_no: int) -> None:
    repos = ctx.uow.dhis2
    await send_chunk(
        UUID(run_id),
        int(chunk_no),
        runs=repos.runs,
        connections=repos.connections,
        ledger=repos.ledger,
        metadata=repos.metadata,
        gateways=gateway_opener(ctx.services),
        jobs=ctx.uow.jobs,
        clock=ctx.uow.clock,
    )


async def retry_conflicts_job(ctx: JobContext, connection_id: str) -> None:
    repos = ctx.uow.dhis2
    await retry_conflicts(
        UUID(connection_id),
        connections=repos.connections,
        runs=repos.runs,
        jobs=ctx.uow.jobs,
        clock=ctx.uow.clock,
    )


async def pull_job(ctx: JobContext, pull_id: str) -> None:
    repos = ctx.uow.dhis2
    await run_pull(
        UUID(pull_id),
        runs=repos.runs,
        connections=repos.connections,
        ledger=repos.ledger,
        alerts=repos.alerts,
        gateways=gateway_opener(ctx.services),
        clock=ctx.uow.clock,
    )


async def nightly_job(ctx: JobContext, connection_id: str) -> None:
    """Incremental metadata sync, then a run of due conflict retries; then tomorrow's.

    A deleted connection ends the chain; a switched-off one keeps it without working.
    """
    cid = UUID(connection_id)
    connection = await ctx.uow.dhis2.connections.get(cid)
    if connection is None:
        return
    if connection.settings.active:
        try:
            await sync_metadata_job(ctx, connection_id)
        except Dhis2Error as exc:  # tomorrow is another night; the retries still run
            log.warning("dhis2 nightly metadata sync failed", extra={"error": exc.code})
        await retry_conflicts_job(ctx, connection_id)
    await schedule_nightly(ctx.uow.jobs, cid, ctx.uow.clock.now() + timedelta(minutes=1))


HANDLERS: dict[str, Handler] = {
    "dhis2.sync_metadata": sync_metadata_job,
    "dhis2.plan_push": plan_push_job,
    "dhis2.push_chunk": push_chunk_job,
    "dhis2.retry_conflicts": retry_conflicts_job,
    "dhis2.pull": pull_job,
    NIGHTLY_JOB: nightly_job,
}
