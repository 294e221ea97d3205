"""Prescribing tables: the formulary, pharmacists' local rules, prescriptions (order sets
of medication, laboratory and imaging lines) and dispensings (ADR 0103, workflow).

A prescription is append-only: an amendment is a new version (``series_id``,
``rx_version``, ``previous_id``) and the old one keeps its lines, alerts and the
dispensings made against them; ``is_current`` marks the version in force. Each
medication line keeps the alerts the engine raised and the prescriber's override.
A dispensing row is written for every decision, including a refused attempt, so the
refusal and the override that followed both stay on the timeline.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, Syncable
from afiya.domain.patients.references import register_reference


class FormularyProductRow(Syncable, Base):
    """A product of the formulary: WHO EML seed rows (``source`` ``who_eml``, ids derived
    from the code so every node seeds the same ids) and pharmacists' products."""

    __tablename__ = "formulary_product"
    __table_args__ = (UniqueConstraint("code"), Index("ix_formulary_product_atc", "atc"))

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(64))
    routes: Mapped[list[Any]] = mapped_column(JSON)
    atc: Mapped[str | None] = mapped_column(String(8))
    ingredients: Mapped[list[Any]] = mapped_column(JSON)  # code, inn, atc, strength
    local_names: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(16))  # who_eml, local
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class LocalRuleRow(Syncable, Base):
    """One version of a pharmacist's local rule, in the knowledge base's file format."""

    __tablename__ = "prescribing_local_rule"
    __table_args__ = (UniqueConstraint("rule_id", "rule_version"),)

    rule_id: Mapped[str] = mapped_column(String(100))
    rule_version: Mapped[int] = mapped_column(Integer)
    rule_type: Mapped[str] = mapped_column(String(32))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    author_id: Mapped[UUID]
    occurred_at: Mapped[datetime]
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class PrescriptionRow(Syncable, Base):
    """One version of a prescription (ordonnance)."""

    __tablename__ = "prescription"
    __table_args__ = (
        Index("ix_prescription_patient_id_occurred_at_id", "patient_id", "occurred_at", "id"),
        Index("ix_prescription_patient_id_is_current_status", "patient_id", "is_current", "status"),
        UniqueConstraint("series_id", "rx_version"),
    )

    series_id: Mapped[UUID]
    rx_version: Mapped[int] = mapped_column(Integer)
    previous_id: Mapped[UUID | None] = mapped_column(ForeignKey("prescription.id"))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    unit_path: Mapped[str] = mapped_column(String(255))
    encounter_id: Mapped[UUID | None] = mapped_column(ForeignKey("clinical_encounter.id"))
    prescriber_id: Mapped[UUID]
    status: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]  # written
    note: Mapped[str | None] = mapped_column(Text)
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    renewal_of: Mapped[UUID | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[UUID | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    knowledge_version: Mapped[str] = mapped_column(String(64))


class PrescriptionLineRow(Syncable, Base):
    """A line of a prescription: a medication, a laboratory test or an imaging study."""

    __tablename__ = "prescription_line"
    __table_args__ = (
        UniqueConstraint("prescription_id", "position"),
        Index("ix_prescription_line_patient_id", "patient_id"),
    )

    prescription_id: Mapped[UUID] = mapped_column(ForeignKey("prescription.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # medication, lab, imaging
    product_code: Mapped[str | None] = mapped_column(String(64))
    product_name: Mapped[str | None] = mapped_column(String(200))
    dose: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    dose_unit: Mapped[str | None] = mapped_column(String(24))
    route: Mapped[str | None] = mapped_column(String(24))
    frequency_per_day: Mapped[Decimal | None] = mapped_column(Numeric(8, 3))
    duration_days: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    as_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    instructions: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(16))  # LOINC of a lab test
    test_name: Mapped[str | None] = mapped_column(String(200))
    modality: Mapped[str | None] = mapped_column(String(8))
    body_site: Mapped[str | None] = mapped_column(String(200))
    alerts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[UUID | None]
    override_at: Mapped[datetime | None]


class DispensingRow(Syncable, Base):
    """One dispensing decision on a medication line: dispensed, refused by the safety
    engine, or rejected by the pharmacist."""

    __tablename__ = "dispensing"
    __table_args__ = (
        Index("ix_dispensing_patient_id_occurred_at_id", "patient_id", "occurred_at", "id"),
        Index("ix_dispensing_line_id", "line_id"),
    )

    prescription_id: Mapped[UUID] = mapped_column(ForeignKey("prescription.id"))
    line_id: Mapped[UUID] = mapped_column(ForeignKey("prescription_line.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    unit_path: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # dispensed, refused, rejected
    occurred_at: Mapped[datetime]
    dispenser_id: Mapped[UUID]
    product_code: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    quantity_unit: Mapped[str | None] = mapped_column(String(24))
    alerts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text)  # rejection or override reason
    override_of: Mapped[UUID | None] = mapped_column(ForeignKey("dispensing.id"))
    override_by: Mapped[UUID | None]
    knowledge_version: Mapped[str] = mapped_column(String(64))


# A merge moves prescriptions and dispensings with the rest of the record.
PRESCRIBING_PATIENT_TABLES = ("prescription", "prescription_line", "dispensing")
for _table in PRESCRIBING_PATIENT_TABLES:
    register_reference(_table, "patient_id", module="prescribing")
