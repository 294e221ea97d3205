"""Expansion of a plan into hesabu-style named equations, one per cell.

Each cell of each template becomes an equation keyed like hesabu's:
``act1_difference_percentage_fosa1_201601`` (activity, formula, facility, period) for an
activity formula, ``quantity_quantity_total_fosa1_201601`` (package, formula, ...) for a
package formula. Its expression reads other keys: computed equations, input values
(``act1_verified_fosa1_201601``, ``act1_verified_is_null_fosa1_201601``) and parameters
(``act1_tariff_fosa1_201601``). This is what the reference evaluator solves and what an
explanation shows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from afiya.domain.pbf.engine.nodes import (
    Binary,
    Call,
    Leaf,
    Node,
    Num,
    Source,
    SourceKind,
    Unary,
    Var,
)
from afiya.domain.pbf.engine.plan import Plan, Template
from afiya.domain.pbf.errors import PlanningError
from afiya.domain.shared.i18n import N_, Message

InputKey = tuple[str, str, str, str]  # (org_unit_id, period, activity_code, state)
Inputs = Mapping[InputKey, float | int | Decimal]

_UNSAFE = re.compile(r"[^0-9A-Za-z_]")


def _part(text: str) -> str:
    return _UNSAFE.sub("_", text)


@dataclass(frozen=True, slots=True)
class CellRef:
    """One value read by an equation: a source at (activity position, row, period)."""

    source: Source
    activity: int | None
    row: int
    period: str


def _activity_prefix(plan: Plan, owner: str, activity: str) -> list[str]:
    # An activity in two packages would get the same keys in both: name the package too.
    return [owner, activity] if activity in plan.shared_activities else [activity]


def template_key(plan: Plan, template: Template, activity: int, row: int, period: str) -> str:
    """The equation key of a cell of ``template``."""
    entity = plan.row_sets[template.rows][row]
    if template.activities:
        first = _activity_prefix(plan, template.owner, template.activities[activity])
    else:
        first = [template.owner]
    return "_".join(_part(p) for p in (*first, template.formula.code, entity, period))


def ref_key(plan: Plan, ref: CellRef) -> str:
    """The equation key of the value ``ref`` reads."""
    kind, name = ref.source.kind, ref.source.name
    if kind is SourceKind.RESULT:
        source = plan.template(name)
        return template_key(plan, source, ref.activity or 0, ref.row, ref.period)
    if kind is SourceKind.PARAM:
        table = plan.params[name]
        parts = [table.name, ref.period]
        if table.rows:
            parts.insert(1, plan.row_sets[table.rows][ref.row])
        if table.activities is not None:
            activity = table.activities[ref.activity or 0]
            parts[:0] = _activity_prefix(plan, table.owner, activity)
        elif table.rows:
            parts.insert(0, table.owner)
        return "_".join(_part(p) for p in parts)
    state = name if kind is SourceKind.INPUT else f"{name}_is_null"
    activity = plan.activities[ref.activity or 0]
    unit = plan.units[ref.row]
    return "_".join(_part(p) for p in (activity, state, unit, ref.period))


def materialize(
    plan: Plan, template: Template, activity: int, row: int, period: int
) -> tuple[Node, dict[str, CellRef]]:
    """The expression of one cell, with every leaf replaced by the key it reads.

    Absent values become constants: 0 (1 for ``_is_null``) for a single value, nothing in
    a list. Lists become ``ARRAY(...)`` calls.

    Returns:
        The expression and, for each key it reads, what the key stands for.
    """
    refs: dict[str, CellRef] = {}

    def visit(node: Node) -> Node:
        if isinstance(node, Leaf):
            items: list[Node] = []
            for selection in node.items:
                source_row = plan.row_maps[selection.rows][row] if selection.rows else 0
                source_period = selection.periods[period]
                if source_row < 0 or source_period is None:
                    if not node.array:
                        items.append(Num(1.0 if node.source.kind is SourceKind.IS_NULL else 0.0))
                    continue
                position = None if selection.activities is None else selection.activities[activity]
                ref = CellRef(node.source, position, source_row, source_period)
                key = ref_key(plan, ref)
                if refs.setdefault(key, ref) != ref:
                    raise _collision(key)
                items.append(Var(key))
            return Call("ARRAY", tuple(items)) if node.array else items[0]
        if isinstance(node, Unary):
            return Unary(node.op, visit(node.operand))
        if isinstance(node, Binary):
            return Binary(node.op, visit(node.left), visit(node.right))
        if isinstance(node, Call):
            return Call(node.name, tuple(visit(arg) for arg in node.args))
        return node

    return visit(template.expression), refs


def _collision(key: str) -> PlanningError:
    return PlanningError(
        Message(N_("Two different values would both be named {key}; rename a code."), {"key": key})
    )


def input_value(plan: Plan, ref: CellRef, inputs: Inputs) -> float:
    """The value of an input or ``_is_null`` reference (missing input: 0, and null 1)."""
    raw = inputs.get(
        (plan.units[ref.row], ref.period, plan.activities[ref.activity or 0], ref.source.name)
    )
    if ref.source.kind is SourceKind.IS_NULL:
        return 1.0 if raw is None else 0.0
    if raw is None:
        return 0.0
    value = float(raw)
    if not math.isfinite(value):
        raise PlanningError(
            Message(N_("The input value {value} is not a number."), {"value": str(raw)})
        )
    return value


def constant_value(plan: Plan, ref: CellRef, inputs: Inputs) -> float:
    """The value of any non-result reference: input data or a parameter."""
    if ref.source.kind is SourceKind.PARAM:
        return plan.params[ref.source.name].value(ref.activity, ref.row, ref.period)
    return input_value(plan, ref, inputs)
