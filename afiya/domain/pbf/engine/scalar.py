"""The reference evaluator: hesabu's method, one named equation at a time, in pure Python.

It expands the plan into named equations, orders them with Kahn's algorithm and evaluates
each with the exact semantics of :mod:`afiya.domain.pbf.engine.functions`. It is slow
(a few hundred thousand equations a second) and obviously right; the vectorised evaluator
must agree with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from afiya.domain.pbf.engine.expansion import (
    CellRef,
    Inputs,
    constant_value,
    materialize,
    template_key,
)
from afiya.domain.pbf.engine.functions import Value, apply, binary, finite
from afiya.domain.pbf.engine.graph import toposort
from afiya.domain.pbf.engine.nodes import Binary, Call, Node, Num, SourceKind, Unary, Var, walk
from afiya.domain.pbf.engine.parser import parse
from afiya.domain.pbf.engine.plan import Plan, Template
from afiya.domain.pbf.errors import FormulaError, UnknownVariable
from afiya.domain.shared.i18n import N_, Message


def evaluate(node: Node, env: Mapping[str, float]) -> Value:
    """Evaluate an expanded expression; names are looked up in ``env``.

    ``IF`` evaluates only the branch it takes (an error in the other one does not count);
    every other function evaluates all its arguments.

    Raises:
        FormulaError: (a subclass) without an equation name; the caller adds it.
    """
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Var):
        try:
            return env[node.name]
        except KeyError:
            raise UnknownVariable(
                Message(N_('Unknown variable "{name}" in {equation}.'), {"name": node.name})
            ) from None
    if isinstance(node, Unary):
        value = _number(evaluate(node.operand, env))
        return -value if node.op == "-" else value
    if isinstance(node, Binary):
        left = _number(evaluate(node.left, env))
        return binary(node.op, left, _number(evaluate(node.right, env)))
    if isinstance(node, Call):
        if node.name == "IF":
            condition = _number(evaluate(node.args[0], env))
            return _number(evaluate(node.args[1 if condition != 0 else 2], env))
        args = [evaluate(arg, env) for arg in node.args]
        if node.name == "ARRAY":
            return [v for arg in args for v in (arg if isinstance(arg, list) else [arg])]
        return apply(node.name, args)
    raise AssertionError(f"unexpanded node {node!r}")


def _number(value: Value) -> float:
    assert not isinstance(value, list)  # the parser keeps lists inside list functions
    return value


def evaluate_named(key: str, node: Node, env: Mapping[str, float]) -> float:
    """Evaluate the equation ``key``; errors name it."""
    try:
        return finite(_number(evaluate(node, env)))
    except FormulaError as error:
        raise error.in_equation(key) from None


def solve(equations: Mapping[str, str]) -> dict[str, float]:
    """Solve a system of named equations given as text, as hesabu does.

    ``{"a": "b * 2", "b": "3"}`` gives ``{"a": 6.0, "b": 3.0}``.

    Raises:
        FormulaError: (a subclass) for a syntax error, an unknown name, a cycle, or an
            evaluation error, naming the equation.
    """
    trees = {key: parse(text, equation=key) for key, text in equations.items()}
    dependencies: dict[str, tuple[str, ...]] = {}
    for key, tree in trees.items():
        names = [n.name for n in walk(tree) if isinstance(n, Var)]
        for name in names:
            if name not in trees:
                raise UnknownVariable(
                    Message(N_('Unknown variable "{name}" in {equation}.'), {"name": name}),
                    equation=key,
                )
        dependencies[key] = tuple(dict.fromkeys(names))
    env: dict[str, float] = {}
    for key in toposort(list(trees), dependencies):
        env[key] = evaluate_named(key, trees[key], env)
    return env


@dataclass(frozen=True, slots=True)
class Equation:
    key: str
    template: str
    cell: tuple[int, int, int]
    expression: Node
    reads: Mapping[str, CellRef]


def expand(plan: Plan, inputs: Inputs) -> tuple[dict[str, Equation], dict[str, float]]:
    """Every equation of ``plan``, and the values of the input and parameter keys."""
    equations: dict[str, Equation] = {}
    constants: dict[str, float] = {}
    for template in plan.templates:
        for a, r, p in plan.cells(template):
            key = template_key(plan, template, a, r, template.periods[p])
            node, reads = materialize(plan, template, a, r, p)
            if key in equations:
                raise FormulaError(
                    Message(N_("Two equations would both be named {equation}; rename a code.")),
                    equation=key,
                )
            equations[key] = Equation(key, template.key, (a, r, p), node, reads)
            for name, ref in reads.items():
                if ref.source.kind is not SourceKind.RESULT and name not in constants:
                    constants[name] = constant_value(plan, ref, inputs)
    return equations, constants


class ScalarResults:
    """Results of the reference evaluator, by equation key."""

    def __init__(self, plan: Plan, values: Mapping[str, float]) -> None:
        self.plan = plan
        self.values = values

    def value(self, template: str, activity: str | None, entity: str, period: str) -> float:
        """The value of ``template`` for an activity (``None`` if not per activity)."""
        t = self.plan.template(template)
        a = t.activities.index(activity) if activity is not None else 0
        r = self.plan.row_sets[t.rows].index(entity)
        return self.values[template_key(self.plan, t, a, r, period)]

    def table(self, template: str) -> list[list[list[float]]]:
        """All values of ``template`` as ``[activity][row][period]``."""
        t = self.plan.template(template)
        grid: list[list[list[float]]] = []
        for a in range(t.activity_count):
            grid.append(
                [
                    [self.values[template_key(self.plan, t, a, r, period)] for period in t.periods]
                    for r in range(len(self.plan.row_sets[t.rows]))
                ]
            )
        return grid


class ScalarEvaluator:
    """The reference implementation of the :class:`EquationEvaluator` port."""

    def evaluate(self, plan: Plan, inputs: Inputs) -> ScalarResults:
        """Expand, order (Kahn) and evaluate every equation of ``plan``.

        Raises:
            FormulaError: (a subclass) naming the first failing equation.
        """
        equations, env = expand(plan, inputs)
        dependencies = {
            key: tuple(k for k, ref in eq.reads.items() if ref.source.kind is SourceKind.RESULT)
            for key, eq in equations.items()
        }
        for key in toposort(list(equations), dependencies):
            env[key] = evaluate_named(key, equations[key].expression, env)
        return ScalarResults(plan, env)


def evaluate_cell(
    plan: Plan, template: Template, cell: tuple[int, int, int], lookup: Mapping[str, float]
) -> tuple[str, float]:
    """Evaluate one cell given the values it reads (used to explain, and to name errors)."""
    a, r, p = cell
    key = template_key(plan, template, a, r, template.periods[p])
    node, _ = materialize(plan, template, a, r, p)
    return key, evaluate_named(key, node, lookup)
