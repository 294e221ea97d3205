"""PBF intelligence tables: facility profiles, the model registry, runs, flags, plans and
the plan targets that verifiers check (review and counter-verification outcome).

A model's bytes (LightGBM text and its metadata header) live in the blob store; the
registry row keeps the key, checksum, training window, features, metrics, data hash and
the approval. A *run* is one request (train, score a period, plan a period) carried out
by a job; flagged values and plan units belong to the run that produced them. Rows about
a facility keep its materialised path so scoped lists are one indexed prefix match.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, Syncable

Amount = Numeric(20, 4)


class PbfFacilityProfileRow(Syncable, Base):
    """What the models need about a facility beyond the org unit: level and population."""

    __tablename__ = "pbf_facility_profile"

    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"), unique=True)
    org_unit_path: Mapped[str] = mapped_column(String(255), index=True)
    level: Mapped[str] = mapped_column(String(20))
    catchment_population: Mapped[int] = mapped_column(Integer)


class PbfModelRow(Syncable, Base):
    """One trained model of one kind: ``trained`` → ``approved`` → ``retired``."""

    __tablename__ = "pbf_model"
    __table_args__ = (
        Index("ix_pbf_model_programme_id_kind_state", "programme_id", "kind", "state"),
        Index(
            "uq_pbf_model_programme_id_kind_data_hash",
            "programme_id",
            "kind",
            "data_hash",
            unique=True,
        ),
    )

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    kind: Mapped[str] = mapped_column(String(50))
    model_version: Mapped[str] = mapped_column(String(36), unique=True)
    state: Mapped[str] = mapped_column(String(12))
    blob_key: Mapped[str] = mapped_column(String(255))
    blob_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    scope_path: Mapped[str] = mapped_column(String(255))
    training_first_period: Mapped[str] = mapped_column(String(7))
    training_last_period: Mapped[str] = mapped_column(String(7))
    data_hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    library: Mapped[str] = mapped_column(String(50))
    features: Mapped[list[Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    trained_run_id: Mapped[UUID | None] = mapped_column()
    approved_by: Mapped[UUID | None] = mapped_column()
    approved_at: Mapped[datetime | None] = mapped_column()
    retired_at: Mapped[datetime | None] = mapped_column()


class PbfIntelligenceRunRow(Syncable, Base):
    """A training, scoring or planning request and its outcome (``pending|done|failed``)."""

    __tablename__ = "pbf_intelligence_run"

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    kind: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    period: Mapped[str | None] = mapped_column(String(7))
    first_period: Mapped[str | None] = mapped_column(String(7))
    last_period: Mapped[str | None] = mapped_column(String(7))
    scope_paths: Mapped[list[Any]] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_id: Mapped[UUID | None] = mapped_column(ForeignKey("pbf_model.id"))
    method: Mapped[str | None] = mapped_column(String(12))
    # {"msgid": ..., "params": {...}}: why it failed, or why the rules replaced the model
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[UUID | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    # plans only: ``proposed`` when the job wrote it, ``approved`` (frozen) after review
    plan_state: Mapped[str | None] = mapped_column(String(12))
    approved_by: Mapped[UUID | None] = mapped_column()
    approved_at: Mapped[datetime | None] = mapped_column()


class PbfAnomalyFlagRow(Syncable, Base):
    """A flagged declared value of a scoring run, with the reasons that drove it."""

    __tablename__ = "pbf_anomaly_flag"
    __table_args__ = (Index("ix_pbf_anomaly_flag_run_id_org_unit_path", "run_id", "org_unit_path"),)

    run_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_intelligence_run.id"))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    org_unit_path: Mapped[str] = mapped_column(String(255))
    period: Mapped[str] = mapped_column(String(7))
    indicator: Mapped[str] = mapped_column(String(101))
    declared: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    residual: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    # [{"code", "msgid", "params", "weight"}], strongest first
    reasons: Mapped[list[Any]] = mapped_column(JSON)


class PbfPlanUnitRow(Syncable, Base):
    """One facility of a plan's sampling frame: rank, inclusion probability, selection."""

    __tablename__ = "pbf_plan_unit"
    __table_args__ = (Index("ix_pbf_plan_unit_run_id_org_unit_path", "run_id", "org_unit_path"),)

    run_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_intelligence_run.id"))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    org_unit_path: Mapped[str] = mapped_column(String(255))
    rank: Mapped[int] = mapped_column(Integer)
    selected: Mapped[bool] = mapped_column(Boolean)
    basis: Mapped[str | None] = mapped_column(String(12))
    # exact fraction "numerator/denominator"
    inclusion_probability: Mapped[str] = mapped_column(String(40))
    expected_recovery: Mapped[Decimal] = mapped_column(Amount)
    indicators: Mapped[list[Any]] = mapped_column(JSON)
    reason: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PbfPlanTargetRow(Syncable, Base):
    """One value a plan sends verifiers to check: facility x indicator x period.

    Written by the plan job for the indicators of each selected facility (``origin``
    ``plan``), or by a reviewer replacing an excluded one (``replacement``, ``replaces_id``).
    The outcome is the value the counter-verification found and the PBF module's own
    counter-verification row (patients sampled, found, confirming the service).
    """

    __tablename__ = "pbf_plan_target"
    __table_args__ = (
        UniqueConstraint("run_id", "org_unit_id", "indicator"),
        Index("ix_pbf_plan_target_run_id_org_unit_path", "run_id", "org_unit_path"),
        Index(
            "ix_pbf_plan_target_org_unit_id_period_indicator",
            "org_unit_id",
            "period",
            "indicator",
        ),
    )

    run_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_intelligence_run.id"))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    org_unit_path: Mapped[str] = mapped_column(String(255))
    period: Mapped[str] = mapped_column(String(7))
    indicator: Mapped[str] = mapped_column(String(101))
    package: Mapped[str] = mapped_column(String(50))
    activity: Mapped[str] = mapped_column(String(50))
    origin: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12))
    replaces_id: Mapped[UUID | None] = mapped_column(ForeignKey("pbf_plan_target.id"))
    review_reason: Mapped[str | None] = mapped_column(String(500))
    reviewed_by: Mapped[UUID | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    counter_verification_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("pbf_counter_verification.id")
    )
    verified_value: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    outcome_by: Mapped[UUID | None] = mapped_column()
    outcome_at: Mapped[datetime | None] = mapped_column()
