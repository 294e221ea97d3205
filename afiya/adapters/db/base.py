"""Declarative base and the columns every syncable row carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, String, Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from afiya.domain.shared.clock import SystemClock
from afiya.domain.shared.ids import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on both databases.

    SQLite has no time zones and hands back naive values; PostgreSQL's ``timestamptz``
    returns the session's zone. Either way the application sees aware UTC datetimes,
    and naive input is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Afiya stores aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGINT primary keys do not auto-increment on SQLite (only INTEGER aliases the rowid).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Syncable:
    """Mixin for rows that travel between nodes.

    ``id`` is a UUIDv7 made where the row is created; ``version`` is SQLAlchemy's
    optimistic-concurrency counter (an UPDATE that lost a race fails instead of silently
    overwriting); ``deleted_at`` marks a soft delete. The change-log listener in
    ``afiya.adapters.db.changelog`` fills the audit columns and writes one change-log row
    per insert, update and delete, in the same transaction.
    """

    __syncable__: ClassVar[bool] = True

    id: Mapped[UUID] = mapped_column(Uuid(), primary_key=True, default=uuid7)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[UUID | None] = mapped_column(Uuid(), nullable=True)
    origin_node: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


def session_now(session: AsyncSession) -> datetime:
    """The unit of work's clock (a test may fix it), else the system clock."""
    clock = session.info.get("clock") or SystemClock()
    return clock.now()
