"""Push planning in committed slices (SQLite) and one transaction (PostgreSQL); a plan
stopped part-way resumes without placing a value twice or losing one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import UUID

import aiosqlite
from sqlalchemy import select

from afiya.adapters.db.models.dhis2 import Dhis2LedgerRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT, demo_uid
from afiya.bootstrap import Container
from afiya.domain.dhis2.figures import put_figures
from afiya.domain.dhis2.push import plan_push, request_push
from afiya.domain.dhis2.sync_model import Figure, FigureQuery, PushOptions, PushSelection, RunStatus
from afiya.jobs.dhis2 import SYSTEM, plan_checkpoint
from tests.api.dhis2.conftest import BY_CODE, BY_UID, months

from .test_sync_jobs import MEASLES, clocked, run_due_jobs, setup  # noqa: F401

PERIODS = months("198901", 300)  # January 1989 to December 2013, open in the double
CODES = [*BY_UID, BY_CODE]
VALUES = len(PERIODS) * len(CODES)  # 1,500
CHUNK = 200
SLICE = 500


class StoppingSource:
    """The figure table, stopped by an error after ``after`` figures (a lost worker)."""

    def __init__(self, inner: Any, after: int) -> None:
        self._inner = inner
        self._after = after

    async def figures(self, query: FigureQuery) -> AsyncIterator[Figure]:
        given = 0
        async for figure in self._inner.figures(query):
            if given == self._after:
                raise ConnectionError("worker lost mid-plan")
            given += 1
            yield figure


async def _world(container: Container, double: Any) -> tuple[UUID, UUID]:
    """A connection, the measles mapping, 1,500 figures and a push run still to plan."""
    cid = await setup(container, double, [])
    async with container.uow(SYSTEM_CONTEXT) as uow:
        figures = []
        for n, code in enumerate(CODES):
            unit = await uow.orgunits.get_by_uid(demo_uid(code))
            assert unit is not None
            figures += [
                Figure("hmis.measles", unit.id, p, str(1 + (n + i) % 97))
                for i, p in enumerate(PERIODS)
            ]
        await put_figures(
            figures, principal=SYSTEM, table=uow.dhis2.figures, units=uow.orgunits, audit=uow.audit
        )
        run = await request_push(
            cid,
            PushOptions(chunk_size=CHUNK, concurrency=1),
            PushSelection(date(1989, 1, 1), date(2013, 12, 31)),
            principal=SYSTEM,
            connections=uow.dhis2.connections,
            runs=uow.dhis2.runs,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=container.clock,
        )
        await uow.commit()
    return cid, run.id


async def _plan(container: Container, run_id: UUID, sources: Any = None, checkpoint: Any = None):
    """Plan as the job does, in a unit of work of its own (rolled back on an error)."""
    async with container.uow(SYSTEM_CONTEXT) as uow:
        r = uow.dhis2
        run = await plan_push(
            run_id,
            runs=r.runs,
            mappings=r.mappings,
            metadata=r.metadata,
            ledger=r.ledger,
            sources=sources(r) if sources else r.sources,
            jobs=uow.jobs,
            clock=container.clock,
            checkpoint=checkpoint(uow) if checkpoint else plan_checkpoint(uow),
            slice_size=SLICE,
        )
        await uow.commit()
        return run


async def _placed(container: Container, run_id: UUID) -> dict[str, Any]:
    """What another connection sees of the run's ledger entries (committed data only)."""
    async with container.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Dhis2LedgerRow.value_key, Dhis2LedgerRow.chunk_no).where(
                    Dhis2LedgerRow.run_id == run_id, Dhis2LedgerRow.state != "superseded"
                )
            )
        ).all()
    sizes: dict[int, int] = {}
    for _, chunk_no in rows:
        sizes[chunk_no] = sizes.get(chunk_no, 0) + 1
    return {"rows": len(rows), "keys": len({k for k, _ in rows}), "sizes": sizes}


async def test_a_plan_stopped_part_way_resumes_without_placing_a_value_twice(
    clocked,  # noqa: F811
    double,
    backend,
):
    container, _ = clocked
    _, run_id = await _world(container, double)
    try:
        await _plan(container, run_id, lambda r: {"figure_table": StoppingSource(r.figures, 1200)})
    except ConnectionError:
        pass
    else:  # pragma: no cover - the source always stops
        raise AssertionError("the plan should have stopped")
    seen = await _placed(container, run_id)
    if backend == "sqlite":  # the first slice (one batch of 1,000) was committed
        assert (seen["rows"], seen["keys"]) == (1000, 1000)
        assert seen["sizes"] == {n: CHUNK for n in range(1, 6)}
    else:  # one transaction: nothing of the stopped plan remains
        assert seen["rows"] == 0
    async with container.uow(SYSTEM_CONTEXT) as uow:
        stopped = await uow.dhis2.runs.get_run(run_id)
        assert stopped is not None and stopped.status is RunStatus.PLANNING

    run = await _plan(container, run_id)
    assert run.status is RunStatus.RUNNING
    assert (run.total_values, run.total_chunks, run.plan.planned) == (VALUES, 8, VALUES)
    seen = await _placed(container, run_id)
    assert (seen["rows"], seen["keys"]) == (VALUES, VALUES)
    assert seen["sizes"] == {**{n: CHUNK for n in range(1, 8)}, 8: VALUES - 7 * CHUNK}
    async with container.uow(SYSTEM_CONTEXT) as uow:
        chunks = await uow.dhis2.runs.chunks(run_id)
        assert [c.size for c in chunks] == [seen["sizes"][c.chunk_no] for c in chunks]

    await run_due_jobs(container)  # the chunks, and the plan job, which finds it planned
    async with container.uow(SYSTEM_CONTEXT) as uow:
        done = await uow.dhis2.runs.get_run(run_id)
    assert done is not None and done.status is RunStatus.DONE
    assert done.totals.imported == VALUES
    assert double.admin("counters")["storedValues"] == VALUES
    assert double.stored(MEASLES, PERIODS[-1], demo_uid("CH-TZ")) is not None


async def test_on_sqlite_other_writers_get_in_between_two_slices(
    clocked,  # noqa: F811
    double,
    backend,
):
    container, _ = clocked
    _, run_id = await _world(container, double)
    probes: list[int] = []

    def probing(uow: Any) -> Any:
        commit = plan_checkpoint(uow)
        if commit is None:
            return None

        async def checkpoint() -> None:
            await commit()
            # Another writer, on a connection of its own, must not wait for the plan:
            # it takes the write lock (BEGIN IMMEDIATE) with a 50 ms busy timeout.
            path = container.settings.database_url.split(":///", 1)[1]
            async with aiosqlite.connect(path, timeout=0.05, isolation_level=None) as db:
                await db.execute("BEGIN IMMEDIATE")
                found = await db.execute(
                    "SELECT count(*) FROM dhis2_ledger WHERE run_id = ?", (run_id.hex,)
                )
                probes.append(int((await found.fetchone())[0]))  # type: ignore[index]
                await db.execute("COMMIT")

        return checkpoint

    run = await _plan(container, run_id, checkpoint=probing)
    assert run.total_values == VALUES
    if backend == "sqlite":
        # After each slice (1,000 then 500 values), the planned entries are committed.
        assert probes == [1000, VALUES]
    else:
        assert probes == []  # PostgreSQL plans in one transaction, as before
