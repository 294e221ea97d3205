"""Bodies of the PBF routes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec

from afiya.domain.pbf.model import BudgetPolicy, PackageKind
from afiya.domain.pbf.periods import Frequency
from afiya.domain.pbf.records import (
    Contract,
    Declaration,
    OrgUnitGroup,
    ProgrammeRecord,
    QualityEvaluation,
    RuleSetVersion,
    StoredInvoice,
)

Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,49}$")]
ProgrammeCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,50}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Month = Annotated[str, msgspec.Meta(pattern=r"^\d{4}(0[1-9]|1[0-2])$")]
PeriodCode = Annotated[str, msgspec.Meta(pattern=r"^\d{4}((0[1-9]|1[0-2])|Q[1-4])?$")]
Expression = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Text = Annotated[str, msgspec.Meta(max_length=500)]


class ProgrammeCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: ProgrammeCode
    name: Name
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    dhis2_mapping: dict[str, str] = {}


class ProgrammeRead(msgspec.Struct):
    id: UUID
    code: str
    name: str
    currency: str
    description: str
    dhis2_mapping: dict[str, str]

    @classmethod
    def of(cls, p: ProgrammeRecord) -> ProgrammeRead:
        return cls(p.id, p.code, p.name, p.currency, p.description, dict(p.dhis2_mapping))


class FormulaIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    expression: Expression
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""
    money: bool = False


class ActivityIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    constants: dict[str, Decimal] = {}


class DecisionTableIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Code
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=200_000)]


class PackageIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    kind: PackageKind
    frequency: Frequency
    states: list[Code]
    activities: list[ActivityIn]
    activity_formulas: list[FormulaIn] = []
    package_formulas: list[FormulaIn] = []
    zone_formulas: list[FormulaIn] = []
    zone_level: Annotated[int, msgspec.Meta(ge=1, le=6)] | None = None
    org_unit_groups: list[Code] = []
    decision_tables: list[DecisionTableIn] = []


class PayerIn(msgspec.Struct, forbid_unknown_fields=True):
    payer: Code
    percent: Decimal


class PaymentRuleIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    frequency: Frequency
    packages: list[Code]
    formulas: list[FormulaIn]
    amount_formula: Code
    payers: list[PayerIn] = []
    decision_tables: list[DecisionTableIn] = []


class RuleSetCreate(msgspec.Struct, forbid_unknown_fields=True):
    valid_from: Month
    packages: list[PackageIn]
    payment_rules: list[PaymentRuleIn]
    valid_to: Month | None = None


class RuleSetClose(msgspec.Struct, forbid_unknown_fields=True):
    valid_to: Month


class RuleSetRead(msgspec.Struct):
    id: UUID
    version: int
    valid_from: str
    valid_to: str | None
    content_hash: str
    document: dict[str, Any]

    @classmethod
    def of(cls, v: RuleSetVersion) -> RuleSetRead:
        return cls(
            v.id,
            v.version,
            v.rule_set.valid_from,
            v.rule_set.valid_to,
            v.content_hash,
            dict(v.document),
        )


class GroupSave(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    members: list[UUID]


class GroupRead(msgspec.Struct):
    id: UUID
    code: str
    name: str
    members: list[UUID]

    @classmethod
    def of(cls, g: OrgUnitGroup) -> GroupRead:
        return cls(g.id, g.code, g.name, list(g.members))


class ContractCreate(msgspec.Struct, forbid_unknown_fields=True):
    org_unit_id: UUID
    agency: Name
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    payer: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    start_date: date
    end_date: date | None = None
    reference: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class ContractRead(msgspec.Struct):
    id: UUID
    org_unit_id: UUID
    agency: str
    category: str
    payer: str
    start_date: date
    end_date: date | None
    reference: str | None

    @classmethod
    def of(cls, c: Contract) -> ContractRead:
        return cls(
            c.id,
            c.org_unit_id,
            c.agency,
            c.category,
            c.payer,
            c.start_date,
            c.end_date,
            c.reference,
        )


class ChecklistItemIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    label: Name
    max_score: Decimal


class ChecklistSectionIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    items: list[ChecklistItemIn]


class ChecklistCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    package: Code
    sections: list[ChecklistSectionIn]


class BudgetSet(msgspec.Struct, forbid_unknown_fields=True):
    amount: Decimal
    policy: BudgetPolicy = BudgetPolicy.SCALE


class LockChange(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text | None = None


class LockRead(msgspec.Struct):
    period: str
    locked: bool
    locked_by: UUID | None
    locked_at: datetime | None
    reopened_by: UUID | None
    reopened_at: datetime | None
    reason: str | None


class AdjustmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    org_unit_id: UUID
    payment_rule: Code
    origin_period: PeriodCode
    apply_period: PeriodCode
    amount: Decimal
    reason: Text


class EntryIn(msgspec.Struct, forbid_unknown_fields=True):
    org_unit_id: UUID
    period: PeriodCode
    package: Code
    activity: Code
    value: Decimal | None
    comment: Text | None = None


class EntriesIn(msgspec.Struct, forbid_unknown_fields=True):
    entries: Annotated[list[EntryIn], msgspec.Meta(min_length=1, max_length=20_000)]


class DeclarationRead(msgspec.Struct):
    id: UUID
    org_unit_id: UUID
    period: str
    package: str
    activity: str
    status: str
    claimed: Decimal | None
    verified: Decimal | None
    validated: Decimal | None
    declared_by: UUID | None
    declared_at: datetime | None
    verified_by: UUID | None
    verified_at: datetime | None
    validated_by: UUID | None
    validated_at: datetime | None
    comment: str | None
    version: int

    @classmethod
    def of(cls, d: Declaration) -> DeclarationRead:
        return cls(**{f: getattr(d, f) for f in cls.__struct_fields__})


class StepReportRead(msgspec.Struct):
    created: int
    updated: int


class EvaluationIn(msgspec.Struct, forbid_unknown_fields=True):
    checklist: Code
    org_unit_id: UUID
    period: PeriodCode
    scores: dict[str, Decimal]


class EvaluationRead(msgspec.Struct):
    id: UUID
    org_unit_id: UUID
    period: str
    scores: dict[str, Decimal]
    total: Decimal
    max_total: Decimal
    percent: Decimal
    evaluated_by: UUID | None
    evaluated_at: datetime

    @classmethod
    def of(cls, e: QualityEvaluation) -> EvaluationRead:
        return cls(
            e.id,
            e.org_unit_id,
            e.period,
            dict(e.scores),
            e.total,
            e.max_total,
            round(e.percent, 2),
            e.evaluated_by,
            e.evaluated_at,
        )


class CounterVerificationIn(msgspec.Struct, forbid_unknown_fields=True):
    org_unit_id: UUID
    period: PeriodCode
    package: Code
    activity: Code
    sampled: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    found: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    confirmed: Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class ConstantOverride(msgspec.Struct, forbid_unknown_fields=True):
    package: Code
    activity: Code
    constant: Code
    value: Decimal


class SimulationIn(msgspec.Struct, forbid_unknown_fields=True):
    constants: list[ConstantOverride] = []


class InvoiceRead(msgspec.Struct):
    id: UUID
    payment_rule: str
    org_unit_id: UUID
    period: str
    currency: str
    computed_total: Decimal
    budget_adjustment: Decimal
    carried_adjustments: Decimal
    total: Decimal
    payers: list[dict[str, Any]]
    rule_set_hash: str
    simulated: bool
    lines: list[dict[str, Any]] | None = None

    @classmethod
    def of(cls, i: StoredInvoice, *, lines: bool = False) -> InvoiceRead:
        return cls(
            i.id,
            i.payment_rule,
            i.org_unit_id,
            i.period,
            i.currency,
            i.computed_total,
            i.budget_adjustment,
            i.carried_adjustments,
            i.total,
            [dict(p) for p in i.payers],
            i.rule_set_hash,
            i.simulated,
            [dict(x) for x in i.lines] if lines else None,
        )


class ComputationRead(msgspec.Struct):
    id: UUID
    period: str
    rule_set_hash: str
    invoice_count: int
    total: Decimal
    simulated: bool
    invoices: list[InvoiceRead]


class JobScheduled(msgspec.Struct):
    job_id: UUID
