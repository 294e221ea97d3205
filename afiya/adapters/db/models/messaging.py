"""Messaging-channel tables: USSD PINs and lockouts, callback requests, staff notifications.

- ``ussd_pin``: one argon2id hash per patient, set by staff; never synced through the
  change log (a hash is still a secret), so a plain table keyed by patient.
- ``ussd_lockout``: recent failed identifications per phone number (keyed by its blind
  index, never the number), so a lock survives a restart and holds across processes.
- ``callback_request``: "please call me back" asked over USSD; staff of the patient's
  facility see and close it. The number is encrypted (registered in ``encrypted.py``).
- ``staff_feed_item`` and ``staff_feed_read``: notifications staff list and mark read
  (a reminder failed, a callback was asked); the real-time stream reads their change
  log entries (ADR 0108).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, Syncable


class UssdPinRow(Base):
    """The patient's USSD PIN (argon2id hash)."""

    __tablename__ = "ussd_pin"

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime]
    set_by: Mapped[UUID | None]


class UssdLockoutRow(Base):
    """Failed identification times of one phone number (ISO strings, oldest first)."""

    __tablename__ = "ussd_lockout"

    phone_bidx: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    failures: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class CallbackRequestRow(Syncable, Base):
    """A patient (or an unknown caller) asked to be called back."""

    __tablename__ = "callback_request"
    __table_args__ = (Index("ix_callback_request_unit_path_status", "unit_path", "status"),)

    unit_path: Mapped[str] = mapped_column(String(255))
    patient_id: Mapped[UUID | None] = mapped_column(ForeignKey("patient.id"))
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    requested_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[UUID | None]
    note: Mapped[str | None] = mapped_column(Text)


class StaffFeedItemRow(Syncable, Base):
    """A notification for the staff of a unit (``unit_path`` scopes who sees it)."""

    __tablename__ = "staff_feed_item"
    __table_args__ = (
        Index("ix_staff_feed_item_unit_path_occurred_at", "unit_path", "occurred_at"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    unit_path: Mapped[str] = mapped_column(String(255))
    patient_id: Mapped[UUID | None]
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime]


class StaffFeedReadRow(Base):
    """One user has read one notification."""

    __tablename__ = "staff_feed_read"

    item_id: Mapped[UUID] = mapped_column(ForeignKey("staff_feed_item.id"), primary_key=True)
    user_id: Mapped[UUID] = mapped_column(primary_key=True)
    read_at: Mapped[datetime]
