"""Bodies of the DHIS2 sync routes: push runs, ledger, pulls, alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from afiya.domain.dhis2.payloads import ImportStrategy
from afiya.domain.dhis2.sync_model import (
    Alert,
    ChunkTotals,
    LedgerEntry,
    LedgerState,
    PlanReport,
    PulledValue,
    PullRun,
    PushChunk,
    PushRun,
    RunStatus,
)

PeriodId = Annotated[str, msgspec.Meta(min_length=4, max_length=20)]


class PushCreate(msgspec.Struct, forbid_unknown_fields=True):
    start: date | None = None
    end: date | None = None
    mapping_ids: list[UUID] = msgspec.field(default_factory=list)
    retry_only: bool = False
    dry_run: bool = False
    import_strategy: ImportStrategy = ImportStrategy.CREATE_AND_UPDATE
    id_scheme: Annotated[str, msgspec.Meta(max_length=8)] = "UID"
    chunk_size: int | None = None
    concurrency: int | None = None
    async_import: bool = False


class Totals(msgspec.Struct):
    imported: int
    updated: int
    ignored: int
    deleted: int
    conflicts: int

    @classmethod
    def of(cls, t: ChunkTotals) -> Totals:
        return cls(t.imported, t.updated, t.ignored, t.deleted, t.conflicts)


class PlanRead(msgspec.Struct):
    planned: int
    unchanged: int
    blocked: int
    waiting: int
    unmatched_units: int
    wrong_period_type: int

    @classmethod
    def of(cls, p: PlanReport) -> PlanRead:
        return cls(**{f: getattr(p, f) for f in cls.__struct_fields__})


class ChunkRead(msgspec.Struct):
    chunk_no: int
    status: str
    size: int
    attempts: int
    totals: Totals
    conflicts: list[dict[str, Any]]
    last_error: str | None
    sent_at: datetime | None
    done_at: datetime | None

    @classmethod
    def of(cls, c: PushChunk) -> ChunkRead:
        return cls(
            chunk_no=c.chunk_no,
            status=c.status.value,
            size=c.size,
            attempts=c.attempts,
            totals=Totals.of(c.totals),
            conflicts=[dict(x) for x in c.conflicts],
            last_error=c.last_error,
            sent_at=c.sent_at,
            done_at=c.done_at,
        )


class PushRunRead(msgspec.Struct):
    id: UUID
    connection_id: UUID
    status: RunStatus
    dry_run: bool
    import_strategy: ImportStrategy
    id_scheme: str
    chunk_size: int
    concurrency: int
    start: date | None
    end: date | None
    retry_only: bool
    plan: PlanRead
    total_values: int
    total_chunks: int
    chunks_done: int
    totals: Totals
    error: str | None
    resumes: int
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    chunks: list[ChunkRead] | None = None

    @classmethod
    def of(cls, r: PushRun, chunks: list[PushChunk] | None = None) -> PushRunRead:
        o, s = r.options, r.selection
        return cls(
            id=r.id,
            connection_id=r.connection_id,
            status=r.status,
            dry_run=o.dry_run,
            import_strategy=o.import_strategy,
            id_scheme=o.id_scheme,
            chunk_size=o.chunk_size,
            concurrency=o.concurrency,
            start=s.start,
            end=s.end,
            retry_only=s.retry_only,
            plan=PlanRead.of(r.plan),
            total_values=r.total_values,
            total_chunks=r.total_chunks,
            chunks_done=r.chunks_done,
            totals=Totals.of(r.totals),
            error=r.error,
            resumes=r.resumes,
            created_at=r.created_at,
            started_at=r.started_at,
            finished_at=r.finished_at,
            chunks=None if chunks is None else [ChunkRead.of(c) for c in chunks],
        )


class LedgerItem(msgspec.Struct):
    id: UUID
    data_element: str
    period: str
    org_unit: str
    category_option_combo: str | None
    attribute_option_combo: str | None
    value: str | None
    comment: str | None
    state: LedgerState
    run_id: UUID | None
    chunk_no: int | None
    attempts: int
    conflict_code: str | None
    conflict_kind: str | None
    conflict_text: str | None
    retry_on: date | None
    paid_at: datetime | None
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    settled_at: datetime | None
    response: dict[str, Any]

    @classmethod
    def of(cls, e: LedgerEntry) -> LedgerItem:
        v = e.value
        return cls(
            id=e.id,
            data_element=v.data_element,
            period=v.period,
            org_unit=v.org_unit,
            category_option_combo=v.category_option_combo,
            attribute_option_combo=v.attribute_option_combo,
            value=v.value,
            comment=v.comment,
            state=e.state,
            run_id=e.run_id,
            chunk_no=e.chunk_no,
            attempts=e.attempts,
            conflict_code=e.conflict_code,
            conflict_kind=e.conflict_kind,
            conflict_text=e.conflict_text,
            retry_on=e.retry_on,
            paid_at=e.paid_at,
            first_sent_at=e.first_sent_at,
            last_sent_at=e.last_sent_at,
            settled_at=e.settled_at,
            response=dict(e.response),
        )


class PullCreate(msgspec.Struct, forbid_unknown_fields=True):
    data_set: Annotated[str, msgspec.Meta(max_length=11)]
    org_unit: Annotated[str, msgspec.Meta(max_length=11)]
    children: bool = True
    periods: Annotated[list[PeriodId], msgspec.Meta(max_length=1000)] = msgspec.field(
        default_factory=list
    )
    start: date | None = None
    end: date | None = None
    include_deleted: bool = False


class PullRunRead(msgspec.Struct):
    id: UUID
    connection_id: UUID
    status: RunStatus
    data_set: str
    org_unit: str
    periods: list[str]
    start: date | None
    end: date | None
    received: int
    alerts: int
    error: str | None
    created_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, r: PullRun) -> PullRunRead:
        q = r.request
        return cls(
            id=r.id,
            connection_id=r.connection_id,
            status=r.status,
            data_set=q.data_set,
            org_unit=q.org_unit,
            periods=list(q.periods),
            start=q.start,
            end=q.end,
            received=r.received,
            alerts=r.alerts,
            error=r.error,
            created_at=r.created_at,
            finished_at=r.finished_at,
        )


class AlertRead(msgspec.Struct):
    id: UUID
    connection_id: UUID
    kind: str
    value_key: str
    expected: str | None
    found: str | None
    dhis2_last_updated: str | None
    paid_at: datetime | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @classmethod
    def of(cls, a: Alert) -> AlertRead:
        return cls(**{f: getattr(a, f) for f in cls.__struct_fields__})


class PulledValueItem(msgspec.Struct):
    """A value as DHIS2 held it at the last pull; ``cursor`` pages go by ``id``."""

    id: int
    pull_id: UUID
    data_element: str
    period: str
    org_unit: str
    afiya_unit_id: UUID | None
    category_option_combo: str | None
    attribute_option_combo: str | None
    value: str | None
    comment: str | None
    stored_by: str | None
    last_updated: str | None
    deleted: bool
    pulled_at: datetime

    @classmethod
    def of(cls, p: PulledValue) -> PulledValueItem:
        v = p.value
        return cls(
            id=p.id,
            pull_id=p.pull_id,
            data_element=v.data_element,
            period=v.period,
            org_unit=v.org_unit,
            afiya_unit_id=p.afiya_unit_id,
            category_option_combo=v.category_option_combo,
            attribute_option_combo=v.attribute_option_combo,
            value=v.value,
            comment=v.comment,
            stored_by=v.stored_by,
            last_updated=v.last_updated,
            deleted=v.deleted,
            pulled_at=p.pulled_at,
        )
