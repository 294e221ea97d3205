"""Staff users, their unit assignments and refresh tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, Syncable


class UserRow(Syncable, Base):
    __tablename__ = "app_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(String(512))  # comma-separated role names
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="fr")
    # Staff phone (for SMS alerts): AES-256-GCM envelope + HMAC blind index for lookups.
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class UserUnitRow(Syncable, Base):
    """A user's assignment to an org-unit sub-tree."""

    __tablename__ = "user_unit"
    __table_args__ = (Index("ix_user_unit_user_id_unit_id", "user_id", "unit_id", unique=True),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))


class RefreshTokenRow(Base):
    """Node-local session state: not synced, so not Syncable."""

    __tablename__ = "refresh_token"
    __table_args__ = (Index("ix_refresh_token_family_id", "family_id"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    family_id: Mapped[UUID]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
