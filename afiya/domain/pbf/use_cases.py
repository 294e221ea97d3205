"""PBF use cases: programmes, rule-set versions, groups, contracts, checklists, budgets,
adjustments and period locks. (The workflow is in ``workflow_cases``, computations in
``computing``.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, Scope, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.pbf.documents import rule_set_from_document
from afiya.domain.pbf.errors import PeriodInvalid
from afiya.domain.pbf.model import BudgetPolicy, Programme
from afiya.domain.pbf.periods import Frequency, parse_period
from afiya.domain.pbf.ports import PbfStore
from afiya.domain.pbf.records import (
    Adjustment,
    Budget,
    ChecklistItem,
    ChecklistSection,
    Contract,
    OrgUnitGroup,
    PeriodLock,
    ProgrammeRecord,
    QualityChecklist,
    RuleSetVersion,
)
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7
from afiya.domain.shared.money import CURRENCIES, currency, quantize


def _error(field: str, msgid: str, **params: Any) -> FieldError:
    return FieldError(field, Message(msgid, params))


def _period_error(field: str, code: str) -> FieldError | None:
    try:
        parse_period(code)
    except PeriodInvalid as exc:
        return FieldError(field, exc.message, exc.code)
    return None


async def get_programme(code: str, *, store: PbfStore) -> ProgrammeRecord:
    """The programme with ``code``; :class:`NotFound` otherwise."""
    programme = await store.programme(code)
    if programme is None:
        raise NotFound(Message(N_("PBF programme {code} not found."), {"code": code}))
    return programme


async def load_programme(record: ProgrammeRecord, *, store: PbfStore) -> Programme:
    """The engine's view of a programme: its rule-set versions."""
    versions = await store.rule_sets(record.id)
    return Programme(
        record.code,
        record.name,
        currency(record.currency),
        tuple(v.rule_set for v in versions),
    )


async def create_programme(
    record: ProgrammeRecord, *, principal: Principal, store: PbfStore, audit: AuditLog
) -> ProgrammeRecord:
    """Create a programme; the code is unique, the currency one Afiya knows (MRU, XOF)."""
    authorize(principal, Permission.PBF_MANAGE)
    errors = []
    if record.currency not in CURRENCIES:
        errors.append(_error("currency", N_("Unknown currency {code}."), code=record.currency))
    if await store.programme(record.code):
        errors.append(_error("code", N_("This code is already used.")))
    if errors:
        raise ValidationFailed(errors)
    await store.add_programme(record)
    await audit.record(AuditRecord("pbf.programme.create", "pbf_programme", str(record.id)))
    return record


async def add_rule_set(
    programme_code: str,
    document: Mapping[str, Any],
    *,
    valid_from: str,
    valid_to: str | None,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
) -> RuleSetVersion:
    """Store a new rule-set version (the next number) valid from one month to another.

    Rules: the document is checked completely (structure, decision tables, formulas) and
    every problem reported; validity ranges of a programme's versions may not overlap;
    versions are never edited, a change is a new version (so invoices keep pointing at
    the rules that produced them, by content hash).
    """
    authorize(principal, Permission.PBF_MANAGE)
    programme = await get_programme(programme_code, store=store)
    existing = await store.rule_sets(programme.id)
    version = max((v.version for v in existing), default=0) + 1
    rule_set = rule_set_from_document(
        document,
        programme=programme.code,
        version=version,
        valid_from=valid_from,
        valid_to=valid_to,
        currency=currency(programme.currency),
    )
    start = parse_period(valid_from).first
    end = parse_period(valid_to).last if valid_to else None
    for other in existing:
        o_start = parse_period(other.rule_set.valid_from).first
        o_end = parse_period(other.rule_set.valid_to).last if other.rule_set.valid_to else None
        if (end is None or o_start <= end) and (o_end is None or start <= o_end):
            raise ValidationFailed(
                [
                    _error(
                        "valid_from",
                        N_("The validity overlaps version {version}; close it first."),
                        version=other.version,
                    )
                ]
            )
    stored = RuleSetVersion(
        uuid7(), programme.id, rule_set, dict(document), rule_set.content_hash()
    )
    await store.add_rule_set(stored)
    await audit.record(
        AuditRecord(
            "pbf.rule_set.create",
            "pbf_rule_set",
            str(stored.id),
            details={"version": version, "hash": stored.content_hash},
        )
    )
    return stored


