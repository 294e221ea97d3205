"""Use cases of the verification workflow: declare, verify, validate (one entry or a whole
file), quality evaluations and community counter-verifications."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, Scope, authorize, in_scope, scope_of
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.pbf.errors import NoRuleSet, PeriodInvalid
from afiya.domain.pbf.model import Programme, RuleSet
from afiya.domain.pbf.periods import Frequency, parse_period
from afiya.domain.pbf.ports import PbfStore
from afiya.domain.pbf.records import (
    Contract,
    CounterVerification,
    Declaration,
    QualityEvaluation,
    Step,
    StepEntry,
)
from afiya.domain.pbf.use_cases import get_programme, load_programme, locked_periods
from afiya.domain.pbf.workflow import (
    Problem,
    apply_step,
    counter_verification_problems,
    duplicate_keys,
    is_locked,
    key_problems,
    period_problem,
    score_problems,
    transition_problem,
    value_problem,
)
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

STEP_PERMISSION = {
    Step.DECLARE: Permission.PBF_DECLARE,
    Step.VERIFY: Permission.PBF_VERIFY,
    Step.VALIDATE: Permission.PBF_VALIDATE,
}


@dataclass(frozen=True, slots=True)
class StepReport:
    created: int
    updated: int
    declarations: tuple[Declaration, ...]


def period_dates(code: str) -> tuple[date, date]:
    period = parse_period(code)
    y1, m1 = divmod(period.first, 12)
    y2, m2 = divmod(period.last + 1, 12)
    return date(y1, m1 + 1, 1), date.fromordinal(date(y2, m2 + 1, 1).toordinal() - 1)


def contracted(contracts: Sequence[Contract], org_unit_id: UUID, period: str) -> bool:
    first, last = period_dates(period)
    return any(c.org_unit_id == org_unit_id and c.active_between(first, last) for c in contracts)


class _Checks:
    """Per-batch memos: a 100,000-row file has few distinct facilities, periods and keys."""

    def __init__(
        self, principal: Principal, contracts: Sequence[Contract], locked: list[str]
    ) -> None:
        self.principal = principal
        self.locked = locked
        self.contracts: dict[UUID, list[Contract]] = {}
        for c in contracts:
            self.contracts.setdefault(c.org_unit_id, []).append(c)
        self.memo: dict[tuple[object, ...], object] = {}

    def _cached(self, key: tuple[object, ...], compute: Callable[[], object]) -> Any:
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def in_scope(self, path: str) -> bool:
        return bool(self._cached(("scope", path), lambda: in_scope(self.principal, path)))

    def contracted(self, org_unit_id: UUID, period: str) -> bool:
        return bool(
            self._cached(
                ("contract", org_unit_id, period),
                lambda: contracted(self.contracts.get(org_unit_id, []), org_unit_id, period),
            )
        )

    def locked_period(self, period: str) -> bool:
        return bool(self._cached(("lock", period), lambda: is_locked(period, self.locked)))

    def keys(self, entry: StepEntry, step: Step, rule_set: RuleSet) -> list[Problem]:
        key = ("key", entry.package, entry.activity, entry.period, rule_set.version)
        return list(
            self._cached(
                key,
                lambda: key_problems(entry.package, entry.activity, entry.period, step, rule_set),
            )
        )


class _RuleSets:
    """The rule-set version of each period, looked up once per period."""

    def __init__(self, programme: Programme) -> None:
        self.programme = programme
        self.memo: dict[str, RuleSet | None] = {}

    def of(self, period: str) -> RuleSet | None:
        if period not in self.memo:
            try:
                self.memo[period] = self.programme.rule_set_for(period)
            except (NoRuleSet, PeriodInvalid):
                self.memo[period] = None
        return self.memo[period]


def _row_of(field: str) -> int:
    parts = field.split(".")
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


def _row_errors(problems: Mapping[int, list[Problem]], rows: Sequence[int]) -> list[FieldError]:
    return [
        FieldError(f"rows.{rows[i]}.{p.field}", p.message, "invalid")
        for i in sorted(problems)
        for p in problems[i]
    ]


async def record_step(
    programme_code: str,
    step: Step,
    entries: Sequence[StepEntry],
    *,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
    clock: Clock,
    row_numbers: Sequence[int] | None = None,
    known_errors: Sequence[FieldError] = (),
) -> StepReport:
    """Record one workflow step for many entries, all or nothing.

    Business rules, checked for every entry before anything is written (every problem of
    every row is reported, with its row number): the facility exists, lies in the
    caller's scope and has a contract in force for the period; a rule-set version covers
    the period; the package, its state for this step and the activity exist, and the
    period has the package's frequency; the value is missing or a non-negative number;
    the period is not locked; no entry repeats another; the step follows the workflow
    (declare before verify before validate; a verified row cannot be re-declared).
    Each row keeps who did each step and when; one audit event records the batch.
    """
    authorize(principal, STEP_PERMISSION[step])
    programme = await get_programme(programme_code, store=store)
    rules = _RuleSets(await load_programme(programme, store=store))
    rows = list(row_numbers) if row_numbers is not None else list(range(len(entries)))
    facilities = await store.facilities(list({e.org_unit_id for e in entries}))
    checks = _Checks(
        principal,
        await store.contracts(programme.id, scope_of(principal)),
        await locked_periods(programme.id, store=store),
    )
    existing = await store.declarations_by_key(
        programme.id, [(e.org_unit_id, e.period, e.package, e.activity) for e in entries]
    )
    repeated = duplicate_keys(entries)
    problems: dict[int, list[Problem]] = {}
    for i, entry in enumerate(entries):
        found: list[Problem] = []
        facility = facilities.get(entry.org_unit_id)
        if facility is None:
            found.append(Problem("org_unit", Message(N_("Unknown organisation unit."))))
        elif not checks.in_scope(facility.path):
            found.append(
                Problem("org_unit", Message(N_("This facility is outside your assignment.")))
            )
        rule_set = rules.of(entry.period)
        if rule_set is None:
            found.append(
                Problem(
                    "period",
                    Message(N_("No rule set covers {period}."), {"period": entry.period}),
                )
            )
        else:
            found.extend(checks.keys(entry, step, rule_set))
            if (message := value_problem(entry.value)) is not None:
                found.append(Problem("value", message))
        if (
            facility is not None
            and rule_set is not None
            and not found
            and not checks.contracted(entry.org_unit_id, entry.period)
        ):
            found.append(
                Problem("org_unit", Message(N_("The facility has no contract for this period.")))
            )
        if checks.locked_period(entry.period):
            found.append(
                Problem(
                    "period",
                    Message(N_("The period {period} is locked."), {"period": entry.period}),
                )
            )
        if i in repeated:
            found.append(
                Problem(
                    "activity",
                    Message(N_("This row repeats row {row}."), {"row": rows[repeated[i]]}),
                )
            )
        current = existing.get((entry.org_unit_id, entry.period, entry.package, entry.activity))
        if not found and (message := transition_problem(current, step)) is not None:
            found.append(Problem("status", message))
        if found:
            problems[i] = found
    if problems or known_errors:
        errors = sorted(
            [*known_errors, *_row_errors(problems, rows)], key=lambda e: _row_of(e.field)
        )
        count = len({_row_of(e.field) for e in errors})
        raise ValidationFailed(
            errors,
            Message(N_("{count} rows are invalid; nothing was recorded."), {"count": count}),
        )
    now = clock.now()
    new: list[Declaration] = []
    changed: list[Declaration] = []
    for entry in entries:
        current = existing.get((entry.org_unit_id, entry.period, entry.package, entry.activity))
        updated = apply_step(
            current,
            entry,
            step,
            programme_id=programme.id,
            org_unit_path=facilities[entry.org_unit_id].path,
            actor=principal.user_id,
            now=now,
        )
        (changed if current else new).append(updated)
    await store.save_declarations(new, changed)
    await audit.record(
        AuditRecord(
            f"pbf.declaration.{step.value}",
            "pbf_declaration",
            None,
            details={
                "programme": programme.code,
                "rows": len(entries),
                "periods": sorted({e.period for e in entries}),
                "org_units": len({e.org_unit_id for e in entries}),
            },
        )
    )
    return StepReport(len(new), len(changed), tuple(new + changed))


async def list_declarations(
    programme_code: str,
    period: str,
    *,
    org_unit_id: UUID | None,
    principal: Principal,
    store: PbfStore,
) -> list[Declaration]:
    """Declarations of a period (a quarter lists its months too) in the caller's scope."""
    authorize(principal, Permission.PBF_READ)
    programme = await get_programme(programme_code, store=store)
    periods = [period]
    if parse_period(period).frequency is Frequency.QUARTERLY:
        periods += parse_period(period).months()
    return await store.declarations(programme.id, periods, scope_of(principal), org_unit_id)


