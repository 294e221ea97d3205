"""Every insert, update and delete writes the change log in the same transaction."""

from __future__ import annotations

from sqlalchemy import func, select

from afiya.adapters.db.models import ChangeLogRow, OrgUnitRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.domain.shared.ids import uuid7


async def _max_seq(session):
    return (
        await session.execute(
            select(func.max(ChangeLogRow.node_seq)).where(ChangeLogRow.node == "test-node")
        )
    ).scalar_one() or 0


async def test_insert_update_soft_delete_are_logged_with_versions_and_node_sequence(container):
    async with container.uow(SYSTEM_CONTEXT) as uow:
        start = await _max_seq(uow.session)
        country = (
            await uow.session.execute(select(OrgUnitRow).where(OrgUnitRow.code == "MR"))
        ).scalar_one()
        row = OrgUnitRow(
            uid="Zz000000001",
            code="T-1",
            name="Test",
            kind="region",
            level=2,
            path=country.path + "Zz000000001/",
            parent_id=country.id,
        )
        uow.session.add(row)
        await uow.session.flush()
        row.name = "Test renamed"
        await uow.session.flush()
        row.deleted_at = container.clock.now()
        await uow.commit()
        entries = (
            (
                await uow.session.execute(
                    select(ChangeLogRow)
                    .where(ChangeLogRow.entity_id == row.id)
                    .order_by(ChangeLogRow.seq)
                )
            )
            .scalars()
            .all()
        )
    assert [(e.operation, e.version) for e in entries] == [
        ("insert", 1),
        ("update", 2),
        ("delete", 3),
    ]
    assert [e.node_seq for e in entries] == [start + 1, start + 2, start + 3]
    assert entries[1].data["name"] == "Test renamed"
    assert all(e.node == "test-node" and e.entity == "org_unit" for e in entries)
    assert entries[0].hlc < entries[1].hlc < entries[2].hlc
    assert row.origin_node == "test-node" and row.created_at is not None


async def test_a_rolled_back_transaction_leaves_no_change_log(container):
    async with container.uow(SYSTEM_CONTEXT) as uow:
        before = await _max_seq(uow.session)
        country = (
            await uow.session.execute(select(OrgUnitRow).where(OrgUnitRow.code == "MR"))
        ).scalar_one()
        uow.session.add(
            OrgUnitRow(
                uid="Zz000000002",
                name="Gone",
                kind="region",
                level=2,
                path=country.path + "Zz000000002/",
                parent_id=country.id,
            )
        )
        await uow.session.flush()
        await uow.rollback()
    async with container.sessions() as session:
        assert await _max_seq(session) == before
        assert (
            await session.execute(select(OrgUnitRow).where(OrgUnitRow.uid == "Zz000000002"))
        ).first() is None


async def test_ids_are_uuid7_generated_where_the_row_is_created(container):
    async with container.uow(SYSTEM_CONTEXT) as uow:
        country = (
            await uow.session.execute(select(OrgUnitRow).where(OrgUnitRow.code == "MR"))
        ).scalar_one()
        made_here = uuid7()
        uow.session.add(
            OrgUnitRow(
                id=made_here,
                uid="Zz000000003",
                name="Offline",
                kind="region",
                level=2,
                path=country.path + "Zz000000003/",
                parent_id=country.id,
            )
        )
        await uow.commit()
    assert made_here.version == 7
    async with container.sessions() as session:
        stored = await session.get(OrgUnitRow, made_here)
    assert stored is not None and stored.version == 1
