"""Past versions of the FHIR resources built from several rows (vread, ``_history``).

A resource's versions are change-log entries: those of its own row, or (an encounter)
those of the rows that record its steps. A past version is shown by reading the record
*through the module's own repository* over :class:`AsOfSession`, a read-only view of the
unit of work's session in which every syncable row the repository loads is replaced by a
transient row rebuilt from its change-log snapshot as it stood before the next version
was written. The repositories' row→domain code, their decryption (same cipher, same
``table:id:field`` context) and the FHIR mappers are therefore those of a read; only
the rows differ.

What a row "was" at a past version is its last snapshot before the resource next
changed (its next version, or a change of its own row that begins the next step), so
what a step wrote in several flushes (a prescription, then its lines) belongs to it. A
row with no change-log entry at all is shown as it is now; a row whose entries all come
later did not exist yet and is left out. Queries that filter on current values (soft
deletes) still filter on them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Select, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from afiya.adapters.db.base import Base, Syncable
from afiya.adapters.db.models.platform import ChangeLogRow
from afiya.adapters.db.repositories.clinical import SqlClinicalRepository
from afiya.adapters.db.repositories.clinical_documents import SqlExternalDocumentRepository
from afiya.adapters.db.repositories.prescribing import SqlPrescribingRepository
from afiya.domain.platform.crypto import FieldCipher


@dataclass(frozen=True, slots=True)
class StreamVersion:
    """One version of a resource: its number and the change-log entry that made it."""

    number: int
    operation: str
    recorded_at: datetime
    data: dict[str, Any]
    until: int | None  # a past version: the change-log entry its rows stood before


# -- snapshot -> transient row --------------------------------------------------------


def _python_type(column_type: Any) -> type | None:
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl
    try:
        found = column_type.python_type
    except NotImplementedError:
        return None
    return found if isinstance(found, type) else None


def _typed(column_type: Any, value: Any) -> Any:
    """A JSON snapshot value back to the column's Python type (the reverse of
    ``changelog._json_value``)."""
    if value is None:
        return None
    kind = _python_type(column_type)
    if kind is UUID:
        return value if isinstance(value, UUID) else UUID(str(value))
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if kind is date:
        return date.fromisoformat(value)
    if kind is Decimal:
        return Decimal(str(value))
    if kind is bytes:
        return base64.b64decode(value)
    if kind in (int, float, bool, str):
        return kind(value)
    return value  # JSON documents and lists are stored as they are


def row_of(row_class: type[Any], data: dict[str, Any]) -> Any:
    """A transient ORM row (never added to a session) holding a change-log snapshot."""
    values = {}
    for attr in inspect(row_class).column_attrs:
        if attr.key in data:
            values[attr.key] = _typed(attr.columns[0].type, data[attr.key])
    return row_class(**values)


# -- the read-only view -----------------------------------------------------------------


class _Scalars:
    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def all(self) -> list[Any]:
        return list(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise ValueError("more than one row")
        return self.first()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _Result:
    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def scalars(self) -> _Scalars:
        return _Scalars(self._rows)

    def scalar(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalar_one_or_none(self) -> Any:
        return _Scalars(self._rows).one_or_none()

    def all(self) -> list[tuple[Any]]:
        return [(r,) for r in self._rows]


def _syncable_entity(statement: Any) -> type[Any] | None:
    """The row class a ``select(Row)`` returns, when it is one syncable entity."""
    if not isinstance(statement, Select):
        return None
    described = statement.column_descriptions
    if len(described) != 1:
        return None
    entity = described[0].get("entity")
    expr = described[0].get("expr")
    if isinstance(entity, type) and entity is expr and issubclass(entity, Syncable):
        return entity
    return None


class AsOfSession:
    """The session as the change log says its rows were before ``before_seq``.

    Only reads are possible: ``get``, ``execute``, ``scalars`` and ``scalar`` of a
    ``select(Row)`` answer past rows; column queries answer the present; any write raises.
    """

    def __init__(self, session: AsyncSession, before_seq: int) -> None:
        self._session = session
        self._before = before_seq

    async def _past(self, rows: Sequence[Any]) -> list[Any]:
        if not rows:
            return []
        table = rows[0].__tablename__
        ids = [r.id for r in rows]
        entries = (
            await self._session.execute(
                select(ChangeLogRow.entity_id, ChangeLogRow.seq, ChangeLogRow.data)
                .where(ChangeLogRow.entity == table, ChangeLogRow.entity_id.in_(ids))
                .order_by(ChangeLogRow.seq)
            )
        ).all()
        logged: set[UUID] = set()
        latest: dict[UUID, dict[str, Any]] = {}
        for entity_id, seq, data in entries:
            logged.add(entity_id)
            if seq < self._before:
                latest[entity_id] = data
        out = []
        for row in rows:
            if row.id not in logged:
                out.append(row)  # no history: as it is now
            elif row.id in latest:
                out.append(row_of(type(row), latest[row.id]))
        return out

    async def get(self, row_class: type[Any], ident: Any, **kwargs: Any) -> Any:
        row = await self._session.get(row_class, ident, **kwargs)
        if row is None or not isinstance(row, Syncable):
            return row
        found = await self._past([row])
        return found[0] if found else None

    async def _rows(self, statement: Any) -> list[Any] | None:
        if _syncable_entity(statement) is None:
            return None
        current = (await self._session.scalars(statement)).all()
        return await self._past(list(current))

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        rows = await self._rows(statement)
        if rows is None:
            return await self._session.execute(statement, *args, **kwargs)
        return _Result(rows)

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        rows = await self._rows(statement)
        if rows is None:
            return await self._session.scalars(statement, *args, **kwargs)
        return _Scalars(rows)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        rows = await self._rows(statement)
        if rows is None:
            return await self._session.scalar(statement, *args, **kwargs)
        return rows[0] if rows else None

    def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a past version is read-only")

    add = add_all = delete = flush = commit = begin_nested = merge = _refuse

    @property
    def info(self) -> dict[str, Any]:
        return self._session.info


@dataclass(frozen=True, slots=True)
class PastRecords:
    """The module repositories over an :class:`AsOfSession` (what the reads use)."""

    clinical: SqlClinicalRepository
    prescribing: SqlPrescribingRepository
    clinical_documents: SqlExternalDocumentRepository


class SqlFhirVersions:
    """Versions of resources from the change log, and the past views to show them."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def stream(
        self, entity: str, key_column: str, key: UUID, *, parent: str | None = None
    ) -> list[StreamVersion]:
        """The versions of a resource, oldest first: the change-log entries of ``entity``
        rows whose ``key_column`` is ``key``. One row (``key_column`` "id") numbers them
        with the row's version; several rows (an encounter's steps) one by one.

        Each version but the newest is shown as the rows stood just before the resource
        next changed: its next version, or a change of its ``parent`` row (id ``key``)
        after it, which begins the next step (a discharge updates the encounter before
        it writes its step)."""
        stmt = select(ChangeLogRow).where(ChangeLogRow.entity == entity)
        if key_column == "id":
            stmt = stmt.where(ChangeLogRow.entity_id == key)
        else:
            table = Base.metadata.tables[entity]
            ids = select(table.c.id).where(table.c[key_column] == key)
            stmt = stmt.where(ChangeLogRow.entity_id.in_(ids))
        rows = (await self._session.execute(stmt.order_by(ChangeLogRow.seq))).scalars().all()
        changes = [r.seq for r in rows]
        if parent is not None:
            changes += (
                await self._session.scalars(
                    select(ChangeLogRow.seq).where(
                        ChangeLogRow.entity == parent, ChangeLogRow.entity_id == key
                    )
                )
            ).all()
        changes.sort()
        out = []
        for index, r in enumerate(rows):
            following = [seq for seq in changes if seq > r.seq]
            until = following[0] if index + 1 < len(rows) and following else None
            number = r.version if key_column == "id" else index + 1
            out.append(StreamVersion(number, r.operation, r.recorded_at, r.data, until))
        return out

    def past(self, before_seq: int) -> PastRecords:
        """The module repositories as the rows were before change-log entry ``before_seq``."""
        view = cast(AsyncSession, AsOfSession(self._session, before_seq))
        return PastRecords(
            SqlClinicalRepository(view, self._cipher),
            SqlPrescribingRepository(view),
            SqlExternalDocumentRepository(view),
        )