async def close_rule_set(
    programme_code: str,
    version: int,
    valid_to: str,
    *,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
) -> RuleSetVersion:
    """End a version's validity so that a new one can start (the rules stay as they are).

    Rules: the end is a month, not before the start; no computation made with this
    version may lie after the new end. The content hash includes the validity, so it
    changes: the audit event keeps the old and new hashes, and stored invoices keep the
    hash they were computed with and the version's id.
    """
    authorize(principal, Permission.PBF_MANAGE)
    programme = await get_programme(programme_code, store=store)
    current = next((v for v in await store.rule_sets(programme.id) if v.version == version), None)
    if current is None:
        raise NotFound(Message(N_("Rule-set version {version} not found."), {"version": version}))
    error = _period_error("valid_to", valid_to)
    if error is None and (
        parse_period(valid_to).frequency is not Frequency.MONTHLY
        or parse_period(valid_to).first < parse_period(current.rule_set.valid_from).first
    ):
        error = _error("valid_to", N_("The end must be a month after the start."))
    if error is None:
        end = parse_period(valid_to).last
        late = [p for p in await store.computed_periods(current.id) if parse_period(p).last > end]
        if late:
            error = _error(
                "valid_to",
                N_("Invoices of {periods} were computed with this version."),
                periods=", ".join(sorted(late)),
            )
    if error is not None:
        raise ValidationFailed([error])
    rule_set = replace(current.rule_set, valid_to=valid_to)
    closed = replace(current, rule_set=rule_set, content_hash=rule_set.content_hash())
    await store.close_rule_set(closed)
    await audit.record(
        AuditRecord(
            "pbf.rule_set.close",
            "pbf_rule_set",
            str(current.id),
            details={
                "valid_to": valid_to,
                "old_hash": current.content_hash,
                "new_hash": closed.content_hash,
            },
        )
    )
    return closed


async def save_group(
    code: str,
    name: str,
    members: Sequence[UUID],
    *,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
) -> OrgUnitGroup:
    """Create or replace an org-unit group (used by packages and decision tables)."""
    authorize(principal, Permission.PBF_MANAGE)
    found = await store.facilities(members)
    missing = [str(m) for m in members if m not in found]
    if missing:
        raise ValidationFailed(
            [_error("members", N_("Unknown organisation units: {ids}."), ids=", ".join(missing))]
        )
    current = next((g for g in await store.groups() if g.code == code), None)
    group = OrgUnitGroup(
        current.id if current else uuid7(), code, name, tuple(dict.fromkeys(members))
    )
    saved = await store.save_group(group)
    await audit.record(AuditRecord("pbf.group.save", "pbf_org_unit_group", str(saved.id)))
    return saved


async def add_contract(
    programme_code: str,
    org_unit_id: UUID,
    *,
    agency: str,
    category: str,
    payer: str,
    start_date: date,
    end_date: date | None,
    reference: str | None,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
) -> Contract:
    """Contract a facility in the caller's scope; its contracts may not overlap in time."""
    programme = await get_programme(programme_code, store=store)
    facility = (await store.facilities([org_unit_id])).get(org_unit_id)
    if facility is None:
        raise ValidationFailed([_error("org_unit_id", N_("The unit does not exist."))])
    authorize(principal, Permission.PBF_MANAGE, facility.path)
    errors = []
    if end_date is not None and end_date < start_date:
        errors.append(_error("end_date", N_("The end date is before the start date.")))
    for text, name in ((agency, "agency"), (category, "category"), (payer, "payer")):
        if not text.strip():
            errors.append(_error(name, N_("This field is required.")))
    contract = Contract(
        uuid7(),
        programme.id,
        org_unit_id,
        facility.path,
        agency.strip(),
        category.strip(),
        payer.strip(),
        start_date,
        end_date,
        reference,
    )
    others = await store.contracts(programme.id, Scope((facility.path,)))
    if any(
        c.org_unit_id == org_unit_id and c.active_between(start_date, end_date or date.max)
        for c in others
    ):
        errors.append(_error("start_date", N_("The facility already has a contract then.")))
    if errors:
        raise ValidationFailed(errors)
    await store.add_contract(contract)
    await audit.record(AuditRecord("pbf.contract.create", "pbf_contract", str(contract.id)))
    return contract


async def add_checklist(
    programme_code: str,
    checklist: QualityChecklist,
    *,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
) -> QualityChecklist:
    """Store a quality checklist: sections of items, each with a positive maximum score."""
    authorize(principal, Permission.PBF_MANAGE)
    programme = await get_programme(programme_code, store=store)
    errors = []
    seen: set[str] = set()
    for s, section in enumerate(checklist.sections):
        for i, item in enumerate(section.items):
            if item.max_score <= 0:
                errors.append(
                    _error(f"sections.{s}.items.{i}.max_score", N_("The maximum must be positive."))
                )
            if item.code in seen:
                errors.append(
                    _error(
                        f"sections.{s}.items.{i}.code",
                        N_("{name} is defined more than once."),
                        name=item.code,
                    )
                )
            seen.add(item.code)
    if not seen:
        errors.append(_error("sections", N_("A checklist needs at least one item.")))
    if any(c.code == checklist.code for c in await store.checklists(programme.id)):
        errors.append(_error("code", N_("This code is already used.")))
    if errors:
        raise ValidationFailed(errors)
    stored = replace(checklist, programme_id=programme.id)
    await store.add_checklist(stored)
    await audit.record(AuditRecord("pbf.checklist.create", "pbf_quality_checklist", str(stored.id)))
    return stored


