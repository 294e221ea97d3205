"""Tables of the platform: change log, node counters, job outbox, audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, BigIntPK
from afiya.domain.shared.ids import uuid7


class ChangeLogRow(Base):
    """The outbox of every change: sync, events and webhooks read it in ``seq`` order."""

    __tablename__ = "change_log"
    __table_args__ = (
        UniqueConstraint("node", "node_seq"),
        Index("ix_change_log_entity_entity_id", "entity", "entity_id"),
    )

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    node: Mapped[str] = mapped_column(String(64))
    node_seq: Mapped[int] = mapped_column(BigInteger)
    hlc: Mapped[int] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[UUID]
    operation: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime]


class NodeCounter(Base):
    """Per-node sequence of change-log entries, gap-free and in commit order."""

    __tablename__ = "node_counter"

    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class JobRow(Base):
    """A background job in the outbox; ``status`` moves pending → enqueued → done/failed."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_run_after", "status", "run_after"),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(128))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    run_after: Mapped[datetime | None]
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class AuditEventRow(Base):
    """Append-only; each row carries the SHA-256 of the previous one."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_patient_id", "patient_id"),
        Index("ix_audit_event_user_id", "user_id"),
    )

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    id: Mapped[UUID] = mapped_column(unique=True)
    occurred_at: Mapped[datetime]
    user_id: Mapped[UUID | None]
    username: Mapped[str | None] = mapped_column(String(64))
    roles: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[UUID | None]
    outcome: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    node: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last sequence number and hash. Updating it serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
