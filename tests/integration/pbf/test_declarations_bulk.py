"""The bulk write path of declarations (SQLite executemany, PostgreSQL COPY / unnest) stores
what the ORM path stores, change log included, and keeps optimistic concurrency."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from afiya.adapters.db.changelog import row_snapshot
from afiya.adapters.db.models.pbf import PbfDeclarationRow
from afiya.adapters.db.models.platform import ChangeLogRow, NodeCounter
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.domain.pbf.records import Declaration, DeclarationStatus, ProgrammeRecord
from afiya.domain.shared.clock import HlcTimestamp
from afiya.domain.shared.ids import uuid7

AUTHOR = uuid.UUID(int=7)


async def _setup(container):
    async with container.uow(SYSTEM_CONTEXT) as uow:
        programme = ProgrammeRecord(uuid7(), "BULK", "Bulk", "MRU")
        await uow.pbf.add_programme(programme)
        units = [await uow.orgunits.find_code(code) for code in ("CH-TZ", "CS-KSAR")]
        await uow.commit()
    assert all(units)
    return programme, units


def _declarations(programme, units, *, when):
    # one row carries text CSV/JSON must escape, and a value with many decimals
    return [
        Declaration(
            id=uuid7(),
            programme_id=programme.id,
            org_unit_id=u.id,
            org_unit_path=u.path,
            period="202402",
            package="quantity",
            activity=f"act{a}",
            status=DeclarationStatus.DECLARED,
            claimed=None if a == 2 else Decimal(a * 10) + Decimal("0.125"),
            declared_by=AUTHOR,
            declared_at=when,
            comment='note "quoted", ligne\n2 — ولد' if a == 1 else None,
        )
        for u in units
        for a in range(3)
    ]


async def _stored(uow, ids):
    rows = await uow.session.execute(select(PbfDeclarationRow).where(PbfDeclarationRow.id.in_(ids)))
    return {r.id: r for r in rows.scalars()}


async def _log(uow, ids):
    rows = await uow.session.execute(
        select(ChangeLogRow).where(ChangeLogRow.entity_id.in_(ids)).order_by(ChangeLogRow.seq)
    )
    return list(rows.scalars())


QUANTITIES = ("claimed", "verified", "validated")


def assert_same_snapshot(data, snapshot):
    """Equal, quantities as numbers: the database pads them to its scale (12.5 → 12.500000)
    while a change-log snapshot keeps the value written, as the flush listener does."""
    assert data.keys() == snapshot.keys()
    for key, value in data.items():
        if key in QUANTITIES and value is not None:
            assert Decimal(value) == Decimal(snapshot[key]), key
        else:
            assert value == snapshot[key], key


async def _counter(uow):
    return (
        await uow.session.execute(select(func.max(NodeCounter.last_seq)))
    ).scalar_one_or_none() or 0


async def test_new_rows_read_back_with_one_change_log_entry_each_as_the_listener_writes(
    container,
):
    programme, units = await _setup(container)
    when = datetime(2024, 3, 5, 8, 30, 15, 123456, tzinfo=UTC)
    new = _declarations(programme, units, when=when)
    model = new[1]  # the row with a comment and a decimal value, written by the ORM too
    orm_id = uuid7()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        before = await _counter(uow)
        uow.session.add(
            PbfDeclarationRow(
                id=orm_id,
                programme_id=programme.id,
                org_unit_id=model.org_unit_id,
                org_unit_path=model.org_unit_path,
                period="202401",
                package=model.package,
                activity=model.activity,
                status="declared",
                claimed=model.claimed,
                declared_by=AUTHOR,
                declared_at=when,
                comment=model.comment,
            )
        )
        await uow.pbf.save_declarations(new, [])  # flushes the ORM row first
        await uow.commit()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        stored = await _stored(uow, [d.id for d in new])
        log = await _log(uow, [d.id for d in new])
        (orm_entry,) = await _log(uow, [orm_id])
        keys = [d.key for d in new]
        by_key = await uow.pbf.declarations_by_key(programme.id, keys)
    # every value as written, through the ORM and through the bulk read path
    assert len(stored) == len(new)
    for d in new:
        row = stored[d.id]
        assert (row.org_unit_id, row.activity, row.claimed, row.comment) == (
            d.org_unit_id,
            d.activity,
            d.claimed,
            d.comment,
        )
        assert (row.declared_by, row.declared_at, row.version) == (AUTHOR, when, 1)
        assert row.created_at == row.updated_at
        assert row.created_at.tzinfo is not None
        assert by_key[d.key] == dataclasses.replace(d, version=1)
    # one insert entry per row, gap-free node sequence, increasing HLC times
    assert [e.entity_id for e in log] == [d.id for d in new]
    assert {(e.entity, e.operation, e.version) for e in log} == {("pbf_declaration", "insert", 1)}
    assert orm_entry.node_seq == before + 1
    assert [e.node_seq for e in log] == list(range(before + 2, before + 2 + len(new)))
    times = [e.hlc for e in log]
    assert times == sorted(set(times))
    assert times[0] > orm_entry.hlc
    assert HlcTimestamp.decode(times[0]).wall_ms > 0
    # the snapshot is the one the flush listener takes: of the stored row, and written
    # as the listener writes the same row (same keys, same text for each value)
    for entry in log:
        assert_same_snapshot(entry.data, row_snapshot(stored[entry.entity_id]))
    bulk = next(e for e in log if e.entity_id == model.id).data
    ignored = {"id": None, "period": None, "created_at": None, "updated_at": None}
    assert {**bulk, **ignored} == {**orm_entry.data, **ignored}
    assert datetime.fromisoformat(bulk["created_at"]) == stored[model.id].created_at
    # the bulk path moved the shared HLC on: a later ORM write is ordered after it
    async with container.uow(SYSTEM_CONTEXT) as uow:
        row = (await _stored(uow, [new[0].id]))[new[0].id]
        row.comment = "later"
        await uow.commit()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        later = (await _log(uow, [new[0].id]))[-1]
    assert later.operation == "update"
    assert later.hlc > times[-1]
    assert later.node_seq == before + len(new) + 2


async def test_changed_rows_are_updated_at_the_version_read_with_update_entries(container):
    programme, units = await _setup(container)
    first = datetime(2024, 3, 5, 8, 0, tzinfo=UTC)
    new = _declarations(programme, units, when=first)
    async with container.uow(SYSTEM_CONTEXT) as uow:
        await uow.pbf.save_declarations(new, [])
        await uow.commit()
    second = datetime(2024, 3, 6, 9, 0, tzinfo=UTC)
    async with container.uow(SYSTEM_CONTEXT) as uow:
        read = await uow.pbf.declarations_by_key(programme.id, [d.key for d in new])
        changed = [
            dataclasses.replace(
                read[d.key],
                status=DeclarationStatus.VERIFIED,
                verified=Decimal("12.5"),
                verified_by=AUTHOR,
                verified_at=second,
            )
            for d in new
        ]
        await uow.pbf.save_declarations([], changed)
        await uow.commit()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        stored = await _stored(uow, [d.id for d in new])
        log = await _log(uow, [d.id for d in new])
    for d in new:
        row = stored[d.id]
        assert (row.status, row.verified, row.verified_at, row.version) == (
            "verified",
            Decimal("12.5"),
            second,
            2,
        )
        assert (row.claimed, row.declared_at) == (d.claimed, first)
    updates = [e for e in log if e.operation == "update"]
    assert [e.entity_id for e in updates] == [d.id for d in new]
    assert {e.version for e in updates} == {2}
    for entry in updates:
        snapshot = row_snapshot(stored[entry.entity_id])
        # an update's snapshot has every column but the creation ones
        for key in ("created_at", "created_by", "origin_node", "deleted_at"):
            snapshot.pop(key)
        assert_same_snapshot(entry.data, snapshot)


async def test_a_row_changed_meanwhile_fails_the_whole_batch(container):
    programme, units = await _setup(container)
    new = _declarations(programme, units, when=datetime(2024, 3, 5, tzinfo=UTC))
    async with container.uow(SYSTEM_CONTEXT) as uow:
        await uow.pbf.save_declarations(new, [])
        await uow.commit()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        read = await uow.pbf.declarations_by_key(programme.id, [d.key for d in new])
    async with container.uow(SYSTEM_CONTEXT) as uow:  # someone else edits one row
        await uow.session.execute(
            update(PbfDeclarationRow)
            .where(PbfDeclarationRow.id == new[-1].id)
            .values(version=PbfDeclarationRow.version + 1, comment="theirs")
        )
        await uow.commit()
    changed = [dataclasses.replace(read[d.key], comment="mine") for d in new]
    extra = _declarations(programme, units, when=datetime(2024, 3, 5, tzinfo=UTC))
    extra = [dataclasses.replace(d, period="202403") for d in extra]

    async def save() -> None:  # the unit of work rolls back on the error
        async with container.uow(SYSTEM_CONTEXT) as uow:
            await uow.pbf.save_declarations(extra, changed)
            await uow.commit()

    with pytest.raises(StaleDataError):
        await save()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        stored = await _stored(uow, [d.id for d in new + extra])
        log = await _log(uow, [d.id for d in new + extra])
    assert len(stored) == len(new)  # none of the new rows
    assert {r.comment for r in stored.values()} <= {"theirs", *(d.comment for d in new)}
    assert all(e.operation == "insert" for e in log)  # no entry of the failed batch
