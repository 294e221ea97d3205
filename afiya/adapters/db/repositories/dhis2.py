"""SQL repositories of the DHIS2 exchange: connections and mappings.

Metadata and figures live in :mod:`~afiya.adapters.db.repositories.dhis2_metadata`;

The ledger, runs and alerts live in :mod:`~afiya.adapters.db.repositories.dhis2_ledger` and
:mod:`~afiya.adapters.db.repositories.dhis2_runs`;
:class:`Dhis2Repositories` gathers both for the unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import session_now
from afiya.adapters.db.models.dhis2 import (
    Dhis2ConnectionRow,
    Dhis2MappingRow,
)
from afiya.adapters.db.repositories.dhis2_ledger import SqlAlertRepository, SqlLedger
from afiya.adapters.db.repositories.dhis2_metadata import SqlFigureTable, SqlMetadataStore
from afiya.adapters.db.repositories.dhis2_pulled import SqlPulledValues
from afiya.adapters.db.repositories.dhis2_runs import SqlRunStore
from afiya.adapters.db.repositories.pbf_figures import SqlPbfFigureSource
from afiya.domain.dhis2.pbf_figures import PBF_SOURCE
from afiya.domain.dhis2.periods import PeriodType
from afiya.domain.dhis2.sync_model import (
    DEFAULT_SOURCE,
    AuthKind,
    Connection,
    ConnectionCheck,
    ConnectionSettings,
    FigureMapping,
    MappingSettings,
)
from afiya.domain.platform.crypto import FieldCipher

_SETTINGS = (
    "name",
    "base_url",
    "username",
    "timeout_seconds",
    "page_size",
    "chunk_size",
    "concurrency",
    "retry_delay_seconds",
    "active",
)
PAGE = 1000


def _secret_context(connection_id: UUID) -> str:
    return f"dhis2_connection:{connection_id}:secret"


def _connection(row: Dhis2ConnectionRow) -> Connection:
    settings = ConnectionSettings(
        auth_kind=AuthKind(row.auth_kind), **{f: getattr(row, f) for f in _SETTINGS}
    )
    return Connection(
        id=row.id,
        settings=settings,
        has_secret=bool(row.secret_enc),
        dhis2_version=row.dhis2_version,
        system_id=row.system_id,
        last_tested_at=row.last_tested_at,
        last_test_ok=row.last_test_ok,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlConnectionRepository:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def _row(self, connection_id: UUID) -> Dhis2ConnectionRow | None:
        return (
            await self._session.execute(
                select(Dhis2ConnectionRow).where(
                    Dhis2ConnectionRow.id == connection_id, Dhis2ConnectionRow.deleted_at.is_(None)
                )
            )
        ).scalar_one_or_none()

    async def add(self, connection: Connection, secret: str) -> None:
        s = connection.settings
        row = Dhis2ConnectionRow(
            id=connection.id,
            auth_kind=s.auth_kind.value,
            secret_enc=self._cipher.encrypt(secret, _secret_context(connection.id)),
            **{f: getattr(s, f) for f in _SETTINGS},
        )
        self._session.add(row)
        await self._session.flush()

    async def get(self, connection_id: UUID) -> Connection | None:
        row = await self._row(connection_id)
        return _connection(row) if row else None

    async def find_name(self, name: str) -> Connection | None:
        row = (
            await self._session.execute(
                select(Dhis2ConnectionRow).where(Dhis2ConnectionRow.name == name)
            )
        ).scalar_one_or_none()
        return _connection(row) if row else None

    async def all(self) -> list[Connection]:
        rows = await self._session.execute(
            select(Dhis2ConnectionRow)
            .where(Dhis2ConnectionRow.deleted_at.is_(None))
            .order_by(Dhis2ConnectionRow.name)
        )
        return [_connection(r) for r in rows.scalars()]

    async def update(self, connection: Connection, secret: str | None) -> Connection:
        row = await self._row(connection.id)
        if row is None:
            raise LookupError(connection.id)
        for f in _SETTINGS:
            setattr(row, f, getattr(connection.settings, f))
        row.auth_kind = connection.settings.auth_kind.value
        if secret is not None:
            row.secret_enc = self._cipher.encrypt(secret, _secret_context(connection.id))
        await self._session.flush()
        return _connection(row)

    async def delete(self, connection_id: UUID) -> None:
        row = await self._row(connection_id)
        if row is not None:
            # Free the name for a new connection; the old one stays for the record.
            row.name = f"{row.name[:80]}~deleted~{str(row.id)[:8]}"
            row.active = False
            row.deleted_at = session_now(self._session)
            await self._session.flush()

    async def secret(self, connection_id: UUID) -> str:
        row = await self._row(connection_id)
        if row is None:
            raise LookupError(connection_id)
        return self._cipher.decrypt(row.secret_enc, _secret_context(connection_id))

    async def record_check(self, connection_id: UUID, check: ConnectionCheck, at: datetime) -> None:
        row = await self._row(connection_id)
        if row is None:
            return
        row.last_tested_at = at
        row.last_test_ok = check.ok
        if check.ok:
            row.dhis2_version = check.version
            row.system_id = (check.system_id or "")[:64] or None
        await self._session.flush()


def _mapping(row: Dhis2MappingRow) -> FigureMapping:
    return FigureMapping(
        id=row.id,
        connection_id=row.connection_id,
        settings=MappingSettings(
            figure=row.figure,
            period_type=PeriodType(row.period_type),
            data_element=row.data_element,
            category_option_combo=row.category_option_combo,
            attribute_option_combo=row.attribute_option_combo,
            data_set=row.data_set,
            source=row.source,
            active=row.active,
        ),
        version=row.version,
    )


_MAPPING_FIELDS = (
    "figure",
    "data_element",
    "category_option_combo",
    "attribute_option_combo",
    "data_set",
    "source",
    "active",
)


class SqlMappingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _row(self, mapping_id: UUID) -> Dhis2MappingRow | None:
        return (
            await self._session.execute(
                select(Dhis2MappingRow).where(
                    Dhis2MappingRow.id == mapping_id, Dhis2MappingRow.deleted_at.is_(None)
                )
            )
        ).scalar_one_or_none()

    async def add(self, mapping: FigureMapping) -> None:
        s = mapping.settings
        self._session.add(
            Dhis2MappingRow(
                id=mapping.id,
                connection_id=mapping.connection_id,
                period_type=s.period_type.value,
                **{f: getattr(s, f) for f in _MAPPING_FIELDS},
            )
        )
        await self._session.flush()

    async def get(self, mapping_id: UUID) -> FigureMapping | None:
        row = await self._row(mapping_id)
        return _mapping(row) if row else None

    async def for_connection(
        self, connection_id: UUID, *, active_only: bool = False
    ) -> list[FigureMapping]:
        stmt = select(Dhis2MappingRow).where(
            Dhis2MappingRow.connection_id == connection_id, Dhis2MappingRow.deleted_at.is_(None)
        )
        if active_only:
            stmt = stmt.where(Dhis2MappingRow.active.is_(True))
        rows = await self._session.execute(stmt.order_by(Dhis2MappingRow.figure))
        return [_mapping(r) for r in rows.scalars()]

    async def update(self, mapping: FigureMapping) -> FigureMapping:
        row = await self._row(mapping.id)
        if row is None:
            raise LookupError(mapping.id)
        for f in _MAPPING_FIELDS:
            setattr(row, f, getattr(mapping.settings, f))
        row.period_type = mapping.settings.period_type.value
        await self._session.flush()
        return _mapping(row)

    async def delete(self, mapping_id: UUID) -> None:
        row = await self._row(mapping_id)
        if row is not None:
            row.deleted_at = session_now(self._session)
            await self._session.flush()

    async def target_taken(self, mapping: FigureMapping) -> bool:
        s, t = mapping.settings, Dhis2MappingRow

        def same(column: Any, value: str | None) -> Any:
            return column.is_(None) if value is None else column == value

        found = await self._session.execute(
            select(t.id).where(
                t.connection_id == mapping.connection_id,
                t.deleted_at.is_(None),
                t.id != mapping.id,
                t.data_element == s.data_element,
                t.period_type == s.period_type.value,
                same(t.category_option_combo, s.category_option_combo),
                same(t.attribute_option_combo, s.attribute_option_combo),
            )
        )
        return found.first() is not None


class Dhis2Repositories:
    """Everything of the DHIS2 module over one session (``uow.dhis2``)."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self.connections = SqlConnectionRepository(session, cipher)
        self.metadata = SqlMetadataStore(session)
        self.mappings = SqlMappingRepository(session)
        self.figures = SqlFigureTable(session)
        self.ledger = SqlLedger(session)
        self.runs = SqlRunStore(session)
        self.alerts = SqlAlertRepository(session)
        self.pulled = SqlPulledValues(session)
        self.pbf_results = SqlPbfFigureSource(session)

    @property
    def sources(self) -> dict[str, Any]:
        """Figure sources by name; other modules' sources plug in here."""
        return {DEFAULT_SOURCE: self.figures, PBF_SOURCE: self.pbf_results}