def checklist_sections(raw: Sequence[Mapping[str, Any]]) -> tuple[ChecklistSection, ...]:
    return tuple(
        ChecklistSection(
            str(s["code"]),
            str(s["name"]),
            tuple(
                ChecklistItem(str(i["code"]), str(i["label"]), Decimal(str(i["max_score"])))
                for i in s["items"]
            ),
        )
        for s in raw
    )


async def set_budget(
    programme_code: str,
    period: str,
    amount: Decimal,
    policy: BudgetPolicy,
    *,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
) -> Budget:
    """Set the budget envelope of a payment period (scale or cap when exceeded)."""
    authorize(principal, Permission.PBF_MANAGE)
    programme = await get_programme(programme_code, store=store)
    errors = [e for e in [_period_error("period", period)] if e]
    if amount < 0:
        errors.append(_error("amount", N_("The value must be zero or more.")))
    if errors:
        raise ValidationFailed(errors)
    current = await store.budget(programme.id, period)
    budget = Budget(
        current.id if current else uuid7(),
        programme.id,
        period,
        quantize(amount, currency(programme.currency)),
        policy,
    )
    saved = await store.save_budget(budget)
    await audit.record(
        AuditRecord("pbf.budget.set", "pbf_budget", str(saved.id), details={"period": period})
    )
    return saved


async def locked_periods(programme_id: UUID, *, store: PbfStore) -> list[str]:
    return [lock.period for lock in await store.locks(programme_id) if lock.locked]


async def add_adjustment(
    programme_code: str,
    adjustment: Adjustment,
    *,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
) -> Adjustment:
    """Carry an amount (positive or negative) to the payment of a later, unlocked period."""
    programme = await get_programme(programme_code, store=store)
    facility = (await store.facilities([adjustment.org_unit_id])).get(adjustment.org_unit_id)
    if facility is None:
        raise ValidationFailed([_error("org_unit_id", N_("The unit does not exist."))])
    authorize(principal, Permission.PBF_VALIDATE, facility.path)
    errors = [
        e
        for e in (
            _period_error("origin_period", adjustment.origin_period),
            _period_error("apply_period", adjustment.apply_period),
        )
        if e
    ]
    if (
        not errors
        and parse_period(adjustment.apply_period).first
        <= parse_period(adjustment.origin_period).last
    ):
        errors.append(_error("apply_period", N_("An adjustment is carried to a later period.")))
    if not errors and adjustment.apply_period in await locked_periods(programme.id, store=store):
        errors.append(
            _error(
                "apply_period", N_("The period {period} is locked."), period=adjustment.apply_period
            )
        )
    if not adjustment.reason.strip():
        errors.append(_error("reason", N_("This field is required.")))
    if errors:
        raise ValidationFailed(errors)
    stored = replace(
        adjustment,
        programme_id=programme.id,
        org_unit_path=facility.path,
        amount=quantize(adjustment.amount, currency(programme.currency)),
    )
    await store.add_adjustment(stored)
    await audit.record(AuditRecord("pbf.adjustment.create", "pbf_adjustment", str(stored.id)))
    return stored


async def set_lock(
    programme_code: str,
    period: str,
    *,
    locked: bool,
    reason: str | None,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
    clock: Clock,
) -> PeriodLock:
    """Lock a period (pbf:validate) or reopen it (pbf:manage, with a reason).

    While a period is locked, none of its declarations, evaluations, counter-verifications
    or adjustments can change, and it is not recomputed.
    """
    authorize(principal, Permission.PBF_VALIDATE if locked else Permission.PBF_MANAGE)
    programme = await get_programme(programme_code, store=store)
    if (error := _period_error("period", period)) is not None:
        raise ValidationFailed([error])
    if not locked and not (reason or "").strip():
        raise ValidationFailed([_error("reason", N_("Say why the period is reopened."))])
    current = next((lk for lk in await store.locks(programme.id) if lk.period == period), None)
    if current is not None and current.locked == locked:
        raise Conflict(
            Message(
                N_("The period {period} is already locked.")
                if locked
                else N_("The period {period} is not locked."),
                {"period": period},
            )
        )
    now = clock.now()
    base = current or PeriodLock(uuid7(), programme.id, period, False)
    lock = (
        replace(base, locked=True, locked_by=principal.user_id, locked_at=now, reason=reason)
        if locked
        else replace(
            base, locked=False, reopened_by=principal.user_id, reopened_at=now, reason=reason
        )
    )
    saved = await store.save_lock(lock)
    await audit.record(
        AuditRecord(
            "pbf.period.lock" if locked else "pbf.period.reopen",
            "pbf_period_lock",
            str(saved.id),
            details={"period": period, "reason": reason},
        )
    )
    return saved
