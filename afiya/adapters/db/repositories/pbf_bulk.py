"""Bulk reads and writes of declarations (100,000-row imports) with their change-log entries.

The ORM's unit of work costs about 200 µs per row here (events, snapshots, one UPDATE per
row), and even Core ``executemany`` spends most of its time converting each value on its
own. An import therefore talks to the driver directly, with values prepared once:

- rows are tuples in table column order; each column's SQLAlchemy conversion (UUID to
  text, aware datetime to SQLite's text, ...) runs once per *distinct* value, and a file
  has few of them besides the ids (one programme, one period, one author, one time);
- SQLite: the driver's ``executemany`` for the declarations and the change log, with a
  larger page cache during the write (index pages stay in memory);
- PostgreSQL: ``COPY`` (asyncpg ``copy_records_to_table``) for new rows and the change
  log, and one ``UPDATE ... FROM unnest(...)`` for changed rows;
- change-log entries are appended as the flush listener of
  :mod:`afiya.adapters.db.changelog` would: same transaction, the node's next gap-free
  sequence numbers, a distinct hybrid-logical-clock time each (one consecutive range,
  the shared clock moved past it), a JSON snapshot of each row (an update's, as before,
  without the creation columns, which the import does not read);
- on SQLite the change-log rows are built while the driver's thread inserts the rows.

Updates keep optimistic concurrency: each row is updated only at the version that was
read, and a count short of the batch raises ``StaleDataError`` (the caller's transaction
then rolls back: nothing of the file is written).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, cast
from uuid import UUID

import msgspec
from sqlalchemy import Table, and_, bindparam, insert, type_coerce, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import NullType

from afiya.adapters.db import changelog
from afiya.adapters.db.models.pbf import PbfDeclarationRow
from afiya.adapters.db.models.platform import ChangeLogRow
from afiya.domain.pbf.records import Declaration, DeclarationStatus
from afiya.domain.shared.clock import HlcTimestamp, HybridLogicalClock, SystemClock

FIELDS = (
    "status",
    "claimed",
    "verified",
    "validated",
    "declared_by",
    "declared_at",
    "verified_by",
    "verified_at",
    "validated_by",
    "validated_at",
    "comment",
)
KEYS = ("id", "programme_id", "org_unit_id", "org_unit_path", "period", "package", "activity")
SYNC = ("created_at", "updated_at", "created_by", "origin_node", "version", "deleted_at")
_BATCH = 5_000  # updated rows per executemany (SQLite); x 10 per unnest UPDATE (PostgreSQL)
SQLITE_CACHE_KIB = 256 * 1024  # page cache while writing a large batch on SQLite (default 2 MiB)
LARGE = 10_000  # rows from which the page cache is enlarged (a mobile entry is a few rows)

TABLE = cast(Table, PbfDeclarationRow.__table__)
CHANGE_LOG = cast(Table, ChangeLogRow.__table__)
COLUMNS = tuple(c.name for c in TABLE.columns)
CHANGE_COLUMNS = (
    "node",
    "node_seq",
    "hlc",
    "entity",
    "entity_id",
    "operation",
    "version",
    "actor_id",
    "data",
    "recorded_at",
)
_DOMAIN = (*KEYS, *FIELDS)
_UPDATED = (*FIELDS, "updated_at", "version")
_JSON = msgspec.json.Encoder()


_ID = frozenset({COLUMNS.index("id")})
_STATUS = {s: s.value for s in DeclarationStatus}
#: the change-log snapshot of an inserted row (all columns) and of an updated one (no
#: creation columns), as the flush listener's ``row_snapshot`` takes them
_Inserted = msgspec.defstruct("_Inserted", [*_DOMAIN, *SYNC])
_Updated = msgspec.defstruct("_Updated", [*_DOMAIN, "updated_at", "version"])
_DATES = tuple(_DOMAIN.index(n) for n in ("declared_at", "verified_at", "validated_at"))


def _binders(table: Table, names: Sequence[str], dialect: Dialect) -> list[tuple[int, Any]]:
    """Positions and SQLAlchemy bind conversions of ``names`` for ``dialect``."""
    out = []
    for i, name in enumerate(names):
        column_type = table.c[name].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            out.append((i, process))
    return out


def _columns(
    new: Sequence[Declaration], sync: dict[str, Any], names: Sequence[str] = COLUMNS
) -> list[list[Any]]:
    """The values of ``new`` column by column (sync columns from ``sync``)."""
    out: list[list[Any]] = []
    for name in names:
        if name in sync:
            out.append([sync[name]] * len(new))
        elif name == "status":
            out.append([_STATUS[d.status] for d in new])
        else:
            out.append(list(map(attrgetter(name), new)))
    return out


def _convert_columns(
    columns: list[list[Any]], binders: list[tuple[int, Any]], unique: frozenset[int]
) -> None:
    """Apply the bind conversions to ``columns`` (replacing its lists): once per value object,
    as a file's rows share their programme, facility, author and time objects (keyed by
    ``id()``, safe while the old lists hold the values), or once per value in ``unique``
    columns (ids)."""
    for i, process in binders:
        column = columns[i]
        if not column:
            continue
        first = column[0]
        if all(v is first for v in column):  # sync columns, the author, the time...
            columns[i] = [None if first is None else process(first)] * len(column)
            continue
        distinct = {id(v): v for v in column} if i not in unique else {}
        if i in unique or len(distinct) > len(column) // 2:  # ids, quantities
            columns[i] = [None if v is None else process(v) for v in column]
            continue
        stored = {k: None if v is None else process(v) for k, v in distinct.items()}
        columns[i] = [stored[id(v)] for v in column]


class _Sink:
    """Writes prepared row tuples on the session's own driver connection."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect
        self.postgresql = dialect.name == "postgresql"

    def sql(self, table: Table, names: Sequence[str]) -> str:
        return str(insert(table).compile(dialect=self.dialect, column_keys=list(names)))

    async def insert(self, table: Table, names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.postgresql:
            await self.raw.copy_records_to_table(table.name, records=rows, columns=list(names))
            return
        # one call: the driver's thread runs it all while this one prepares what follows
        await self.raw.executemany(self.sql(table, names), rows)


def _reserve_hlc(hlc: HybridLogicalClock, count: int) -> int:
    """The first of ``count`` consecutive encoded HLC times, all later than any issued
    before; the clock is then moved past the last (as on receiving it from a peer).
    Consecutive integers carry a full 16-bit counter into the milliseconds, so a large
    batch stays strictly ordered (it reads at most ``count / 65536`` ms ahead)."""
    first = hlc.now().encode()
    if count > 1:
        hlc.observe(HlcTimestamp.decode(first + count - 1))
    return first


async def write_declarations(
    session: AsyncSession, new: Sequence[Declaration], changed: Sequence[Declaration]
) -> None:
    """Insert ``new`` and update ``changed``; raise ``StaleDataError`` if one changed meanwhile.

    On SQLite the change-log rows are prepared while the driver's thread inserts the
    declarations (the driver releases the GIL while SQLite works).
    """
    await session.flush()  # ORM changes of this unit of work first, in their order
    if not new and not changed:
        return
    info = session.info
    clock = info.get("clock", SystemClock())
    now: datetime = clock.now()
    node: str = info.get("node", "central")
    actor: UUID | None = info.get("actor_id")
    # the flush listener's defaults, so both paths draw on one clock and one sequence
    hlc: HybridLogicalClock = changelog.session_hlc(info)
    count = len(new) + len(changed)
    first = await session.run_sync(lambda s: changelog.next_node_seq(s, node, count))
    connection = await session.connection()
    dialect = connection.dialect
    raw: Any = (await connection.get_raw_connection()).driver_connection
    sink = _Sink(raw, dialect)
    sqlite = dialect.name == "sqlite"
    large = sqlite and count >= LARGE
    if large:
        cache = (await raw.execute_fetchall("PRAGMA cache_size"))[0][0]
        await raw.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB:d}")
    try:
        sync = dict(zip(SYNC, (now, now, actor, node, 1, None), strict=True))
        values = _columns(new, sync)
        stored = list(values)
        if sqlite:
            _convert_columns(stored, _binders(TABLE, COLUMNS, dialect), _ID)
        rows = list(zip(*stored, strict=True))
        inserted = [values[COLUMNS.index(n)] for n in _DOMAIN]
        writing = asyncio.ensure_future(sink.insert(TABLE, COLUMNS, rows))
        await asyncio.sleep(0)  # hands the rows to the driver's thread
        try:
            # change-log values in their stored form (SQLite: as SQLAlchemy converts them)
            store = _storer(dialect if sqlite else None)
            as_id = store(CHANGE_LOG.c.entity_id)
            log = _log_rows(
                inserted,
                changed,
                ids=[as_id(i) for i in inserted[0]] + [as_id(d.id) for d in changed],
                first_seq=first,
                first_hlc=_reserve_hlc(hlc, count),
                now=now,
                node=node,
                actor=actor,
                stored_actor=store(CHANGE_LOG.c.actor_id)(actor),
                recorded_at=store(CHANGE_LOG.c.recorded_at)(clock.now()),
            )
        finally:
            await writing
        if changed:
            await _update(sink, changed, now)
        await sink.insert(CHANGE_LOG, CHANGE_COLUMNS, log)
    finally:
        if large:
            await raw.execute(f"PRAGMA cache_size = {int(cache):d}")


