"""FHIR subscriptions and their delivery log (ADR 0109).

``fhir_subscription`` holds the Subscription resources (syncable: versioned, in the
change log). Delivery state is operational and kept apart, so retries do not bump the
resource's version: ``fhir_change_cursor`` says how far each node's change log was
read, ``fhir_notification`` is one event per subscription (pending until delivered),
``fhir_delivery_attempt`` is the log of every POST tried.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, BigIntPK, Syncable


class FhirSubscriptionRow(Syncable, Base):
    __tablename__ = "fhir_subscription"
    __table_args__ = (Index("ix_fhir_subscription_resource_type", "resource_type"),)

    status: Mapped[str] = mapped_column(String(16))  # requested | active | off
    criteria: Mapped[str] = mapped_column(Text)
    resource_type: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(1024))
    payload: Mapped[str] = mapped_column(String(16))  # id-only | full
    headers_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    end_at: Mapped[datetime | None]
    owner_id: Mapped[UUID]


class FhirChangeCursorRow(Base):
    """How far the change log of one node has been matched against subscriptions."""

    __tablename__ = "fhir_change_cursor"

    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_node_seq: Mapped[int] = mapped_column(BigInteger)


class FhirNotificationRow(Base):
    """One event for one subscription; ``pending`` until the subscriber accepted it."""

    __tablename__ = "fhir_notification"
    __table_args__ = (
        UniqueConstraint("subscription_id", "change_seq"),
        Index("ix_fhir_notification_subscription_id_status", "subscription_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    subscription_id: Mapped[UUID]
    change_seq: Mapped[int] = mapped_column(BigInteger)  # change_log.seq that caused it
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[UUID]
    resource_version: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class FhirDeliveryAttemptRow(Base):
    """Every POST tried, successful or not (the delivery log operators read)."""

    __tablename__ = "fhir_delivery_attempt"
    __table_args__ = (Index("ix_fhir_delivery_attempt_subscription_id", "subscription_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    subscription_id: Mapped[UUID]
    notification_id: Mapped[int] = mapped_column(BigInteger)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
