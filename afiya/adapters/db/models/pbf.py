"""PBF tables: programmes, rule-set versions, contracts, groups, the verification workflow,
period locks, budgets and computed invoices.

Periods are DHIS2 codes (``201601``, ``2016Q1``). Every row is syncable (change log, soft
delete, optimistic version); rows about a facility keep its materialised path so scoped
queries are one indexed prefix match.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
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

#: Declared quantities, scores and counts: exact decimals, never floats.
Quantity = Numeric(20, 6)
Amount = Numeric(20, 4)


class PbfProgrammeRow(Syncable, Base):
    __tablename__ = "pbf_programme"

    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(Text, default="")
    # "<package or rule>.<formula>[.<activity>]" -> DHIS2 data element uid
    dhis2_mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PbfRuleSetRow(Syncable, Base):
    __tablename__ = "pbf_rule_set"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    # the rule-set version number (``version`` is the row's optimistic-concurrency counter)
    number: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[str] = mapped_column(String(7))
    valid_to: Mapped[str | None] = mapped_column(String(7))
    content_hash: Mapped[str] = mapped_column(String(80), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class PbfOrgUnitGroupRow(Syncable, Base):
    __tablename__ = "pbf_org_unit_group"

    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class PbfOrgUnitGroupMemberRow(Syncable, Base):
    __tablename__ = "pbf_org_unit_group_member"
    __table_args__ = (UniqueConstraint("group_id", "org_unit_id"),)

    group_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_org_unit_group.id"))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"), index=True)


class PbfContractRow(Syncable, Base):
    __tablename__ = "pbf_contract"
    __table_args__ = (
        Index("ix_pbf_contract_programme_id_org_unit_path", "programme_id", "org_unit_path"),
    )

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    org_unit_path: Mapped[str] = mapped_column(String(255))
    agency: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50))
    payer: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class PbfDeclarationRow(Syncable, Base):
    """One facility x package x activity x period: the values of each workflow step."""

    __tablename__ = "pbf_declaration"
    __table_args__ = (
        UniqueConstraint("programme_id", "org_unit_id", "period", "package", "activity"),
        Index(
            "ix_pbf_declaration_programme_id_period_org_unit_path",
            "programme_id",
            "period",
            "org_unit_path",
        ),
    )

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    org_unit_path: Mapped[str] = mapped_column(String(255))
    period: Mapped[str] = mapped_column(String(7))
    package: Mapped[str] = mapped_column(String(50))
    activity: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16))
    claimed: Mapped[Decimal | None] = mapped_column(Quantity)
    verified: Mapped[Decimal | None] = mapped_column(Quantity)
    validated: Mapped[Decimal | None] = mapped_column(Quantity)
    declared_by: Mapped[UUID | None] = mapped_column()
    declared_at: Mapped[datetime | None] = mapped_column()
    verified_by: Mapped[UUID | None] = mapped_column()
    verified_at: Mapped[datetime | None] = mapped_column()
    validated_by: Mapped[UUID | None] = mapped_column()
    validated_at: Mapped[datetime | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(String(500))


class PbfQualityChecklistRow(Syncable, Base):
    __tablename__ = "pbf_quality_checklist"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    package: Mapped[str] = mapped_column(String(50))
    sections: Mapped[list[Any]] = mapped_column(JSON)


class PbfQualityEvaluationRow(Syncable, Base):
    __tablename__ = "pbf_quality_evaluation"
    __table_args__ = (UniqueConstraint("checklist_id", "org_unit_id", "period"),)

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    checklist_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_quality_checklist.id"))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    org_unit_path: Mapped[str] = mapped_column(String(255), index=True)
    period: Mapped[str] = mapped_column(String(7))
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[Decimal] = mapped_column(Quantity)
    max_total: Mapped[Decimal] = mapped_column(Quantity)
    evaluated_by: Mapped[UUID | None] = mapped_column()
    evaluated_at: Mapped[datetime] = mapped_column()


class PbfCounterVerificationRow(Syncable, Base):
    __tablename__ = "pbf_counter_verification"
    __table_args__ = (
        UniqueConstraint("programme_id", "org_unit_id", "period", "package", "activity"),
    )

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    org_unit_path: Mapped[str] = mapped_column(String(255), index=True)
    period: Mapped[str] = mapped_column(String(7))
    package: Mapped[str] = mapped_column(String(50))
    activity: Mapped[str] = mapped_column(String(50))
    sampled: Mapped[int] = mapped_column(Integer)
    found: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[UUID | None] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column()


class PbfAdjustmentRow(Syncable, Base):
    __tablename__ = "pbf_adjustment"
    __table_args__ = (
        Index("ix_pbf_adjustment_programme_id_apply_period", "programme_id", "apply_period"),
    )

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    org_unit_path: Mapped[str] = mapped_column(String(255))
    payment_rule: Mapped[str] = mapped_column(String(50))
    origin_period: Mapped[str] = mapped_column(String(7))
    apply_period: Mapped[str] = mapped_column(String(7))
    amount: Mapped[Decimal] = mapped_column(Amount)
    reason: Mapped[str] = mapped_column(String(500))


class PbfPeriodLockRow(Syncable, Base):
    __tablename__ = "pbf_period_lock"
    __table_args__ = (UniqueConstraint("programme_id", "period"),)

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    period: Mapped[str] = mapped_column(String(7))
    locked: Mapped[bool] = mapped_column(Boolean)
    locked_by: Mapped[UUID | None] = mapped_column()
    locked_at: Mapped[datetime | None] = mapped_column()
    reopened_by: Mapped[UUID | None] = mapped_column()
    reopened_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(500))


class PbfBudgetRow(Syncable, Base):
    __tablename__ = "pbf_budget"
    __table_args__ = (UniqueConstraint("programme_id", "period"),)

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    period: Mapped[str] = mapped_column(String(7))
    amount: Mapped[Decimal] = mapped_column(Amount)
    policy: Mapped[str] = mapped_column(String(8))


class PbfComputationRow(Syncable, Base):
    __tablename__ = "pbf_computation"
    __table_args__ = (Index("ix_pbf_computation_programme_id_period", "programme_id", "period"),)

    programme_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_programme.id"))
    period: Mapped[str] = mapped_column(String(7))
    rule_set_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_rule_set.id"))
    rule_set_hash: Mapped[str] = mapped_column(String(80))
    current: Mapped[bool] = mapped_column(Boolean)
    invoice_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Amount)


class PbfInvoiceRow(Syncable, Base):
    __tablename__ = "pbf_invoice"
    __table_args__ = (
        Index("ix_pbf_invoice_computation_id_org_unit_path", "computation_id", "org_unit_path"),
    )

    computation_id: Mapped[UUID] = mapped_column(ForeignKey("pbf_computation.id"))
    payment_rule: Mapped[str] = mapped_column(String(50))
    org_unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    org_unit_path: Mapped[str] = mapped_column(String(255))
    period: Mapped[str] = mapped_column(String(7))
    currency: Mapped[str] = mapped_column(String(3))
    computed_total: Mapped[Decimal] = mapped_column(Amount)
    budget_adjustment: Mapped[Decimal] = mapped_column(Amount)
    carried_adjustments: Mapped[Decimal] = mapped_column(Amount)
    total: Mapped[Decimal] = mapped_column(Amount)
    payers: Mapped[list[Any]] = mapped_column(JSON)
    lines: Mapped[list[Any]] = mapped_column(JSON)
    rule_set_hash: Mapped[str] = mapped_column(String(80))