async def _facility_for_entry(
    programme_code: str,
    org_unit_id: UUID,
    period: str,
    frequency: Frequency | None,
    permission: Permission,
    *,
    principal: Principal,
    store: PbfStore,
) -> tuple[UUID, str, list[FieldError]]:
    authorize(principal, permission)
    programme = await get_programme(programme_code, store=store)
    facility = (await store.facilities([org_unit_id])).get(org_unit_id)
    if facility is None:
        raise ValidationFailed(
            [FieldError("org_unit_id", Message(N_("Unknown organisation unit.")))]
        )
    authorize(principal, permission, facility.path)
    errors = []
    if frequency is not None and (message := period_problem(period, frequency)):
        errors.append(FieldError("period", message))
    elif is_locked(period, await locked_periods(programme.id, store=store)):
        errors.append(
            FieldError("period", Message(N_("The period {period} is locked."), {"period": period}))
        )
    contracts = await store.contracts(programme.id, Scope((facility.path,)))
    if not errors and not contracted(contracts, org_unit_id, period):
        errors.append(
            FieldError("org_unit_id", Message(N_("The facility has no contract for this period.")))
        )
    return programme.id, facility.path, errors


async def record_evaluation(
    programme_code: str,
    checklist_code: str,
    org_unit_id: UUID,
    period: str,
    scores: Mapping[str, Decimal],
    *,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
    clock: Clock,
) -> QualityEvaluation:
    """Record (or correct) a facility's quarterly quality evaluation (pbf:verify).

    Every checklist item gets a score between 0 and its maximum; the period is a quarter,
    not locked, and under contract. The total and maximum are kept with the scores.
    """
    programme_id, path, errors = await _facility_for_entry(
        programme_code,
        org_unit_id,
        period,
        Frequency.QUARTERLY,
        Permission.PBF_VERIFY,
        principal=principal,
        store=store,
    )
    checklist = next(
        (c for c in await store.checklists(programme_id) if c.code == checklist_code), None
    )
    if checklist is None:
        raise NotFound(Message(N_("Checklist {code} not found."), {"code": checklist_code}))
    errors += [FieldError(p.field, p.message) for p in score_problems(checklist, scores)]
    if errors:
        raise ValidationFailed(errors)
    evaluation = QualityEvaluation(
        uuid7(),
        programme_id,
        checklist.id,
        org_unit_id,
        path,
        period,
        dict(scores),
        sum(scores.values(), Decimal(0)),
        checklist.max_total,
        principal.user_id,
        clock.now(),
    )
    saved = await store.save_evaluation(evaluation)
    await audit.record(
        AuditRecord(
            "pbf.quality.evaluate",
            "pbf_quality_evaluation",
            str(saved.id),
            details={"period": period, "total": str(saved.total)},
        )
    )
    return saved