def _snapshots(columns: list[list[Any]]) -> Iterator[tuple[Any, ...]]:
    """Rows of ``_DOMAIN`` columns as the flush listener's snapshot writes them: datetimes in
    ISO 8601 (once per datetime object: a file's rows share their times); UUIDs and
    decimals are written as ``str()`` does by msgspec itself."""
    columns = list(columns)
    for i in _DATES:
        distinct = {id(v): v for v in columns[i]}
        text = {k: None if v is None else v.isoformat() for k, v in distinct.items()}
        columns[i] = [text[id(v)] for v in columns[i]]
    return zip(*columns, strict=True)


def _storer(dialect: Dialect | None) -> Callable[[Any], Callable[[Any], Any]]:
    """For a column, its bind conversion on ``dialect`` (None: values as they are)."""

    def of(column: Any) -> Callable[[Any], Any]:
        process = column.type.dialect_impl(dialect).bind_processor(dialect) if dialect else None
        if process is None:
            return lambda value: value
        return lambda value: None if value is None else process(value)

    return of


def _log_rows(
    inserted: list[list[Any]],
    changed: Sequence[Declaration],
    *,
    ids: Sequence[Any],
    first_seq: int,
    first_hlc: int,
    now: datetime,
    node: str,
    actor: UUID | None,
    stored_actor: Any,
    recorded_at: Any,
) -> list[tuple[Any, ...]]:
    """Change-log rows (``CHANGE_COLUMNS`` order, values in stored form: ``ids``,
    ``stored_actor``, ``recorded_at``) of the inserted rows (``_DOMAIN`` columns), then
    of the changed ones, each with the JSON snapshot of the row (``actor`` in it)."""
    entity = TABLE.name
    stamp = now.isoformat()
    encode = _JSON.encode
    out: list[tuple[Any, ...]] = []
    seq, time = first_seq, first_hlc
    stored_ids = iter(ids)
    for values in _snapshots(inserted):
        data = encode(_Inserted(*values, stamp, stamp, actor, node, 1, None)).decode()
        entity_id = next(stored_ids)
        out.append(
            (node, seq, time, entity, entity_id, "insert", 1, stored_actor, data, recorded_at)
        )
        seq += 1
        time += 1
    for d, values in zip(changed, _snapshots(_columns(changed, {}, _DOMAIN)), strict=True):
        version = d.version + 1
        data = encode(_Updated(*values, stamp, version)).decode()
        entity_id = next(stored_ids)
        out.append(
            (node, seq, time, entity, entity_id, "update", version, stored_actor, data, recorded_at)
        )
        seq += 1
        time += 1
    return out


