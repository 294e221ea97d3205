"""SQL stores of the DHIS2 sync: push runs and their chunks, pull runs, pulled values
(written here, read back by :mod:`~afiya.adapters.db.repositories.dhis2_pulled`).

Bulk paths throughout: inserts and updates go as one ``executemany`` per batch, and
lookups by value key as one ``IN`` query per batch of at most a thousand keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.dhis2 import (
    Dhis2ConnectionRow,
    Dhis2PulledValueRow,
    Dhis2PullRunRow,
    Dhis2PushChunkRow,
    Dhis2PushRunRow,
)
from afiya.domain.dhis2.errors import InvalidPeriod
from afiya.domain.dhis2.payloads import DataValue, ImportStrategy
from afiya.domain.dhis2.periods import Period
from afiya.domain.dhis2.sync_model import (
    ChunkStatus,
    ChunkTotals,
    PlanReport,
    PullRequest,
    PullRun,
    PushChunk,
    PushOptions,
    PushRun,
    PushSelection,
    RunStatus,
    value_key,
)


def _days(period_id: str) -> tuple[date | None, date | None]:
    try:
        period = Period.parse(period_id)
    except InvalidPeriod:
        return None, None
    return period.start, period.end


def _options(raw: Mapping[str, Any]) -> PushOptions:
    return PushOptions(
        dry_run=bool(raw.get("dry_run")),
        import_strategy=ImportStrategy(raw.get("import_strategy", "CREATE_AND_UPDATE")),
        id_scheme=str(raw.get("id_scheme", "UID")),
        chunk_size=int(raw.get("chunk_size", 1000)),
        concurrency=int(raw.get("concurrency", 2)),
        async_import=bool(raw.get("async_import")),
    )


def _selection(raw: Mapping[str, Any]) -> PushSelection:
    def day(name: str) -> date | None:
        return date.fromisoformat(raw[name]) if raw.get(name) else None

    return PushSelection(
        start=day("start"),
        end=day("end"),
        mapping_ids=tuple(UUID(m) for m in raw.get("mapping_ids") or ()),
        retry_only=bool(raw.get("retry_only")),
    )


_TOTALS = ("imported", "updated", "ignored", "deleted", "conflicts")
C = Dhis2PushChunkRow


class SqlRunStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _progress(self, run_ids: Iterable[UUID]) -> dict[UUID, tuple[int, ChunkTotals]]:
        done = case((C.status == ChunkStatus.DONE.value, 1), else_=0)
        rows = await self._session.execute(
            select(C.run_id, func.sum(done), *(func.sum(getattr(C, f)) for f in _TOTALS))
            .where(C.run_id.in_(list(run_ids)))
            .group_by(C.run_id)
        )
        return {r[0]: (int(r[1] or 0), ChunkTotals(*(int(x or 0) for x in r[2:]))) for r in rows}

    def _run(self, row: Dhis2PushRunRow, progress: tuple[int, ChunkTotals] | None) -> PushRun:
        done, totals = progress or (0, ChunkTotals())
        return PushRun(
            id=row.id,
            connection_id=row.connection_id,
            status=RunStatus(row.status),
            options=_options(row.options),
            selection=_selection(row.selection),
            plan=PlanReport(**(row.plan or {})),
            total_values=row.total_values,
            total_chunks=row.total_chunks,
            chunks_done=done,
            totals=totals,
            error=row.error,
            resumes=row.resumes,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )

    @staticmethod
    def _columns(run: PushRun) -> dict[str, Any]:
        o, s = run.options, run.selection
        return {
            "connection_id": run.connection_id,
            "status": run.status.value,
            "options": {
                "dry_run": o.dry_run,
                "import_strategy": o.import_strategy.value,
                "id_scheme": o.id_scheme,
                "chunk_size": o.chunk_size,
                "concurrency": o.concurrency,
                "async_import": o.async_import,
            },
            "selection": {
                "start": s.start.isoformat() if s.start else None,
                "end": s.end.isoformat() if s.end else None,
                "mapping_ids": [str(m) for m in s.mapping_ids],
                "retry_only": s.retry_only,
            },
            "plan": {f: getattr(run.plan, f) for f in PlanReport.__dataclass_fields__},
            "total_values": run.total_values,
            "total_chunks": run.total_chunks,
            "resumes": run.resumes,
            "error": run.error,
            "created_at": run.created_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
        }

    async def lock_connection(self, connection_id: UUID) -> None:
        await self._session.execute(
            select(Dhis2ConnectionRow.id)
            .where(Dhis2ConnectionRow.id == connection_id)
            .with_for_update()
        )

    async def add_run(self, run: PushRun) -> None:
        self._session.add(Dhis2PushRunRow(id=run.id, **self._columns(run)))
        await self._session.flush()

    async def get_run(self, run_id: UUID, *, lock: bool = False) -> PushRun | None:
        stmt = select(Dhis2PushRunRow).where(Dhis2PushRunRow.id == run_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        row = (await self._session.execute(stmt)).scalar_one_or_none()
        if row is None:
            return None
        return self._run(row, (await self._progress([run_id])).get(run_id))

    async def update_run(self, run: PushRun) -> None:
        await self._session.execute(
            update(Dhis2PushRunRow).where(Dhis2PushRunRow.id == run.id).values(**self._columns(run))
        )

    async def runs(
        self, connection_id: UUID, *, statuses: Iterable[str] = (), limit: int = 50
    ) -> list[PushRun]:
        stmt = select(Dhis2PushRunRow).where(Dhis2PushRunRow.connection_id == connection_id)
        wanted = list(statuses)
        if wanted:
            stmt = stmt.where(Dhis2PushRunRow.status.in_(wanted))
        rows = (
            (await self._session.execute(stmt.order_by(Dhis2PushRunRow.id.desc()).limit(limit)))
            .scalars()
            .all()
        )
        progress = await self._progress([r.id for r in rows]) if rows else {}
        return [self._run(r, progress.get(r.id)) for r in rows]

    async def add_chunks(self, run_id: UUID, sizes: Sequence[int]) -> None:
        if sizes:
            await self._session.execute(
                insert(C),
                [
                    {
                        "run_id": run_id,
                        "chunk_no": n,
                        "status": ChunkStatus.PENDING.value,
                        "size": size,
                        "attempts": 0,
                        "conflict_list": [],
                        **dict.fromkeys(_TOTALS, 0),
                    }
                    for n, size in enumerate(sizes, start=1)
                ],
            )

    @staticmethod
    def _chunk(row: Dhis2PushChunkRow) -> PushChunk:
        return PushChunk(
            run_id=row.run_id,
            chunk_no=row.chunk_no,
            status=ChunkStatus(row.status),
            size=row.size,
            attempts=row.attempts,
            totals=ChunkTotals(*(getattr(row, f) for f in _TOTALS)),
            conflicts=tuple(row.conflict_list or ()),
            last_error=row.last_error,
            sent_at=row.sent_at,
            done_at=row.done_at,
        )

    async def chunk(self, run_id: UUID, chunk_no: int) -> PushChunk | None:
        row = await self._session.get(C, (run_id, chunk_no), populate_existing=True)
        return self._chunk(row) if row else None

    async def chunks(self, run_id: UUID, *, status: ChunkStatus | None = None) -> list[PushChunk]:
        stmt = select(C).where(C.run_id == run_id).execution_options(populate_existing=True)
        if status is not None:
            stmt = stmt.where(C.status == status.value)
        rows = await self._session.execute(stmt.order_by(C.chunk_no))
        return [self._chunk(r) for r in rows.scalars()]

    async def update_chunk(
        self,
        chunk: PushChunk,
        *,
        status: ChunkStatus,
        attempts: int,
        totals: ChunkTotals | None = None,
        conflicts: Sequence[Mapping[str, Any]] | None = None,
        last_error: str | None = None,
        sent_at: datetime | None = None,
        done_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status.value,
            "attempts": attempts,
            "last_error": last_error,
            "sent_at": sent_at,
            "done_at": done_at,
        }
        if totals is not None:
            values.update({f: getattr(totals, f) for f in _TOTALS})
        if conflicts is not None:
            values["conflict_list"] = [dict(c) for c in conflicts]
        await self._session.execute(
            update(C).where(C.run_id == chunk.run_id, C.chunk_no == chunk.chunk_no).values(**values)
        )

    async def reopen_failed_chunks(self, run_id: UUID) -> None:
        await self._session.execute(
            update(C)
            .where(C.run_id == run_id, C.status == ChunkStatus.FAILED.value)
            .values(status=ChunkStatus.PENDING.value)
        )

    # -- pulls ------------------------------------------------------------------------
    @staticmethod
    def _pull(row: Dhis2PullRunRow) -> PullRun:
        raw = row.request

        def day(name: str) -> date | None:
            return date.fromisoformat(raw[name]) if raw.get(name) else None

        request = PullRequest(
            data_set=raw["data_set"],
            org_unit=raw["org_unit"],
            children=bool(raw.get("children", True)),
            periods=tuple(raw.get("periods") or ()),
            start=day("start"),
            end=day("end"),
            include_deleted=bool(raw.get("include_deleted")),
        )
        return PullRun(
            id=row.id,
            connection_id=row.connection_id,
            request=request,
            status=RunStatus(row.status),
            received=row.received,
            alerts=row.alerts,
            error=row.error,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )

    async def add_pull(self, run: PullRun) -> None:
        r = run.request
        self._session.add(
            Dhis2PullRunRow(
                id=run.id,
                connection_id=run.connection_id,
                request={
                    "data_set": r.data_set,
                    "org_unit": r.org_unit,
                    "children": r.children,
                    "periods": list(r.periods),
                    "start": r.start.isoformat() if r.start else None,
                    "end": r.end.isoformat() if r.end else None,
                    "include_deleted": r.include_deleted,
                },
                status=run.status.value,
                received=0,
                alerts=0,
                created_at=run.created_at,
            )
        )
        await self._session.flush()

    async def get_pull(self, pull_id: UUID) -> PullRun | None:
        row = await self._session.get(Dhis2PullRunRow, pull_id, populate_existing=True)
        return self._pull(row) if row else None

    async def update_pull(self, run: PullRun) -> None:
        await self._session.execute(
            update(Dhis2PullRunRow)
            .where(Dhis2PullRunRow.id == run.id)
            .values(
                status=run.status.value,
                received=run.received,
                alerts=run.alerts,
                error=run.error,
                finished_at=run.finished_at,
            )
        )

    async def store_pulled(
        self, connection_id: UUID, pull_id: UUID, values: Sequence[DataValue], at: datetime
    ) -> None:
        if not values:
            return
        rows = {}
        days: dict[str, tuple[date | None, date | None]] = {}
        for v in values:  # the last one wins if DHIS2 repeats a key
            if v.period not in days:
                days[v.period] = _days(v.period)
            rows[value_key(v)] = {
                "connection_id": connection_id,
                "pull_id": pull_id,
                "value_key": value_key(v),
                "data_element": v.data_element[:11],
                "period": v.period,
                "period_start": days[v.period][0],
                "period_end": days[v.period][1],
                "org_unit": v.org_unit[:11],
                "category_option_combo": v.category_option_combo,
                "attribute_option_combo": v.attribute_option_combo,
                "value": v.value,
                "comment": v.comment,
                "stored_by": v.stored_by,
                "last_updated": v.last_updated,
                "deleted": v.deleted,
                "pulled_at": at,
            }
        dialect = self._session.get_bind().dialect.name
        maker = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = maker(Dhis2PulledValueRow)
        changing = (
            "pull_id",
            "period_start",
            "period_end",
            "value",
            "comment",
            "stored_by",
            "last_updated",
            "deleted",
            "pulled_at",
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["connection_id", "value_key"],
            set_={name: getattr(stmt.excluded, name) for name in changing},
        )
        await self._session.execute(stmt, list(rows.values()))
