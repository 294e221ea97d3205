"""Use cases: push figures to DHIS2 through the sync ledger, chunk by chunk.

A push is a run: :func:`request_push` records it and schedules its planning;
:func:`plan_push` writes a ledger entry for each value that must travel and cuts them
into numbered chunks; :func:`send_chunk` posts one chunk and records what DHIS2 did with
each value. Each step is a job of the platform outbox, so every step commits with its
effects: a run stopped by a crash or a network failure resumes at its first chunk not
done, and values DHIS2 already holds are never sent twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.dhis2.connections import load_connection
from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.payloads import DataValue, content_hash
from afiya.domain.dhis2.sync_model import (
    ACCEPTED,
    ACTIVE_RUN,
    Connection,
    FigureQuery,
    LedgerEntry,
    LedgerState,
    PlanReport,
    PushOptions,
    PushRun,
    PushSelection,
    RunStatus,
    value_key,
)
from afiya.domain.dhis2.sync_ports import (
    ConnectionRepository,
    FigureSource,
    Ledger,
    MappingRepository,
    MetadataStore,
    PlanCheckpoint,
    RunStore,
)
from afiya.domain.dhis2.sync_rules import (
    Decision,
    decide,
    period_of_type,
)
from afiya.domain.dhis2.validation import validate_push
from afiya.domain.platform.jobs import JobRequest, JobScheduler
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

PLAN_JOB = "dhis2.plan_push"
CHUNK_JOB = "dhis2.push_chunk"
RETRY_JOB = "dhis2.retry_conflicts"
BATCH = 1000
SLICE = 10_000  # values planned between two checkpoints (commits, on SQLite)


async def start_push(
    connection: Connection,
    options: PushOptions,
    selection: PushSelection,
    *,
    runs: RunStore,
    jobs: JobScheduler,
    clock: Clock,
) -> PushRun:
    """Record a run and schedule its planning (no permission check: jobs call it too).

    Rules: one run at a time per connection (a second is refused while one plans or
    runs); failed runs are abandoned, their unsent values going to the new run.
    """
    if not connection.settings.active:
        raise Conflict(
            Message(N_("This DHIS2 connection is switched off.")), code="dhis2_connection_inactive"
        )
    errors = validate_push(options, selection)
    if errors:
        raise ValidationFailed(errors)
    await runs.lock_connection(connection.id)
    if await runs.runs(connection.id, statuses=[s.value for s in ACTIVE_RUN]):
        raise Conflict(
            Message(N_("A push to this DHIS2 connection is already under way.")),
            code="dhis2_push_running",
        )
    now = clock.now()
    for failed in await runs.runs(connection.id, statuses=[RunStatus.FAILED.value]):
        await runs.update_run(dataclasses.replace(failed, status=RunStatus.ABANDONED))
    run = PushRun(uuid7(), connection.id, RunStatus.PLANNING, options, selection, created_at=now)
    await runs.add_run(run)
    await jobs.schedule(JobRequest(PLAN_JOB, {"run_id": str(run.id)}, f"{PLAN_JOB}:{run.id}"))
    return run


async def request_push(
    connection_id: UUID,
    options: PushOptions,
    selection: PushSelection,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    runs: RunStore,
    jobs: JobScheduler,
    audit: AuditLog,
    clock: Clock,
) -> PushRun:
    """Ask for a push of the mapped figures of a date range (or of due retries)."""
    authorize(principal, Permission.DHIS2_MANAGE)
    connection = await load_connection(connection_id, connections)
    run = await start_push(connection, options, selection, runs=runs, jobs=jobs, clock=clock)
    await audit.record(
        AuditRecord(
            "dhis2.push.request",
            "dhis2_push_run",
            str(run.id),
            details={"dry_run": options.dry_run, "connection": str(connection_id)},
        )
    )
    return run


async def _candidates(
    run: PushRun,
    *,
    mappings: MappingRepository,
    metadata: MetadataStore,
    ledger: Ledger,
    sources: Mapping[str, FigureSource],
    report: dict[str, int],
    today: datetime,
) -> AsyncIterator[tuple[DataValue, datetime | None]]:
    """The values a run considers, with the time their figure was paid."""
    cid, selection = run.connection_id, run.selection
    if selection.retry_only:
        async for entry in ledger.due_retries(cid, today.date()):
            yield entry.value, entry.paid_at
        return
    unit_map = await metadata.unit_map(cid)
    default = await metadata.default_combo(cid)
    chosen = [
        m
        for m in await mappings.for_connection(cid, active_only=True)
        if not selection.mapping_ids or m.id in selection.mapping_ids
    ]
    if selection.start is None or selection.end is None:
        return
    for mapping in chosen:
        s = mapping.settings
        source = sources.get(s.source)
        if source is None:
            report["unknown_source"] = report.get("unknown_source", 0) + 1
            continue
        query = FigureQuery((s.figure,), selection.start, selection.end)
        async for figure in source.figures(query):
            period = period_of_type(figure.period, s.period_type)
            if period is None:
                report["wrong_period_type"] += 1
                continue
            org_unit = unit_map.get(figure.org_unit_id)
            if org_unit is None:
                report["unmatched_units"] += 1
                continue
            value = DataValue(
                data_element=s.data_element,
                period=period.id,
                org_unit=org_unit,
                category_option_combo=s.category_option_combo or default,
                attribute_option_combo=s.attribute_option_combo or default,
                value=figure.value,
                comment=figure.comment,
            )
            yield value, figure.paid_at


async def plan_push(
    run_id: UUID,
    *,
    runs: RunStore,
    mappings: MappingRepository,
    metadata: MetadataStore,
    ledger: Ledger,
    sources: Mapping[str, FigureSource],
    jobs: JobScheduler,
    clock: Clock,
    checkpoint: PlanCheckpoint | None = None,
    slice_size: int = SLICE,
) -> PushRun | None:
    """Decide what the run sends and cut it into chunks; idempotent.

    Rules (see :func:`decide`): a new or changed value gets a new ledger entry (the
    previous one is superseded); an unchanged value DHIS2 settled is skipped (its paid
    time is still recorded); blocked or not-yet-due conflicts wait. Figures whose unit
    has no DHIS2 match, or whose period is not of the mapping's type, are counted, not sent.

    With a ``checkpoint`` (SQLite, where a transaction holds the database's only write
    lock) what is planned is committed every ``slice_size`` values, so other writers get
    in between slices. A plan stopped part-way (a crash, a failed job) starts again from
    the first figure and keeps what was committed: values already placed in this run keep
    their chunk and are not placed twice; the run stays ``planning`` until the end.
    """
    found = await runs.get_run(run_id)
    if found is None or found.status is not RunStatus.PLANNING:
        return found
    run = found
    now = clock.now()
    today = now.date()
    report = {"wrong_period_type": 0, "unmatched_units": 0}
    decisions = {d: 0 for d in Decision}
    resumed_from = position = await ledger.count_placed(run.id)
    since_checkpoint = 0
    size = run.options.chunk_size
    batch: list[tuple[DataValue, datetime | None]] = []

    async def flush() -> None:
        nonlocal position, since_checkpoint
        since_checkpoint += len(batch)
        current = await ledger.current(run.connection_id, [value_key(v) for v, _ in batch])
        new: list[LedgerEntry] = []
        superseded, paid, placed = [], [], []
        for value, paid_at in batch:
            entry = current.get(value_key(value))
            decision = decide(entry, value, today)
            decisions[decision] += 1
            if decision is Decision.SEND:
                if entry is not None:
                    superseded.append(entry.id)
                fresh = LedgerEntry(
                    id=uuid7(),
                    connection_id=run.connection_id,
                    value=value,
                    content_hash=content_hash(value),
                    state=LedgerState.PENDING,
                    paid_at=paid_at,
                    replaces_accepted=entry is not None
                    and (entry.state in ACCEPTED or entry.replaces_accepted),
                    created_at=now,
                    updated_at=now,
                )
                new.append(fresh)
                target = fresh.id
            else:
                assert entry is not None
                if paid_at is not None and paid_at != entry.paid_at:
                    paid.append((entry.id, paid_at))
                if decision is not Decision.RESEND or entry.run_id == run.id:
                    continue  # nothing to send, or placed by an earlier slice of this plan
                target = entry.id
            placed.append((target, position // size + 1))
            position += 1
        await ledger.supersede(superseded)
        await ledger.add_many(new)
        await ledger.set_paid(paid)
        await ledger.assign(run.id, placed)
        batch.clear()
        if checkpoint is not None and since_checkpoint >= slice_size:
            await checkpoint()
            since_checkpoint = 0

    async for item in _candidates(
        run,
        mappings=mappings,
        metadata=metadata,
        ledger=ledger,
        sources=sources,
        report=report,
        today=now,
    ):
        batch.append(item)
        if len(batch) >= BATCH:
            await flush()
    if batch:
        await flush()
    chunk_count = -(-position // size)
    sizes = [min(size, position - i * size) for i in range(chunk_count)]
    if resumed_from:  # an entry placed before the stop may have been superseded since
        counted = await ledger.chunk_sizes(run.id)
        sizes = [counted.get(n, 0) for n in range(1, chunk_count + 1)]
    await runs.add_chunks(run.id, sizes)
    plan = PlanReport(
        planned=position,
        unchanged=decisions[Decision.UNCHANGED],
        blocked=decisions[Decision.BLOCKED],
        waiting=decisions[Decision.WAITING],
        unmatched_units=report["unmatched_units"],
        wrong_period_type=report["wrong_period_type"],
    )
    run = dataclasses.replace(
        run,
        status=RunStatus.RUNNING if chunk_count else RunStatus.DONE,
        plan=plan,
        total_values=position,
        total_chunks=chunk_count,
        started_at=now,
        finished_at=None if chunk_count else now,
    )
    await runs.update_run(run)
    for chunk_no in range(1, min(run.options.concurrency, chunk_count) + 1):
        await schedule_chunk(run, chunk_no, jobs)
    return run


async def schedule_chunk(
    run: PushRun,
    chunk_no: int,
    jobs: JobScheduler,
    *,
    attempt: int = 0,
    after: datetime | None = None,
) -> None:
    key = f"{CHUNK_JOB}:{run.id}:{chunk_no}:{run.resumes}" + (f":a{attempt}" if attempt else "")
    args = {"run_id": str(run.id), "chunk_no": chunk_no}
    await jobs.schedule(JobRequest(CHUNK_JOB, args, key, run_after=after))


async def _translate(
    values: list[DataValue], run: PushRun, metadata: MetadataStore
) -> list[DataValue]:
    """Values with codes instead of uids, for a run whose id scheme is CODE."""
    if run.options.id_scheme.upper() != "CODE":
        return values
    cid = run.connection_id
    des = await metadata.codes(
        cid, MetadataResource.DATA_ELEMENTS, {v.data_element for v in values}
    )
    ous = await metadata.codes(
        cid, MetadataResource.ORGANISATION_UNITS, {v.org_unit for v in values}
    )
    combos = await metadata.codes(
        cid,
        MetadataResource.CATEGORY_OPTION_COMBOS,
        {c for v in values for c in (v.category_option_combo, v.attribute_option_combo) if c},
    )
    return [
        dataclasses.replace(
            v,
            data_element=des.get(v.data_element, v.data_element),
            org_unit=ous.get(v.org_unit, v.org_unit),
            category_option_combo=combos.get(
                v.category_option_combo or "", v.category_option_combo
            ),
            attribute_option_combo=combos.get(
                v.attribute_option_combo or "", v.attribute_option_combo
            ),
        )
        for v in values
    ]
