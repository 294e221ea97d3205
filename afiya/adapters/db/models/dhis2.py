"""Tables of the DHIS2 exchange.

Connections and mappings are configuration that travels (``Syncable``). Pulled
metadata, figures, the ledger, runs, pulled values and alerts are node-local working
data written in bulk: plain rows without change-log entries, so a million-value push
does not write a million change-log snapshots.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, BigIntPK, Syncable


class Dhis2ConnectionRow(Syncable, Base):
    __tablename__ = "dhis2_connection"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    base_url: Mapped[str] = mapped_column(String(500))
    auth_kind: Mapped[str] = mapped_column(String(8))
    username: Mapped[str | None] = mapped_column(String(100))
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    page_size: Mapped[int] = mapped_column(Integer)
    chunk_size: Mapped[int] = mapped_column(Integer)
    concurrency: Mapped[int] = mapped_column(Integer)
    retry_delay_seconds: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    dhis2_version: Mapped[str | None] = mapped_column(String(32))
    system_id: Mapped[str | None] = mapped_column(String(64))
    last_tested_at: Mapped[datetime | None]
    last_test_ok: Mapped[bool | None] = mapped_column(Boolean)


class Dhis2MappingRow(Syncable, Base):
    __tablename__ = "dhis2_mapping"
    __table_args__ = (Index("ix_dhis2_mapping_connection_id", "connection_id"),)

    connection_id: Mapped[UUID] = mapped_column(ForeignKey("dhis2_connection.id"))
    figure: Mapped[str] = mapped_column(String(100))
    period_type: Mapped[str] = mapped_column(String(32))
    data_element: Mapped[str] = mapped_column(String(11))
    category_option_combo: Mapped[str | None] = mapped_column(String(11))
    attribute_option_combo: Mapped[str | None] = mapped_column(String(11))
    data_set: Mapped[str | None] = mapped_column(String(11))
    source: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean)


class Dhis2MetadataRow(Base):
    """One pulled DHIS2 object; org units carry their match to an Afiya unit."""

    __tablename__ = "dhis2_metadata"
    __table_args__ = (
        UniqueConstraint("connection_id", "resource", "uid"),
        Index("ix_dhis2_metadata_connection_id_afiya_unit_id", "connection_id", "afiya_unit_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    connection_id: Mapped[UUID] = mapped_column(ForeignKey("dhis2_connection.id"))
    resource: Mapped[str] = mapped_column(String(40))
    uid: Mapped[str] = mapped_column(String(11))
    code: Mapped[str | None] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(230))
    last_updated: Mapped[str | None] = mapped_column(String(32))
    path: Mapped[str | None] = mapped_column(String(255))
    level: Mapped[int | None] = mapped_column(Integer)
    parent_uid: Mapped[str | None] = mapped_column(String(11))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    afiya_unit_id: Mapped[UUID | None]
    match_method: Mapped[str | None] = mapped_column(String(8))
    synced_at: Mapped[datetime]


class Dhis2SyncCursorRow(Base):
    """Where the incremental metadata sync of a collection stopped (DHIS2 lastUpdated)."""

    __tablename__ = "dhis2_sync_cursor"

    connection_id: Mapped[UUID] = mapped_column(ForeignKey("dhis2_connection.id"), primary_key=True)
    resource: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_updated: Mapped[str] = mapped_column(String(32))
    synced_at: Mapped[datetime]


class Dhis2FigureRow(Base):
    """The built-in figure source: values other modules want in DHIS2."""

    __tablename__ = "dhis2_figure"
    __table_args__ = (
        UniqueConstraint("figure", "org_unit_id", "period"),
        # Keyset walks of one figure's periods: (figure, period_start, id).
        Index("ix_dhis2_figure_figure_period_start_id", "figure", "period_start", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    figure: Mapped[str] = mapped_column(String(100))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    period: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Dhis2LedgerRow(Base):
    """One version of one value pushed to one connection, and what DHIS2 did with it."""

    __tablename__ = "dhis2_ledger"
    __table_args__ = (
        Index("ix_dhis2_ledger_connection_id_value_key", "connection_id", "value_key"),
        Index("ix_dhis2_ledger_run_id_chunk_no", "run_id", "chunk_no"),
        Index("ix_dhis2_ledger_connection_id_state_retry_on", "connection_id", "state", "retry_on"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    connection_id: Mapped[UUID] = mapped_column(ForeignKey("dhis2_connection.id"))
    value_key: Mapped[str] = mapped_column(String(80))
    data_element: Mapped[str] = mapped_column(String(11))
    period: Mapped[str] = mapped_column(String(20))
    org_unit: Mapped[str] = mapped_column(String(11))
    category_option_combo: Mapped[str | None] = mapped_column(String(11))
    attribute_option_combo: Mapped[str | None] = mapped_column(String(11))
    value: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))
    run_id: Mapped[UUID | None]
    chunk_no: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer)
    conflict_code: Mapped[str | None] = mapped_column(String(16))
    conflict_kind: Mapped[str | None] = mapped_column(String(12))
    conflict_text: Mapped[str | None] = mapped_column(Text)
    retry_on: Mapped[date | None] = mapped_column(Date)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    paid_at: Mapped[datetime | None]
    replaces_accepted: Mapped[bool] = mapped_column(Boolean)
    first_sent_at: Mapped[datetime | None]
    last_sent_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Dhis2PushRunRow(Base):
    __tablename__ = "dhis2_push_run"
    __table_args__ = (Index("ix_dhis2_push_run_connection_id_status", "connection_id", "status"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    connection_id: Mapped[UUID] = mapped_column(ForeignKey("dhis2_connection.id"))
    status: Mapped[str] = mapped_column(String(12))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    selection: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    total_values: Mapped[int] = mapped_column(Integer)
    total_chunks: Mapped[int] = mapped_column(Integer)
    resumes: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Dhis2PushChunkRow(Base):
    __tablename__ = "dhis2_push_chunk"

    run_id: Mapped[UUID] = mapped_column(ForeignKey("dhis2_push_run.id"), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(12))
    size: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    ignored: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[int] = mapped_column(Integer)
    conflicts: Mapped[int] = mapped_column(Integer)
    conflict_list: Mapped[list[Any]] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class Dhis2PullRunRow(Base):
    __tablename__ = "dhis2_pull_run"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    connection_id: Mapped[UUID] = mapped_column(ForeignKey("dhis2_connection.id"))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))
    received: Mapped[int] = mapped_column(Integer)
    alerts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Dhis2PulledValueRow(Base):
    """The latest value DHIS2 holds for a key, as last pulled (for cross-checks)."""

    __tablename__ = "dhis2_pulled_value"
    __table_args__ = (
        UniqueConstraint("connection_id", "value_key"),
        # Reading back one data element's values over a span of periods (revision 0009).
        Index(
            "ix_dhis2_pulled_value_connection_id_data_element_period_start",
            "connection_id",
            "data_element",
            "period_start",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    connection_id: Mapped[UUID] = mapped_column(ForeignKey("dhis2_connection.id"))
    pull_id: Mapped[UUID]
    value_key: Mapped[str] = mapped_column(String(80))
    data_element: Mapped[str] = mapped_column(String(11))
    period: Mapped[str] = mapped_column(String(20))
    # The period's days, for range filters; empty only for a period Afiya cannot read.
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    org_unit: Mapped[str] = mapped_column(String(11))
    category_option_combo: Mapped[str | None] = mapped_column(String(11))
    attribute_option_combo: Mapped[str | None] = mapped_column(String(11))
    value: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    stored_by: Mapped[str | None] = mapped_column(String(255))
    last_updated: Mapped[str | None] = mapped_column(String(32))
    deleted: Mapped[bool] = mapped_column(Boolean)
    pulled_at: Mapped[datetime]


class Dhis2AlertRow(Base):
    __tablename__ = "dhis2_alert"
    __table_args__ = (UniqueConstraint("connection_id", "fingerprint"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    connection_id: Mapped[UUID] = mapped_column(ForeignKey("dhis2_connection.id"))
    kind: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    value_key: Mapped[str] = mapped_column(String(80))
    expected: Mapped[str | None] = mapped_column(Text)
    found: Mapped[str | None] = mapped_column(Text)
    dhis2_last_updated: Mapped[str | None] = mapped_column(String(32))
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
