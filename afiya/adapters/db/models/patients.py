"""Patient registry tables: identity, sub-records, match keys, MRN sites, merges, review pairs.

NNI, NSS, phone numbers, other identifiers and policy numbers are stored only as
AES-256-GCM envelopes (``*_enc``) bound to their row, with an HMAC blind index
(``*_bidx``) where exact search is needed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, Syncable


class PatientRow(Syncable, Base):
    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_unit_path", "unit_path"),
        Index("ix_patient_birth_year", "birth_year"),
        Index("ix_patient_nni_bidx", "nni_bidx"),
        Index("ix_patient_nss_bidx", "nss_bidx"),
    )

    mrn: Mapped[str] = mapped_column(String(24), unique=True)
    unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    # Registering facility's org-unit path: scoped queries filter on its prefix.
    unit_path: Mapped[str] = mapped_column(String(255))
    given_names: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    given_names_ar: Mapped[str | None] = mapped_column(String(200))
    family_name_ar: Mapped[str | None] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    birth_year_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    nni_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    nni_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    nss_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    nss_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    region: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    commune: Mapped[str | None] = mapped_column(String(100))
    locality: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default="active")
    merged_into_id: Mapped[UUID | None] = mapped_column(ForeignKey("patient.id"))
    completeness: Mapped[int] = mapped_column(Integer, default=0)


class PatientPhoneRow(Syncable, Base):
    __tablename__ = "patient_phone"
    __table_args__ = (
        Index("ix_patient_phone_patient_id", "patient_id"),
        Index("ix_patient_phone_number_bidx", "number_bidx"),
    )

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    number_bidx: Mapped[bytes] = mapped_column(LargeBinary(32))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str | None] = mapped_column(String(50))
    rank: Mapped[int] = mapped_column(Integer, default=0)


class PatientIdentifierRow(Syncable, Base):
    __tablename__ = "patient_identifier"
    __table_args__ = (
        Index("ix_patient_identifier_patient_id", "patient_id"),
        Index("ix_patient_identifier_value_bidx", "value_bidx"),
    )

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    type: Mapped[str] = mapped_column(String(32))
    issuer: Mapped[str | None] = mapped_column(String(100))
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)
    value_bidx: Mapped[bytes] = mapped_column(LargeBinary(32))  # keyed per type


class PatientContactRow(Syncable, Base):
    """Emergency contact / next of kin."""

    __tablename__ = "patient_contact"
    __table_args__ = (Index("ix_patient_contact_patient_id", "patient_id"),)

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    name: Mapped[str] = mapped_column(String(200))
    relationship: Mapped[str | None] = mapped_column(String(50))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    rank: Mapped[int] = mapped_column(Integer, default=0)


class PatientPayerRow(Syncable, Base):
    """A third-party payer (tiers payant) of the patient."""

    __tablename__ = "patient_payer"
    __table_args__ = (Index("ix_patient_payer_patient_id", "patient_id"),)

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(200))
    policy_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    coverage_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class PatientMatchKeyRow(Base):
    """Blocking keys (64-bit hashes): candidate retrieval is one ``key_hash IN (...)`` query.

    Derived from the patient rows on each node, so not synced (rebuilt after a sync).
    """

    __tablename__ = "patient_match_key"
    __table_args__ = (Index("ix_patient_match_key_patient_id", "patient_id"),)

    key_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    patient_id: Mapped[UUID] = mapped_column(primary_key=True)


class PatientMrnSiteRow(Base):
    """An MRN issuing site: one prefix per (facility, node), with this node's counter.

    Node-local on purpose: each node counts for its own prefixes only, so offline nodes
    never collide; prefixes are unique on the central registry.
    """

    __tablename__ = "patient_mrn_site"
    __table_args__ = (UniqueConstraint("unit_id", "node"),)

    prefix: Mapped[str] = mapped_column(String(5), primary_key=True)
    unit_id: Mapped[UUID]
    node: Mapped[str] = mapped_column(String(64))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class PatientMergeRow(Syncable, Base):
    __tablename__ = "patient_merge"
    __table_args__ = (
        Index("ix_patient_merge_survivor_id", "survivor_id"),
        Index("ix_patient_merge_duplicate_id", "duplicate_id"),
    )

    survivor_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    duplicate_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    choices: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_columns: Mapped[list[Any]] = mapped_column(JSON)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)  # row snapshots, ciphertexts kept
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    moved: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    merged_at: Mapped[datetime]
    merged_by: Mapped[UUID | None]
    unmerged_at: Mapped[datetime | None]
    unmerged_by: Mapped[UUID | None]
    unmerge_reason: Mapped[str | None] = mapped_column(Text)
    kept_on_unmerge: Mapped[list[Any]] = mapped_column(JSON, default=list)


class PatientDuplicatePairRow(Syncable, Base):
    """A probable duplicate pair for review; clerks' decisions (distinct) travel with it."""

    __tablename__ = "patient_duplicate_pair"
    __table_args__ = (
        UniqueConstraint("patient_a_id", "patient_b_id"),
        Index("ix_patient_duplicate_pair_status_score", "status", "score"),
    )

    patient_a_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    patient_b_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    score: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str | None] = mapped_column(Text)