async def record_counter_verification(
    programme_code: str,
    org_unit_id: UUID,
    period: str,
    package: str,
    activity: str,
    *,
    sampled: int,
    found: int,
    confirmed: int,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
    clock: Clock,
) -> CounterVerification:
    """Record the community counter-verification of one activity (pbf:verify).

    Counts only (no patient identity): sampled >= found >= confirmed. The rules read them
    as ``cv_sampled``, ``cv_found``, ``cv_not_found`` and ``cv_confirmed`` to compute
    penalties.
    """
    programme_id, path, errors = await _facility_for_entry(
        programme_code,
        org_unit_id,
        period,
        None,
        Permission.PBF_VERIFY,
        principal=principal,
        store=store,
    )
    try:
        parse_period(period)
    except PeriodInvalid as exc:
        errors.append(FieldError("period", exc.message))
    errors += [
        FieldError(p.field, p.message)
        for p in counter_verification_problems(sampled, found, confirmed)
    ]
    if errors:
        raise ValidationFailed(errors)
    cv = CounterVerification(
        uuid7(),
        programme_id,
        org_unit_id,
        path,
        period,
        package,
        activity,
        sampled,
        found,
        confirmed,
        principal.user_id,
        clock.now(),
    )
    saved = await store.save_counter_verification(cv)
    await audit.record(
        AuditRecord(
            "pbf.counter_verification.record",
            "pbf_counter_verification",
            str(saved.id),
            details={"period": period, "activity": activity},
        )
    )
    return saved