async def _update(sink: _Sink, changed: Sequence[Declaration], now: datetime) -> None:
    """Update each changed row at the version read; raise ``StaleDataError`` otherwise."""
    names = ("b_id", "b_version", *_UPDATED)
    # column by column, in ``names`` order: id and version read, then the new values
    columns = [
        list(map(attrgetter("id"), changed)),
        list(map(attrgetter("version"), changed)),
        *_columns(changed, {"updated_at": now}, (*FIELDS, "updated_at")),
        [d.version + 1 for d in changed],
    ]
    updated = 0
    if sink.postgresql:
        sql = _pg_update_sql(sink.dialect)
        step = _BATCH * 10
        for start in range(0, len(changed), step):
            status = await sink.raw.execute(sql, *[c[start : start + step] for c in columns])
            updated += int(status.split()[-1])
    else:
        statement = (
            update(TABLE)
            .where(and_(TABLE.c.id == bindparam("b_id"), TABLE.c.version == bindparam("b_version")))
            .values({f: bindparam(f) for f in _UPDATED})
        )
        compiled = statement.compile(dialect=sink.dialect)
        position = {n: i for i, n in enumerate(names)}
        binders = [(position[n], process) for n, process in _update_binders(sink.dialect)]
        _convert_columns(columns, binders, frozenset({0}))
        order = list(compiled.positiontup or ())  # the statement's own parameter order
        rows = list(zip(*(columns[position[n]] for n in order), strict=True))
        for start in range(0, len(rows), _BATCH):
            cursor = await sink.raw.executemany(str(compiled), rows[start : start + _BATCH])
            updated += cursor.rowcount
    if updated != len(changed):
        raise StaleDataError("a declaration was changed by someone else meanwhile")


