"""Explanations: why an invoice line has its value.

For one cell of one formula: the formula as written, the equation it expanded to (with
hesabu-style keys), every value it read (input data, constants, other formulas' results)
and the hash of the rule set that produced it. The value is recomputed from those inputs by
the reference evaluator, so the explanation can never disagree with what it explains.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from afiya.domain.pbf.engine.expansion import Inputs, constant_value, materialize
from afiya.domain.pbf.engine.nodes import SourceKind, to_text
from afiya.domain.pbf.engine.plan import Plan
from afiya.domain.pbf.engine.scalar import evaluate_cell
from afiya.domain.pbf.errors import PlanningError
from afiya.domain.pbf.invoices import Invoice, InvoiceLine, to_decimal, to_money
from afiya.domain.pbf.ports import Results
from afiya.domain.shared.i18n import N_, Message


@dataclass(frozen=True, slots=True)
class ExplainedValue:
    """One value a formula read: what it is and what it was."""

    key: str
    kind: str  # "input", "is_null", "result" or "param"
    name: str  # the state, the formula (``quantity.amount``) or the constant
    activity: str | None
    entity: str
    period: str
    value: Decimal
    missing: bool = False  # an input with no value (read as 0)


@dataclass(frozen=True, slots=True)
class Explanation:
    template: str
    key: str
    formula: str
    equation: str
    value: Decimal
    inputs: tuple[ExplainedValue, ...]
    rule_set_hash: str


def explain(
    plan: Plan,
    inputs: Inputs,
    results: Results,
    *,
    template: str,
    entity: str,
    period: str,
    activity: str | None = None,
) -> Explanation:
    """Explain the value of ``template`` for one facility (or zone), period and activity.

    Raises:
        PlanningError: when the template has no such cell.
    """
    t = plan.template(template)
    rows = plan.row_sets[t.rows]
    try:
        cell = (
            t.activities.index(activity) if activity is not None else 0,
            rows.index(entity),
            t.periods.index(period),
        )
    except ValueError:
        raise PlanningError(
            Message(
                N_("{template} has no value for {entity}, {period}, activity {activity}."),
                {"template": template, "entity": entity, "period": period, "activity": activity},
            )
        ) from None
    expression, reads = materialize(plan, t, *cell)
    lookup: dict[str, float] = {}
    explained: list[ExplainedValue] = []
    for key, ref in reads.items():
        kind = ref.source.kind
        if kind is SourceKind.RESULT:
            source = plan.template(ref.source.name)
            act = source.activities[ref.activity or 0] if source.activities else None
            row_id = plan.row_sets[source.rows][ref.row]
            value = results.value(source.key, act, row_id, ref.period)
            name = source.key
        elif kind is SourceKind.PARAM:
            table = plan.params[ref.source.name]
            act = table.activities[ref.activity or 0] if table.activities else None
            row_id = plan.row_sets[t.rows][cell[1]] if table.rows else ""
            value = constant_value(plan, ref, inputs)
            name = table.name
        else:
            act = plan.activities[ref.activity or 0]
            row_id = plan.units[ref.row]
            value = constant_value(plan, ref, inputs)
            name = ref.source.name
        lookup[key] = value
        missing = (
            kind is SourceKind.INPUT and inputs.get((row_id, ref.period, act or "", name)) is None
        )
        explained.append(
            ExplainedValue(
                key, str(kind), name, act, row_id, ref.period, to_decimal(value), missing
            )
        )
    key, value = evaluate_cell(plan, t, cell, lookup)
    shown = to_money(value, plan.currency) if t.formula.money else to_decimal(value)
    return Explanation(
        template=t.key,
        key=key,
        formula=t.formula.expression,
        equation=f"{key} = {to_text(expression)}",
        value=shown,
        inputs=tuple(explained),
        rule_set_hash=plan.rule_set_hash,
    )


def explain_line(
    plan: Plan, inputs: Inputs, results: Results, invoice: Invoice, line: InvoiceLine
) -> Explanation:
    """Explain one line of ``invoice``."""
    return explain(
        plan,
        inputs,
        results,
        template=line.template,
        entity=invoice.org_unit_id,
        period=line.period,
        activity=line.activity,
    )
