"""Organisation-unit table."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, Syncable


class OrgUnitRow(Syncable, Base):
    __tablename__ = "org_unit"
    __table_args__ = (Index("ix_org_unit_parent_id", "parent_id"),)

    uid: Mapped[str] = mapped_column(String(11), unique=True)
    code: Mapped[str | None] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(230))
    short_name: Mapped[str | None] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer)
    # "/uid1/uid2/": prefix queries find a whole sub-tree through this unique index.
    path: Mapped[str] = mapped_column(String(255), unique=True)
    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey("org_unit.id"))
    timezone: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str | None] = mapped_column(String(3))
    opening_date: Mapped[date | None] = mapped_column(Date)
    closed_date: Mapped[date | None] = mapped_column(Date)
