"""Computing a programme's invoices from stored data, storing them (or only simulating),
reading them back, and exporting results as DHIS2 data values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize, scope_of
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.pbf.budget import apply_budget
from afiya.domain.pbf.calculation import Calculation, calculate, override_constants
from afiya.domain.pbf.errors import PeriodInvalid, PlanningError
from afiya.domain.pbf.explain import explain_line
from afiya.domain.pbf.invoices import Invoice, split_between_payers
from afiya.domain.pbf.model import BudgetEnvelope, OrgUnit, RuleSet
from afiya.domain.pbf.periods import Frequency, Period, parse_period, quarter_of
from afiya.domain.pbf.ports import EquationEvaluator, PbfStore
from afiya.domain.pbf.records import Computation, Facility, StoredInvoice
from afiya.domain.pbf.use_cases import get_programme, load_programme, locked_periods
from afiya.domain.pbf.workflow import engine_inputs, is_locked
from afiya.domain.pbf.workflow_cases import contracted
from afiya.domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7
from afiya.domain.shared.money import currency


@dataclass(frozen=True, slots=True)
class ComputationResult:
    computation: Computation
    invoices: tuple[StoredInvoice, ...]
    simulated: bool


def _engine_unit(facility: Facility, contract_attrs: Mapping[str, str]) -> OrgUnit:
    ancestors = tuple(p for p in facility.path.strip("/").split("/") if p)[:-1]
    return OrgUnit(
        facility.uid,
        facility.name,
        ancestors,
        facility.groups,
        {**facility.attributes, **contract_attrs},
    )


def _history_periods(quarter: Period) -> list[str]:
    """Months and quarters the rules may read: the quarter and the 15 months before it."""
    months = [Period(m, m).code for m in range(quarter.first - 15, quarter.last + 1)]
    quarters = sorted(
        {quarter_of(Period(m, m)).code for m in range(quarter.first - 15, quarter.last + 1)}
    )
    return months + quarters


def _line(plan_line: Any, explanation: Any | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "source": plan_line.source,
        "formula": plan_line.formula,
        "activity": plan_line.activity,
        "period": plan_line.period,
        "value": format(plan_line.value, "f"),
        "money": plan_line.money,
    }
    if explanation is not None:
        line["explanation"] = {
            "expression": explanation.formula,
            "equation": explanation.equation,
            "inputs": [
                {
                    "key": v.key,
                    "kind": v.kind,
                    "name": v.name,
                    "value": format(v.value, "f"),
                    "missing": v.missing,
                }
                for v in explanation.inputs
            ],
        }
    return line


async def compute_period(
    programme_code: str,
    period: str,
    *,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
    evaluator: EquationEvaluator,
    simulate: bool = False,
    constant_overrides: Mapping[tuple[str, str, str], Decimal] | None = None,
    explain: bool = True,
) -> ComputationResult:
    """Compute the invoices of a month or quarter from the stored data and rules.

    Business rules: the rule-set version covering the whole quarter applies (whole
    quarters are always computed); facilities are those under contract in the period,
    within the caller's scope, with their contract's category, payer and agency as
    decision-table facts; declarations, quality scores and counter-verifications are the
    inputs (missing is not zero); each period's budget envelope is applied; adjustments
    carried to a period are added to its invoices, and payers split the result exactly.
    Every line keeps its formula, inputs and the rule-set hash. A real computation
    (pbf:manage) replaces the period's previous one and is refused on a locked period; a
    simulation (pbf:read, possibly with other constants) writes nothing at all.
    """
    authorize(principal, Permission.PBF_READ if simulate else Permission.PBF_MANAGE)
    record = await get_programme(programme_code, store=store)
    try:
        wanted = parse_period(period)
        if wanted.frequency not in (Frequency.MONTHLY, Frequency.QUARTERLY):
            raise PeriodInvalid(period)
    except PeriodInvalid as exc:
        raise ValidationFailed([FieldError("period", exc.message, exc.code)]) from None
    quarter = quarter_of(wanted)
    programme = await load_programme(record, store=store)
    rule_set: RuleSet = programme.rule_set_for(quarter.code)
    versions = {v.content_hash: v for v in await store.rule_sets(record.id)}
    version = versions[rule_set.content_hash()]
    if not simulate and is_locked(period, await locked_periods(record.id, store=store)):
        raise Conflict(
            Message(N_("The period {period} is locked."), {"period": period}), code="pbf_locked"
        )
    if constant_overrides:
        rule_set = override_constants(rule_set, constant_overrides)
    scope = scope_of(principal)
    contracts = [
        c for c in await store.contracts(record.id, scope) if contracted([c], c.org_unit_id, period)
    ]
    if not contracts:
        raise PlanningError(
            Message(N_("No facility is under contract for {period}."), {"period": period})
        )
    facilities = await store.facilities([c.org_unit_id for c in contracts])
    attrs = {
        c.org_unit_id: {"category": c.category, "payer": c.payer, "agency": c.agency}
        for c in contracts
    }
    units = [_engine_unit(facilities[i], attrs[i]) for i in dict.fromkeys(attrs)]
    uid_of = {f.id: f.uid for f in facilities.values()}
    by_uid = {f.uid: f for f in facilities.values()}
    history = _history_periods(quarter)
    checklists = {c.id: c for c in await store.checklists(record.id)}
    inputs = engine_inputs(
        await store.declarations(record.id, history, scope),
        [
            (e, checklists[e.checklist_id])
            for e in await store.evaluations(record.id, history, scope)
        ],
        await store.counter_verifications(record.id, history, scope),
        uid_of,
    )
    calc: Calculation = calculate(
        rule_set, units, [period], inputs, evaluator=evaluator, simulated=simulate
    )
    invoices = list(calc.invoices)
    for invoice_period in sorted({i.period for i in invoices}):
        budget = await store.budget(record.id, invoice_period)
        if budget is not None:
            envelope = BudgetEnvelope(budget.period, budget.amount, budget.policy)
            invoices = list(apply_budget(invoices, envelope, rule_set))
    adjustments = await store.adjustments(record.id, sorted({i.period for i in invoices}), scope)
    money = currency(record.currency)
    rules = {r.code: r for r in rule_set.payment_rules}
    computation_id = uuid7()
    stored: list[StoredInvoice] = []
    for invoice in invoices:
        facility = by_uid[invoice.org_unit_id]
        carried = sum(
            (
                a.amount
                for a in adjustments
                if a.org_unit_id == facility.id
                and a.apply_period == invoice.period
                and a.payment_rule == invoice.payment_rule
            ),
            Decimal(0),
        )
        payable = invoice.total + carried
        payers = split_between_payers(payable, rules[invoice.payment_rule], money)
        stored.append(
            _stored(
                invoice, calc, inputs, facility, computation_id, carried, payable, payers, explain
            )
        )
    computation = Computation(
        computation_id,
        record.id,
        period,
        version.id,
        calc.rule_set_hash,
        True,
        len(stored),
        sum((i.total for i in stored), Decimal(0)),
        principal.user_id,
    )
    if not simulate:
        await store.store_computation(computation, stored)
        await audit.record(
            AuditRecord(
                "pbf.compute",
                "pbf_computation",
                str(computation.id),
                details={"period": period, "invoices": len(stored), "hash": calc.rule_set_hash},
            )
        )
    return ComputationResult(computation, tuple(stored), simulate)


def _stored(
    invoice: Invoice,
    calc: Calculation,
    inputs: Any,
    facility: Facility,
    computation_id: UUID,
    carried: Decimal,
    payable: Decimal,
    payers: Sequence[Any],
    explain: bool,
) -> StoredInvoice:
    lines = [
        _line(
            line, explain_line(calc.plan, inputs, calc.results, invoice, line) if explain else None
        )
        for line in invoice.lines
    ]
    return StoredInvoice(
        id=uuid7(),
        computation_id=computation_id,
        payment_rule=invoice.payment_rule,
        org_unit_id=facility.id,
        org_unit_path=facility.path,
        period=invoice.period,
        currency=invoice.currency,
        computed_total=invoice.computed_total,
        budget_adjustment=invoice.budget_adjustment,
        carried_adjustments=carried,
        total=payable,
        payers=tuple(
            {"payer": p.payer, "percent": format(p.percent, "f"), "amount": format(p.amount, "f")}
            for p in payers
        ),
        lines=tuple(lines),
        rule_set_hash=invoice.rule_set_hash,
        simulated=invoice.simulated,
    )


async def read_invoices(
    programme_code: str,
    period: str,
    *,
    org_unit_id: UUID | None,
    principal: Principal,
    store: PbfStore,
) -> tuple[Computation, list[StoredInvoice]]:
    """The current computation of a period and its invoices in the caller's scope."""
    authorize(principal, Permission.PBF_READ)
    record = await get_programme(programme_code, store=store)
    computation = await store.current_computation(record.id, period)
    if computation is None:
        raise NotFound(Message(N_("No computation for {period} yet."), {"period": period}))
    return computation, await store.invoices(computation.id, scope_of(principal), org_unit_id)


