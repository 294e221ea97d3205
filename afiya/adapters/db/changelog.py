"""Writes the change log in the same transaction as every insert, update and delete.

Hooked on SQLAlchemy's flush: ``before_flush`` stamps the sync columns (ids, times,
node, author) and notes which rows change and how; ``after_flush`` (when versions are
final) appends one ``change_log`` row per change with a snapshot of the row, the node's
next sequence numbers and a hybrid-logical-clock time. Because it lives at the session
level, no repository can forget it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, event, insert, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from afiya.adapters.db.base import Syncable
from afiya.adapters.db.models.platform import ChangeLogRow, NodeCounter
from afiya.domain.shared.clock import HybridLogicalClock, SystemClock
from afiya.domain.shared.ids import uuid7

_PENDING = "_afiya_pending_changes"
# A flush of one change (each entry of a Bundle, most requests) writes it in one
# statement on PostgreSQL, the counter bump as a CTE. Not more: SQLAlchemy does not cache
# the compiled form of a multi-row VALUES, which then costs more CPU than the round trip
# it saves; larger flushes bump the counter, then insert their entries.
_ONE_STATEMENT_MAX = 1
_DEFAULT_HLC = HybridLogicalClock(SystemClock())


def session_hlc(info: dict[str, Any]) -> HybridLogicalClock:
    """The hybrid logical clock a session's change-log entries draw on (bulk paths share
    it with the flush listener, so both stay in one order)."""
    return info.get("hlc", _DEFAULT_HLC)  # type: ignore[no-any-return]


def _json_value(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def row_snapshot(obj: Any) -> dict[str, Any]:
    """Column values of a mapped object, JSON-safe (ciphertexts stay encrypted)."""
    mapper = inspect(obj).mapper
    return {col.key: _json_value(getattr(obj, col.key)) for col in mapper.column_attrs}


def _soft_deleted_now(obj: Any) -> bool:
    history = inspect(obj).attrs.deleted_at.history
    return bool(
        history.added
        and history.added[0] is not None
        and not (history.deleted and history.deleted[0] is not None)
    )


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    now = session.info.get("clock", SystemClock()).now()
    node = session.info.get("node", "central")
    actor = session.info.get("actor_id")
    pending: list[tuple[Any, str]] = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        if not isinstance(obj, Syncable):
            continue
        if obj.id is None:
            obj.id = uuid7()
        obj.created_at = obj.created_at or now
        obj.updated_at = obj.updated_at or now
        obj.origin_node = obj.origin_node or node
        if obj.created_by is None:
            obj.created_by = actor
        pending.append((obj, "insert"))
    for obj in session.dirty:
        if not isinstance(obj, Syncable) or not session.is_modified(obj, include_collections=False):
            continue
        obj.updated_at = now
        pending.append((obj, "delete" if _soft_deleted_now(obj) else "update"))
    for obj in session.deleted:
        if isinstance(obj, Syncable):
            pending.append((obj, "delete"))


def next_node_seq(session: Session, node: str, count: int) -> int:
    """Reserve ``count`` sequence numbers; the row lock keeps them in commit order."""
    conn = session.connection()
    last = conn.execute(
        update(NodeCounter)
        .where(NodeCounter.node == node)
        .values(last_seq=NodeCounter.last_seq + count)
        .returning(NodeCounter.last_seq)
    ).scalar()
    if last is None:
        conn.execute(insert(NodeCounter).values(node=node, last_seq=count))
        last = count
    return int(last) - count + 1


def _after_flush(session: Session, _context: Any) -> None:
    pending: list[tuple[Any, str]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    node = session.info.get("node", "central")
    hlc: HybridLogicalClock = session.info.get("hlc", _DEFAULT_HLC)
    actor = session.info.get("actor_id")
    recorded_at = session.info.get("clock", SystemClock()).now()
    rows = [
        {
            "node": node,
            "hlc": hlc.now().encode(),
            "entity": obj.__tablename__,
            "entity_id": obj.id,
            "operation": operation,
            "version": obj.version,
            "actor_id": actor,
            "data": row_snapshot(obj),
            "recorded_at": recorded_at,
        }
        for obj, operation in pending
    ]
    conn = session.connection()
    if conn.dialect.name == "postgresql" and len(rows) <= _ONE_STATEMENT_MAX:
        conn.execute(*_counted_insert(node, rows[0]))
        return
    first = next_node_seq(session, node, len(rows))
    for offset, row in enumerate(rows):
        row["node_seq"] = first + offset
    conn.execute(insert(ChangeLogRow), rows)


_ENTRY_COLUMNS = (
    "hlc",
    "entity",
    "entity_id",
    "operation",
    "version",
    "actor_id",
    "data",
    "recorded_at",
)


@lru_cache(maxsize=1)
def _counted_statement() -> Any:
    """The statement of :func:`_counted_insert`, built once (bound parameters ``node``
    and one per column), so a flush only binds values and hits the compiled cache."""
    table = ChangeLogRow.__table__
    bump = pg_insert(NodeCounter).values(node=bindparam("node"), last_seq=1)
    counter = (
        bump.on_conflict_do_update(
            index_elements=[NodeCounter.node],
            set_={"last_seq": NodeCounter.last_seq + 1},
        )
        .returning(NodeCounter.last_seq)
        .cte("node_counter_bump")
    )
    values: dict[str, Any] = {
        name: bindparam(name, type_=table.c[name].type) for name in _ENTRY_COLUMNS
    }
    values["node_seq"] = select(counter.c.last_seq).scalar_subquery()
    return insert(ChangeLogRow).values(node=bindparam("node"), **values).add_cte(counter)


def _counted_insert(node: str, row: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """One statement (PostgreSQL): bump the node's counter by one in a CTE and insert the
    entry with the number it returns. Same guarantees as :func:`next_node_seq` then an
    insert: the same update of the counter row (an upsert, for a node's first entry)
    takes the same row lock until commit, so numbers stay gap-free and in commit order;
    a data-modifying CTE runs exactly once, and the statement inserts exactly the one
    entry whose number it reserved."""
    return _counted_statement(), {"node": node} | {name: row[name] for name in _ENTRY_COLUMNS}


async def append_bulk(
    session: AsyncSession,
    entity: str,
    entries: Sequence[tuple[UUID, str, int, dict[str, Any]]],
    *,
    batch: int = 1000,
) -> None:
    """Change-log entries for rows written by a bulk path (Core inserts or COPY).

    ``entries`` are ``(entity id, operation, version, row snapshot)``. Same guarantees as
    the flush listeners: same transaction, the node's next gap-free sequence numbers, an
    HLC time each, JSON-safe snapshots.
    """
    if not entries:
        return
    info = session.info
    node = info.get("node", "central")
    hlc = session_hlc(info)
    actor = info.get("actor_id")
    recorded_at = info.get("clock", SystemClock()).now()
    first = await session.run_sync(lambda s: next_node_seq(s, node, len(entries)))
    rows = [
        {
            "node": node,
            "node_seq": first + index,
            "hlc": hlc.now().encode(),
            "entity": entity,
            "entity_id": entity_id,
            "operation": operation,
            "version": version,
            "actor_id": actor,
            "data": {key: _json_value(value) for key, value in data.items()},
            "recorded_at": recorded_at,
        }
        for index, (entity_id, operation, version, data) in enumerate(entries)
    ]
    connection = await session.connection()
    for start in range(0, len(rows), batch):
        await connection.execute(insert(ChangeLogRow), rows[start : start + batch])


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install(session_class: type[Session] = Session) -> None:
    """Attach the listeners once per session class."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_soft_rollback", lambda s, _t: _after_rollback(s))


def changes_for(entity: str, entity_id: UUID) -> Any:
    """A select of one entity's change-log entries, oldest first (history, vread)."""
    return (
        select(ChangeLogRow)
        .where(ChangeLogRow.entity == entity, ChangeLogRow.entity_id == entity_id)
        .order_by(ChangeLogRow.seq)
    )
