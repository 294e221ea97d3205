"""Documents received from other systems: the file (``clinical_binary``, in the blob
store) and its description (``clinical_external_document``), migration 0013.

Both are syncable (the change log carries them to other nodes and to subscribers) and
follow a patient merge like the other clinical tables. A binary uploaded before its
document has no patient until the document claims it; one binary serves one document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, Syncable
from afiya.domain.patients.references import register_reference


class BinaryRow(Syncable, Base):
    __tablename__ = "clinical_binary"
    __table_args__ = (Index("ix_clinical_binary_patient_id", "patient_id"),)

    patient_id: Mapped[UUID | None] = mapped_column(ForeignKey("patient.id"))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha1: Mapped[str] = mapped_column(String(28))  # base64 of the SHA-1 digest
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(255))


class ExternalDocumentRow(Syncable, Base):
    __tablename__ = "clinical_external_document"
    __table_args__ = (
        Index(
            "ix_clinical_external_document_patient_id_occurred_at_id",
            "patient_id",
            "occurred_at",
            "id",
        ),
        UniqueConstraint("binary_id"),
    )

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    encounter_id: Mapped[UUID | None] = mapped_column(ForeignKey("clinical_encounter.id"))
    binary_id: Mapped[UUID] = mapped_column(ForeignKey("clinical_binary.id"))
    status: Mapped[str] = mapped_column(String(16))
    doc_status: Mapped[str | None] = mapped_column(String(16))
    occurred_at: Mapped[datetime]  # DocumentReference.date
    description: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(35))
    creation: Mapped[datetime | None]
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    codes: Mapped[dict[str, Any]] = mapped_column(JSON)
    identifiers: Mapped[list[Any]] = mapped_column(JSON)


for _table in ("clinical_binary", "clinical_external_document"):
    register_reference(_table, "patient_id", module="clinical")