async def read_invoice(invoice_id: UUID, *, principal: Principal, store: PbfStore) -> StoredInvoice:
    """One stored invoice with its explained lines; refused outside the caller's scope."""
    invoice = await store.invoice(invoice_id)
    if invoice is None:
        raise NotFound(Message(N_("Invoice not found.")))
    authorize(principal, Permission.PBF_READ, invoice.org_unit_path)
    return invoice


def data_value_set(
    invoices: Sequence[StoredInvoice],
    uid_of: Mapping[UUID, str],
    mapping: Mapping[str, str],
) -> dict[str, Any]:
    """Invoice lines as a DHIS2 ``dataValueSets`` payload.

    ``mapping`` gives the data element (``"deUid"`` or ``"deUid.cocUid"``) of a line, by
    ``source.formula.activity`` or ``source.formula``; unmapped lines are left out, so only
    what the ministry declared in DHIS2 is sent. Totals of a payment rule map as
    ``<rule>.total``.
    """
    values: list[dict[str, str]] = []
    for invoice in invoices:
        ou = uid_of[invoice.org_unit_id]
        for line in invoice.lines:
            base = f"{line['source']}.{line['formula']}"
            target = mapping.get(f"{base}.{line['activity']}") if line["activity"] else None
            target = target or mapping.get(base)
            if target:
                values.append(_value(target, line["period"], ou, str(line["value"])))
        target = mapping.get(f"{invoice.payment_rule}.total")
        if target:
            values.append(_value(target, invoice.period, ou, format(invoice.total, "f")))
    return {"dataValues": values}


def _value(target: str, period: str, org_unit: str, value: str) -> dict[str, str]:
    element, _, combo = target.partition(".")
    item = {"dataElement": element, "period": period, "orgUnit": org_unit, "value": value}
    if combo:
        item["categoryOptionCombo"] = combo
    return item
