"""The node sequence of the change log stays gap-free and in commit order when a flush
bumps the counter and inserts its entries in one statement (PostgreSQL, ADR 0002)."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select

from afiya.adapters.db.models import ChangeLogRow, OrgUnitRow
from afiya.adapters.db.models.platform import NodeCounter
from afiya.adapters.seed.demo import SYSTEM_CONTEXT


async def _country(session):
    return (await session.execute(select(OrgUnitRow).where(OrgUnitRow.code == "MR"))).scalar_one()


def _unit(country, name: str) -> OrgUnitRow:
    uid = f"Zy{random.randrange(10**9):09d}"
    return OrgUnitRow(
        uid=uid,
        name=name,
        kind="region",
        level=2,
        path=country.path + uid + "/",
        parent_id=country.id,
    )


async def _entries(session, node: str) -> list[ChangeLogRow]:
    rows = await session.execute(
        select(ChangeLogRow).where(ChangeLogRow.node == node).order_by(ChangeLogRow.node_seq)
    )
    return list(rows.scalars())


async def test_a_nodes_first_entries_create_its_counter_then_continue_it(container):
    node = f"fresh-{random.randrange(10**9)}"
    async with container.uow(SYSTEM_CONTEXT) as uow:
        uow.session.info["node"] = node
        country = await _country(uow.session)
        uow.session.add_all([_unit(country, "A"), _unit(country, "B")])
        await uow.session.flush()
        uow.session.add(_unit(country, "C"))
        await uow.session.flush()
        await uow.commit()
    async with container.sessions() as session:
        entries = await _entries(session, node)
        counter = await session.get(NodeCounter, node)
    assert [e.node_seq for e in entries] == [1, 2, 3]
    assert [e.data["name"] for e in entries] == ["A", "B", "C"]
    assert counter is not None and counter.last_seq == 3


async def test_a_rolled_back_savepoint_leaves_no_gap(container):
    node = f"savepoint-{random.randrange(10**9)}"
    async with container.uow(SYSTEM_CONTEXT) as uow:
        uow.session.info["node"] = node
        country = await _country(uow.session)
        uow.session.add(_unit(country, "kept 1"))
        await uow.session.flush()
        savepoint = await uow.session.begin_nested()
        uow.session.add(_unit(country, "rolled back"))
        await uow.session.flush()
        await savepoint.rollback()
        uow.session.add(_unit(country, "kept 2"))
        await uow.session.flush()
        await uow.commit()
    async with container.sessions() as session:
        entries = await _entries(session, node)
        counter = await session.get(NodeCounter, node)
    assert [(e.node_seq, e.data["name"]) for e in entries] == [(1, "kept 1"), (2, "kept 2")]
    assert counter is not None and counter.last_seq == 2


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has one writer at a time
async def test_concurrent_writers_are_numbered_in_commit_order(container):
    node = f"order-{random.randrange(10**9)}"
    async with (
        container.uow(SYSTEM_CONTEXT) as first,
        container.uow(SYSTEM_CONTEXT) as second,
    ):
        for uow in (first, second):
            uow.session.info["node"] = node
        country = await _country(first.session)
        first.session.add(_unit(country, "first flush"))
        await first.session.flush()  # holds the counter row until it commits

        async def later_writer() -> None:
            other = await _country(second.session)
            second.session.add(_unit(other, "second flush"))
            await second.session.flush()
            await second.commit()

        waiting = asyncio.create_task(later_writer())
        await asyncio.sleep(0.3)
        assert not waiting.done()  # queued on the counter row's lock
        first.session.add(_unit(country, "first again"))
        await first.session.flush()
        await first.commit()
        await asyncio.wait_for(waiting, 10)
    async with container.sessions() as session:
        entries = await _entries(session, node)
    assert [(e.node_seq, e.data["name"]) for e in entries] == [
        (1, "first flush"),
        (2, "first again"),
        (3, "second flush"),
    ]