def _pg_update_sql(dialect: Dialect) -> str:
    """One UPDATE of many rows from arrays (``$1`` ids, ``$2`` versions read, then the
    new values in ``_UPDATED`` order); identifiers are the table's own column names."""
    types = {c.name: c.type.compile(dialect=dialect) for c in TABLE.columns}
    names = ("b_id", "b_version", *_UPDATED)
    arrays = ", ".join(f"${i + 1}::{types[n.removeprefix('b_')]}[]" for i, n in enumerate(names))
    assignments = ", ".join(f"{n} = u.{n}" for n in _UPDATED)
    return (
        f"UPDATE {TABLE.name} AS d SET {assignments} "  # noqa: S608 (no user input)
        f"FROM unnest({arrays}) AS u({', '.join(names)}) "
        "WHERE d.id = u.b_id AND d.version = u.b_version"
    )


def _update_binders(dialect: Dialect) -> list[tuple[str, Any]]:
    out = []
    for name in ("b_id", "b_version", *_UPDATED):
        column_type = TABLE.c[name.removeprefix("b_")].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            out.append((name, process))
    return out


#: the columns a declaration is made of, in the order of its fields
_READ = (*_DOMAIN, "version")
if tuple(f.name for f in dataclasses.fields(Declaration)) != _READ:  # built positionally
    raise RuntimeError("Declaration fields and pbf_declaration columns differ")


async def read_declarations(session: AsyncSession, statement: Any) -> list[Declaration]:
    """Declarations from a select of ``pbf_declaration`` rows (``statement(columns)`` builds it
    from the columns to read): the driver's values converted as SQLAlchemy would, but once
    per distinct value (a period's rows share their programme, facilities, authors, times)."""
    connection = await session.connection()
    dialect = connection.dialect
    selected = [TABLE.c[name] for name in _READ]
    raw_columns = [type_coerce(c, NullType()).label(c.name) for c in selected]
    result = await connection.execute(statement(raw_columns))
    # the driver's type codes (asyncpg: numeric or float), as SQLAlchemy's own processing
    description = result.cursor.description if result.cursor is not None else None
    processors = []
    for i, c in enumerate(selected):
        code = description[i][1] if description else None
        process = c.type.dialect_impl(dialect).result_processor(dialect, code)
        if process is not None:
            processors.append((i, c.name == "id", process))
    rows = result.all()
    if not rows:
        return []
    columns: list[Any] = list(zip(*rows, strict=True))
    for i, unique, process in processors:
        column = columns[i]
        if unique:
            columns[i] = [None if v is None else process(v) for v in column]
            continue
        # a column's values are one type, so equal values convert alike (memo by value)
        stored = {v: None if v is None else process(v) for v in dict.fromkeys(column)}
        columns[i] = [stored[v] for v in column]
    status = _READ.index("status")
    states = {s.value: s for s in DeclarationStatus}
    columns[status] = [states[v] for v in columns[status]]
    return [Declaration(*row) for row in zip(*columns, strict=True)]
