"""Use cases: send one chunk of a push run, resume a failed run, retry due conflicts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.dhis2.errors import Dhis2Error, Dhis2Unavailable
from afiya.domain.dhis2.import_summary import ImportSummary
from afiya.domain.dhis2.push import (
    RETRY_JOB,
    _translate,
    schedule_chunk,
    start_push,
)
from afiya.domain.dhis2.sync_model import (
    ChunkStatus,
    ChunkTotals,
    LedgerEntry,
    LedgerState,
    PushChunk,
    PushOptions,
    PushRun,
    PushSelection,
    RunStatus,
)
from afiya.domain.dhis2.sync_ports import (
    ConnectionRepository,
    GatewayOpener,
    Ledger,
    LedgerUpdate,
    MetadataStore,
    RunStore,
)
from afiya.domain.dhis2.sync_rules import (
    MAX_ATTEMPTS,
    backoff_seconds,
    classify_chunk,
    conflict_json,
)
from afiya.domain.platform.jobs import JobRequest, JobScheduler
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, NotFound
from afiya.domain.shared.i18n import N_, Message


def _outcomes(
    summary: ImportSummary,
    entries: list[LedgerEntry],
    *,
    today: datetime,
    open_future: dict[str, int],
) -> list[LedgerUpdate]:
    counts = summary.import_count
    previously = [e.replaces_accepted for e in entries]
    # DHIS2 counts imports and updates per chunk: when it names only one kind, trust it.
    if counts.updated == 0:
        previously = [False] * len(entries)
    elif counts.imported == 0:
        previously = [True] * len(entries)
    outcomes = classify_chunk(
        summary,
        [e.value for e in entries],
        previously,
        today=today.date(),
        open_future_periods=open_future.get,
    )
    return [
        LedgerUpdate(
            entry.id,
            outcome.state,
            conflict_code=(outcome.conflict.rule.code or None) if outcome.conflict else None,
            conflict_kind=outcome.conflict.kind.value if outcome.conflict else None,
            conflict_text=outcome.conflict.value[:1000] if outcome.conflict else None,
            retry_on=outcome.retry_on,
        )
        for entry, outcome in zip(entries, outcomes, strict=True)
    ]


async def send_chunk(
    run_id: UUID,
    chunk_no: int,
    *,
    runs: RunStore,
    connections: ConnectionRepository,
    ledger: Ledger,
    metadata: MetadataStore,
    gateways: GatewayOpener,
    jobs: JobScheduler,
    clock: Clock,
) -> PushChunk | None:
    """Post one chunk and record what DHIS2 did with each of its values; idempotent.

    Rules: a chunk already done is not sent again; a network failure or a busy server
    (retriable) schedules the same chunk again with back-off and marks its values
    ``sent`` (their fate is unknown until the next answer); after the last attempt, or
    on an error a person must fix (credentials, rejected request), the chunk and the run
    fail and wait for :func:`resume_run`. A dry run records counts and conflicts on the
    chunk only. When the last chunk is done, a retry of retriable conflicts is scheduled
    for the day the earliest of them may be accepted.
    """
    run = await runs.get_run(run_id)
    chunk = await runs.chunk(run_id, chunk_no)
    if run is None or chunk is None or run.status is not RunStatus.RUNNING:
        return chunk
    if chunk.status is ChunkStatus.DONE:
        await _next(run, chunk_no, jobs)
        return chunk
    if chunk.status is ChunkStatus.FAILED:
        return chunk
    connection = await connections.get(run.connection_id)
    if connection is None:
        raise NotFound(
            Message(N_("DHIS2 connection not found.")), code="dhis2_connection_not_found"
        )
    entries = await ledger.chunk_entries(run_id, chunk_no)
    ids = [e.id for e in entries]
    values = await _translate([e.value for e in entries], run, metadata)
    options = run.options
    now = clock.now()
    attempts = chunk.attempts + 1
    try:
        async with gateways.open(connection, await connections.secret(connection.id)) as gateway:
            summary = await gateway.push_data_values(
                values,
                dry_run=options.dry_run,
                import_strategy=options.import_strategy,
                id_scheme=None if options.id_scheme.upper() == "UID" else options.id_scheme,
                async_=options.async_import,
            )
    except Dhis2Error as exc:
        text = exc.message.render()[:2000]
        if exc.retriable and not options.dry_run:
            await ledger.record_attempt(ids, now, LedgerState.SENT)
        if exc.retriable and attempts < MAX_ATTEMPTS:
            await runs.update_chunk(
                chunk, status=ChunkStatus.PENDING, attempts=attempts, last_error=text, sent_at=now
            )
            hint = exc.retry_after_seconds if isinstance(exc, Dhis2Unavailable) else None
            delay = backoff_seconds(attempts, connection.settings.retry_delay_seconds, hint)
            after = now + timedelta(seconds=delay) if delay else None
            await schedule_chunk(run, chunk_no, jobs, attempt=attempts, after=after)
            return chunk
        await runs.update_chunk(
            chunk, status=ChunkStatus.FAILED, attempts=attempts, last_error=text, sent_at=now
        )
        await runs.update_run(
            dataclasses.replace(run, status=RunStatus.FAILED, error=text, finished_at=now)
        )
        return chunk
    updates = _outcomes(
        summary,
        entries,
        today=now,
        open_future=await metadata.open_future_periods(run.connection_id),
    )
    if not options.dry_run:
        response = {
            "run": str(run.id),
            "chunk": chunk_no,
            "status": summary.status.value,
            "http": summary.http_status_code,
        }
        await ledger.record_outcomes(updates, response, now)
    count = summary.import_count
    totals = ChunkTotals(
        imported=count.imported,
        updated=count.updated,
        ignored=count.ignored,
        deleted=count.deleted,
        conflicts=sum(1 for u in updates if u.state is LedgerState.CONFLICT),
    )
    await runs.update_chunk(
        chunk,
        status=ChunkStatus.DONE,
        attempts=attempts,
        totals=totals,
        conflicts=[conflict_json(c) for c in summary.conflicts[:100]],
        last_error=chunk.last_error,
        sent_at=now,
        done_at=now,
    )
    await _finish_or_continue(run_id, chunk_no, runs=runs, ledger=ledger, jobs=jobs, now=now)
    return await runs.chunk(run_id, chunk_no)


async def _next(run: PushRun, chunk_no: int, jobs: JobScheduler) -> None:
    following = chunk_no + run.options.concurrency
    if following <= run.total_chunks:
        await schedule_chunk(run, following, jobs)


async def _finish_or_continue(
    run_id: UUID,
    chunk_no: int,
    *,
    runs: RunStore,
    ledger: Ledger,
    jobs: JobScheduler,
    now: datetime,
) -> None:
    # The run row is locked so that two chunks finishing together agree on the last one.
    run = await runs.get_run(run_id, lock=True)
    assert run is not None
    if await runs.chunks(run_id, status=ChunkStatus.PENDING) or await runs.chunks(
        run_id, status=ChunkStatus.FAILED
    ):
        await _next(run, chunk_no, jobs)
        return
    await runs.update_run(dataclasses.replace(run, status=RunStatus.DONE, finished_at=now))
    if run.options.dry_run:
        return
    earliest = await ledger.earliest_retry(run_id)
    if earliest is not None:
        when = datetime.combine(earliest, time(0, 5), tzinfo=UTC)
        await jobs.schedule(
            JobRequest(
                RETRY_JOB,
                {"connection_id": str(run.connection_id)},
                f"{RETRY_JOB}:{run.connection_id}:{earliest.isoformat()}",
                run_after=when,
            )
        )


async def resume_run(
    run_id: UUID,
    *,
    principal: Principal,
    runs: RunStore,
    jobs: JobScheduler,
    audit: AuditLog,
) -> PushRun:
    """Restart a failed run at its first chunk not done; done chunks are not resent."""
    authorize(principal, Permission.DHIS2_MANAGE)
    run = await runs.get_run(run_id, lock=True)
    if run is None:
        raise NotFound(Message(N_("Push run not found.")), code="dhis2_run_not_found")
    if run.status is not RunStatus.FAILED:
        raise Conflict(
            Message(N_("Only a failed run can be resumed.")), code="dhis2_run_not_resumable"
        )
    await runs.reopen_failed_chunks(run_id)
    run = dataclasses.replace(run, status=RunStatus.RUNNING, error=None, resumes=run.resumes + 1)
    await runs.update_run(run)
    pending = await runs.chunks(run_id, status=ChunkStatus.PENDING)
    for chunk in pending[: run.options.concurrency]:
        await schedule_chunk(run, chunk.chunk_no, jobs)
    await audit.record(
        AuditRecord(
            "dhis2.push.resume",
            "dhis2_push_run",
            str(run_id),
            details={"from_chunk": pending[0].chunk_no if pending else None},
        )
    )
    return run


async def retry_conflicts(
    connection_id: UUID,
    *,
    connections: ConnectionRepository,
    runs: RunStore,
    jobs: JobScheduler,
    clock: Clock,
) -> PushRun | None:
    """Start a run of the retriable conflicts whose retry date has come (a job).

    While another run is under way the retry waits an hour and tries again.
    """
    connection = await connections.get(connection_id)
    if connection is None or not connection.settings.active:
        return None
    options = PushOptions(
        chunk_size=connection.settings.chunk_size, concurrency=connection.settings.concurrency
    )
    try:
        return await start_push(
            connection, options, PushSelection(retry_only=True), runs=runs, jobs=jobs, clock=clock
        )
    except Conflict:
        later = clock.now() + timedelta(hours=1)
        await jobs.schedule(
            JobRequest(
                RETRY_JOB,
                {"connection_id": str(connection_id)},
                f"{RETRY_JOB}:{connection_id}:{later.isoformat(timespec='minutes')}",
                run_after=later,
            )
        )
        return None
