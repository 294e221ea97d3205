"""The vectorised evaluator: each formula template over all (activity, facility, period) at once.

hesabu solves one named equation at a time (about 10,000 a second). Here a template such
as ``quantity.amount`` is evaluated once, on arrays holding every cell of its grid, so the
interpreter's cost is paid per formula rather than per cell. Values are identical to the
reference evaluator's (see :mod:`afiya.adapters.compute.numpy_functions`); on an error the
failing cell is re-evaluated by the reference evaluator, so the error is the same too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from afiya.adapters.compute import numpy_functions as nf
from afiya.adapters.compute.numpy_inputs import ArrayInputs, tensors_from_mapping
from afiya.domain.pbf.engine.expansion import Inputs, constant_value, materialize
from afiya.domain.pbf.engine.nodes import (
    Binary,
    Call,
    Leaf,
    Node,
    Num,
    Selection,
    Source,
    SourceKind,
    Unary,
    walk,
)
from afiya.domain.pbf.engine.plan import Plan, Template
from afiya.domain.pbf.engine.scalar import evaluate_cell
from afiya.domain.pbf.errors import InvalidOperation, PlanningError
from afiya.domain.shared.i18n import N_, Message

Array = nf.Array
IntArray = NDArray[np.int64]


class NumpyResults:
    """Results as one ``(activity, row, period)`` array per template."""

    def __init__(self, plan: Plan, arrays: dict[str, Array]) -> None:
        self.plan = plan
        self.arrays = arrays
        self._templates = {t.key: t for t in plan.templates}
        self._rows: dict[str, dict[str, int]] = {}

    def array(self, template: str) -> Array:
        """The values of ``template`` (the bulk accessor of this adapter)."""
        return self.arrays[template]

    def value(self, template: str, activity: str | None, entity: str, period: str) -> float:
        t = self._templates[template]
        rows = self._rows.get(t.rows)
        if rows is None:
            rows = {rid: i for i, rid in enumerate(self.plan.row_sets[t.rows])}
            self._rows[t.rows] = rows
        a = t.activities.index(activity) if activity is not None else 0
        return float(self.arrays[template][a, rows[entity], t.periods.index(period)])

    def table(self, template: str) -> list[list[list[float]]]:
        values: list[list[list[float]]] = self.arrays[template].tolist()
        return values


class _Run:
    """The state of one evaluation: input tensors, results so far, index caches."""

    def __init__(self, plan: Plan, inputs: Inputs) -> None:
        self.plan = plan
        self.inputs = inputs
        self.templates = {t.key: t for t in plan.templates}
        self.results: dict[str, Array] = {}
        self.tensors = self._tensors()
        self.sources: dict[Source, Array] = {}
        self.row_maps: dict[str, IntArray] = {}
        self.period_index: dict[Source, dict[str, int]] = {}

    def _tensors(self) -> dict[tuple[str, str], Array]:
        wanted = {
            (n.source.name, n.source.frequency)
            for t in self.plan.templates
            for n in walk(t.expression)
            if isinstance(n, Leaf) and n.source.kind in (SourceKind.INPUT, SourceKind.IS_NULL)
        }
        if not isinstance(self.inputs, ArrayInputs):
            return tensors_from_mapping(self.plan, self.inputs, wanted)
        tensors = {key: self.inputs.aligned(self.plan, *key) for key in wanted}
        for tensor in tensors.values():
            infinite = tensor[np.isinf(tensor)]
            if infinite.size:
                raise PlanningError(
                    Message(
                        N_("The input value {value} is not a number."),
                        {"value": str(float(infinite[0]))},
                    )
                )
        return tensors

    def source(self, source: Source) -> Array:
        array = self.sources.get(source)
        if array is not None:
            return array
        kind = source.kind
        if kind is SourceKind.RESULT:
            return self.results[source.name]
        if kind is SourceKind.PARAM:
            table = self.plan.params[source.name]
            array = np.array(table.values, dtype=np.float64).reshape(table.shape)
        else:
            tensor = self.tensors[(source.name, source.frequency)]
            missing = np.isnan(tensor)
            array = (
                missing.astype(np.float64)
                if kind is SourceKind.IS_NULL
                else np.where(missing, 0.0, tensor)
            )
        self.sources[source] = array
        return array

    def _periods_of(self, source: Source) -> dict[str, int]:
        index = self.period_index.get(source)
        if index is None:
            if source.kind is SourceKind.RESULT:
                codes: Sequence[str] = self.templates[source.name].periods
            elif source.kind is SourceKind.PARAM:
                codes = self.plan.params[source.name].periods
            else:
                codes = self.plan.input_periods.get(source.frequency, ())
            index = {code: i for i, code in enumerate(codes)}
            self.period_index[source] = index
        return index

    def _row_map(self, name: str) -> IntArray:
        rows = self.row_maps.get(name)
        if rows is None:
            rows = np.array(self.plan.row_maps[name], dtype=np.int64)
            self.row_maps[name] = rows
        return rows

    def select(
        self, source: Source, selection: Selection
    ) -> tuple[Array, NDArray[np.bool_] | None]:
        """The source's values at each template cell, and where they are absent."""
        src = self.source(source)
        a_n, r_n, p_n = src.shape
        if source.kind is SourceKind.PARAM:
            # A parameter lives on its owner's grid, which is the reading template's grid:
            # rows and periods map one to one, and collapsed axes broadcast.
            if a_n == 1 or selection.activities is None:
                return src, None
            return src[np.array(selection.activities, dtype=np.int64)], None
        rows = self._row_map(selection.rows)
        index = self._periods_of(source)
        periods = np.array([index[c] if c is not None else -1 for c in selection.periods])
        periods = periods.astype(np.int64)
        acts = np.array(selection.activities or (0,), dtype=np.int64)
        if r_n == 0 or p_n == 0:  # e.g. a package no facility of the rule takes part in
            shape = (len(acts), len(rows), len(periods))
            return np.zeros(shape), np.ones(shape, dtype=bool)
        a_idx = acts if a_n > 1 else np.zeros(len(acts), dtype=np.int64)
        r_idx = np.maximum(rows, 0) if r_n > 1 else np.zeros(len(rows), dtype=np.int64)
        p_idx = np.maximum(periods, 0) if p_n > 1 else np.zeros(len(periods), dtype=np.int64)
        if _is_range(a_idx, a_n) and _is_range(r_idx, r_n) and _is_range(p_idx, p_n):
            values = src
        else:
            values = src[np.ix_(a_idx, r_idx, p_idx)]
        absent_rows, absent_periods = rows < 0, periods < 0
        if not (absent_rows.any() or absent_periods.any()):
            return values, None
        return values, absent_rows[None, :, None] | absent_periods[None, None, :]

    def leaf(self, leaf: Leaf, memo: dict[object, object]) -> nf.Arg:
        if leaf in memo:
            cached = memo[leaf]
            assert isinstance(cached, np.ndarray | list)
            return cached
        items = [self.select(leaf.source, s) for s in leaf.items]
        result: nf.Arg
        if leaf.array:
            result = [(v, None if absent is None else ~absent) for v, absent in items]
        else:
            values, absent = items[0]
            default = 1.0 if leaf.source.kind is SourceKind.IS_NULL else 0.0
            result = values if absent is None else np.where(absent, default, values)
        memo[leaf] = result
        return result

    def node(self, node: Node, memo: dict[object, object]) -> nf.Arg:
        if isinstance(node, Num):
            return np.float64(node.value)  # type: ignore[return-value]
        if isinstance(node, Leaf):
            return self.leaf(node, memo)
        if isinstance(node, Unary):
            operand = self.scalar(node.operand, memo)
            return -operand if node.op == "-" else operand
        if isinstance(node, Binary):
            left = self.scalar(node.left, memo)
            return nf.binary(node.op, left, self.scalar(node.right, memo))
        if isinstance(node, Call):
            if node.name == "IF":
                condition = self.scalar(node.args[0], memo)
                chosen = np.where(
                    condition != 0, self.scalar(node.args[1], memo), self.scalar(node.args[2], memo)
                )
                return np.where(np.isnan(condition), np.nan, chosen)
            args = [self.node(arg, memo) for arg in node.args]
            if node.name == "ARRAY":
                return [item for arg in args for item in _as_list(arg)]
            return nf.apply(node.name, args)
        raise AssertionError(f"unresolved node {node!r}")

    def scalar(self, node: Node, memo: dict[object, object]) -> Array:
        value = self.node(node, memo)
        assert not isinstance(value, list)
        return value

    def run(self, template: Template) -> None:
        shape = (
            template.activity_count,
            len(self.plan.row_sets[template.rows]),
            len(template.periods),
        )
        values = self.scalar(template.expression, {})
        result = np.array(np.broadcast_to(values, shape), dtype=np.float64)
        if np.isnan(result).any():
            a, r, p = (int(i) for i in np.argwhere(np.isnan(result))[0])
            self.fail(template, (a, r, p))
        self.results[template.key] = result

    def fail(self, template: Template, cell: tuple[int, int, int]) -> None:
        """Raise the reference evaluator's error for the first failing cell."""
        _, reads = materialize(self.plan, template, *cell)
        lookup: dict[str, float] = {}
        for key, ref in reads.items():
            if ref.source.kind is SourceKind.RESULT:
                column = self._periods_of(ref.source)[ref.period]
                lookup[key] = float(
                    self.results[ref.source.name][ref.activity or 0, ref.row, column]
                )
            else:
                lookup[key] = constant_value(self.plan, ref, self.inputs)
        key, _ = evaluate_cell(self.plan, template, cell, lookup)
        raise InvalidOperation(
            Message(N_("The evaluators disagree on {equation}; please report it.")),
            equation=key,
        )


def _is_range(index: IntArray, size: int) -> bool:
    return len(index) == size and bool((index == np.arange(size)).all())


def _as_list(value: nf.Arg) -> nf.ListValue:
    return value if isinstance(value, list) else [(value, None)]


class NumpyEquationEvaluator:
    """The fast implementation of the domain's ``EquationEvaluator`` port.

    Accepts any ``Mapping[(org_unit_id, period, activity_code, state), number]`` as
    inputs, and :class:`ArrayInputs` for the bulk path. Memory is a few arrays of the size
    of the largest template grid, plus the results.
    """

    def evaluate(self, plan: Plan, inputs: Inputs) -> NumpyResults:
        """Evaluate every template of ``plan`` in dependency order.

        Raises:
            FormulaError: (a subclass) naming the first failing cell's equation, exactly
                as the reference evaluator would.
            PlanningError: when an input value is not a finite number.
        """
        run = _Run(plan, inputs)
        with np.errstate(all="ignore"):
            for template in plan.templates:
                run.run(template)
        return NumpyResults(plan, run.results)
