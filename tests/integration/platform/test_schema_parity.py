"""One migration set gives SQLite and PostgreSQL the same schema, matching the models."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from afiya.adapters.db.engine import create_engine
from afiya.adapters.db.migrate import downgrade, upgrade
from afiya.adapters.db.models import Base
from tests.conftest import _pg_admin, _pg_database_url, missing_service

FAMILIES = {
    "INTEGER": "integer",
    "BIGINT": "integer",
    "SMALLINT": "integer",
    "VARCHAR": "string",
    "CHAR": "uuid",
    "UUID": "uuid",
    "TEXT": "text",
    "DATETIME": "datetime",
    "TIMESTAMP": "datetime",
    "DATE": "date",
    "BOOLEAN": "boolean",
    "JSON": "json",
    "BLOB": "binary",
    "BYTEA": "binary",
    "NUMERIC": "numeric",
    "FLOAT": "float",
    "DOUBLE PRECISION": "float",
    "REAL": "float",
}


def _family(column_type: Any) -> str:
    name = type(column_type).__name__.upper()
    compiled = str(column_type).upper().split("(")[0]
    for key in (compiled, name):
        if key in FAMILIES:
            return FAMILIES[key]
        if key.startswith("TIMESTAMP"):
            return "datetime"
    return compiled


def _describe(connection: sa.Connection) -> dict[str, Any]:
    inspector = sa.inspect(connection)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        columns = {
            c["name"]: (_family(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
        }
        schema[table] = {
            "columns": columns,
            "pk": sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)
            ),
            "uniques": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
        }
    return schema


async def _inspect(url: str) -> tuple[dict[str, Any], list[Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            schema = await conn.run_sync(_describe)
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
        return schema, diff
    finally:
        await engine.dispose()


def _normalise_uniques(schema: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL reports a UNIQUE constraint as a constraint, SQLite partly as an index."""
    out = {}
    for table, info in schema.items():
        unique_sets = set(info["uniques"]) | {cols for cols, unique in info["indexes"] if unique}
        out[table] = {
            **info,
            "uniques": sorted(unique_sets),
            "indexes": sorted(cols for cols, unique in info["indexes"] if not unique),
        }
    return out


@pytest.fixture
def empty_pg_url():
    name = f"afiya_schema_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        missing_service("PostgreSQL", exc)
    yield _pg_database_url(name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_migrations_give_sqlite_and_postgresql_the_same_schema(tmp_path: Path, empty_pg_url):
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    upgrade(sqlite_url)
    upgrade(empty_pg_url)
    sqlite_schema, sqlite_diff = asyncio.run(_inspect(sqlite_url))
    pg_schema, pg_diff = asyncio.run(_inspect(empty_pg_url))
    assert sqlite_diff == [], f"models and migrations disagree on SQLite: {sqlite_diff}"
    assert pg_diff == [], f"models and migrations disagree on PostgreSQL: {pg_diff}"
    assert _normalise_uniques(sqlite_schema) == _normalise_uniques(pg_schema)
    assert "change_log" in pg_schema and "audit_event" in pg_schema


def test_migrations_downgrade_to_empty_and_back(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)
    schema, diff = asyncio.run(_inspect(url))
    assert diff == [] and "org_unit" in schema
