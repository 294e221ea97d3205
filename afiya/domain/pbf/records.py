"""What the PBF module stores: programmes, rule-set versions, contracts, groups, the
verification workflow (declarations, quality evaluations, counter-verifications),
adjustments, period locks, budgets and computed invoices.

Periods are DHIS2 codes. Facilities are referred to by id and by their materialised path
(``/uid1/uid2/``), which is what the access policy scopes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from afiya.domain.pbf.model import BudgetPolicy, RuleSet


class DeclarationStatus(StrEnum):
    """declared (by the facility) -> verified (by the agency) -> validated (by the committee)."""

    DECLARED = "declared"
    VERIFIED = "verified"
    VALIDATED = "validated"


class Step(StrEnum):
    """A workflow step, the state it fills and the status it leads to."""

    DECLARE = "declare"
    VERIFY = "verify"
    VALIDATE = "validate"

    @property
    def state(self) -> str:
        return _STEP_STATE[self]

    @property
    def status(self) -> DeclarationStatus:
        return _STEP_STATUS[self]


# Looked up on every imported row: built once, not per call.
_STEP_STATE = {Step.DECLARE: "claimed", Step.VERIFY: "verified", Step.VALIDATE: "validated"}
_STEP_STATUS = {
    Step.DECLARE: DeclarationStatus.DECLARED,
    Step.VERIFY: DeclarationStatus.VERIFIED,
    Step.VALIDATE: DeclarationStatus.VALIDATED,
}


@dataclass(frozen=True, slots=True)
class ProgrammeRecord:
    id: UUID
    code: str
    name: str
    currency: str
    description: str = ""
    dhis2_mapping: Mapping[str, str] = field(default_factory=dict)
    version: int = 1


@dataclass(frozen=True, slots=True)
class RuleSetVersion:
    """A stored rule-set version: the parsed rules, their document and content hash."""

    id: UUID
    programme_id: UUID
    rule_set: RuleSet
    document: Mapping[str, Any]
    content_hash: str
    created_at: datetime | None = None

    @property
    def version(self) -> int:
        return self.rule_set.version


@dataclass(frozen=True, slots=True)
class Contract:
    """A facility's PBF contract, verified by an agency, paid by a payer, in a category."""

    id: UUID
    programme_id: UUID
    org_unit_id: UUID
    org_unit_path: str
    agency: str
    category: str
    payer: str
    start_date: date
    end_date: date | None = None
    reference: str | None = None
    version: int = 1

    def active_between(self, first: date, last: date) -> bool:
        return self.start_date <= last and (self.end_date is None or self.end_date >= first)


@dataclass(frozen=True, slots=True)
class OrgUnitGroup:
    id: UUID
    code: str
    name: str
    members: tuple[UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class Facility:
    """The facts the engine needs about a contracted facility."""

    id: UUID
    uid: str
    code: str | None
    name: str
    path: str
    groups: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Declaration:
    id: UUID
    programme_id: UUID
    org_unit_id: UUID
    org_unit_path: str
    period: str
    package: str
    activity: str
    status: DeclarationStatus
    claimed: Decimal | None = None
    verified: Decimal | None = None
    validated: Decimal | None = None
    declared_by: UUID | None = None
    declared_at: datetime | None = None
    verified_by: UUID | None = None
    verified_at: datetime | None = None
    validated_by: UUID | None = None
    validated_at: datetime | None = None
    comment: str | None = None
    version: int = 1

    @property
    def key(self) -> tuple[UUID, str, str, str]:
        return (self.org_unit_id, self.period, self.package, self.activity)


@dataclass(frozen=True, slots=True)
class StepEntry:
    """One value entered at one workflow step (mobile entry or a file row).

    ``value`` ``None`` records that the value is missing (its ``_is_null`` is 1), which is
    not the same as zero.
    """

    org_unit_id: UUID
    period: str
    package: str
    activity: str
    value: Decimal | None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    code: str  # the activity code in the quality package
    label: str
    max_score: Decimal


@dataclass(frozen=True, slots=True)
class ChecklistSection:
    code: str
    name: str
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True, slots=True)
class QualityChecklist:
    id: UUID
    programme_id: UUID
    code: str
    name: str
    package: str
    sections: tuple[ChecklistSection, ...]

    def items(self) -> dict[str, ChecklistItem]:
        return {item.code: item for s in self.sections for item in s.items}

    @property
    def max_total(self) -> Decimal:
        return sum((i.max_score for s in self.sections for i in s.items), Decimal(0))


@dataclass(frozen=True, slots=True)
class QualityEvaluation:
    id: UUID
    programme_id: UUID
    checklist_id: UUID
    org_unit_id: UUID
    org_unit_path: str
    period: str  # a quarter
    scores: Mapping[str, Decimal]
    total: Decimal
    max_total: Decimal
    evaluated_by: UUID | None
    evaluated_at: datetime
    version: int = 1

    @property
    def percent(self) -> Decimal:
        return (self.total * 100 / self.max_total) if self.max_total else Decimal(0)


@dataclass(frozen=True, slots=True)
class CounterVerification:
    """Community counter-verification of one activity: patients sampled from the register,
    found at home, and who confirmed the service. Fed to the rules as ``cv_sampled``,
    ``cv_found``, ``cv_not_found`` and ``cv_confirmed``."""

    id: UUID
    programme_id: UUID
    org_unit_id: UUID
    org_unit_path: str
    period: str
    package: str
    activity: str
    sampled: int
    found: int
    confirmed: int
    recorded_by: UUID | None
    recorded_at: datetime
    version: int = 1


@dataclass(frozen=True, slots=True)
class Adjustment:
    """An amount carried to a later payment (a correction after payment, a recovery)."""

    id: UUID
    programme_id: UUID
    org_unit_id: UUID
    org_unit_path: str
    payment_rule: str
    origin_period: str
    apply_period: str
    amount: Decimal
    reason: str
    created_by: UUID | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PeriodLock:
    id: UUID
    programme_id: UUID
    period: str
    locked: bool
    locked_by: UUID | None = None
    locked_at: datetime | None = None
    reopened_by: UUID | None = None
    reopened_at: datetime | None = None
    reason: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Budget:
    id: UUID
    programme_id: UUID
    period: str
    amount: Decimal
    policy: BudgetPolicy


@dataclass(frozen=True, slots=True)
class StoredInvoice:
    """A computed invoice as stored: lines carry their explanation."""

    id: UUID
    computation_id: UUID
    payment_rule: str
    org_unit_id: UUID
    org_unit_path: str
    period: str
    currency: str
    computed_total: Decimal
    budget_adjustment: Decimal
    carried_adjustments: Decimal
    total: Decimal
    payers: tuple[Mapping[str, Any], ...]
    lines: tuple[Mapping[str, Any], ...]
    rule_set_hash: str
    simulated: bool = False


@dataclass(frozen=True, slots=True)
class Computation:
    id: UUID
    programme_id: UUID
    period: str
    rule_set_id: UUID
    rule_set_hash: str
    current: bool
    invoice_count: int
    total: Decimal
    created_by: UUID | None = None
    created_at: datetime | None = None
