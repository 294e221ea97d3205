"""Syntax tree of formulas, and the resolved leaves the planner puts in place of names.

The parser produces :class:`Num`, :class:`Var`, :class:`Unary`, :class:`Binary` and
:class:`Call`. The planner replaces every :class:`Var` by a :class:`Leaf`: where, in which
table (input data, another formula's results, a parameter), and at which activity, row and
period, each cell of the template finds its value. Both evaluators read those leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceKind(StrEnum):
    INPUT = "input"  # a declared/verified/validated value; missing counts as 0
    IS_NULL = "is_null"  # 1 when the input value is missing, else 0
    RESULT = "result"  # the value of another formula template
    PARAM = "param"  # a constant: activity constant, decision-table output, built-in


@dataclass(frozen=True, slots=True)
class Source:
    """A table of values: ``name`` is a state, a template key or a parameter key."""

    kind: SourceKind
    name: str
    frequency: str = ""  # for inputs: "monthly" or "quarterly" (which period axis)


@dataclass(frozen=True, slots=True)
class Selection:
    """How each cell ``(activity a, row r, period p)`` of a template maps into a source.

    ``activities[a]`` is the position in the source's activity axis (``None``: the source
    has none and is broadcast), ``rows`` names a row map of the plan (template row to source
    row, ``-1`` when absent), and ``periods[p]`` is the source period code (``None`` when
    absent). An absent value reads as 0 (and as 1 for ``_is_null``) in a scalar, and is
    left out of a list.
    """

    activities: tuple[int, ...] | None
    rows: str
    periods: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class Num:
    value: float


@dataclass(frozen=True, slots=True)
class Var:
    """A name as written: ``verified`` or, with ``placeholder``, ``%{amount_values}``."""

    name: str
    placeholder: bool = False


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "+"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / ^ = <> < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # upper case
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Leaf:
    """A resolved name: one selection for a number, one per element for a list."""

    source: Source
    items: tuple[Selection, ...]
    array: bool
    text: str  # the name as the formula author wrote it


Node = Num | Var | Unary | Binary | Call | Leaf

COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})

_PRECEDENCE = {
    "=": 1,
    "<>": 1,
    "<": 1,
    "<=": 1,
    ">": 1,
    ">=": 1,
    "+": 2,
    "-": 2,
    "*": 3,
    "/": 3,
    "^": 5,
}
_UNARY = 4
_ATOM = 6


def _precedence(node: Node) -> int:
    if isinstance(node, Binary):
        return _PRECEDENCE[node.op]
    if isinstance(node, Unary):
        return _UNARY
    return _ATOM


def _wrap(node: Node, parenthesize: bool) -> str:
    text = to_text(node)
    return f"({text})" if parenthesize else text


def to_text(node: Node) -> str:
    """Render ``node`` as formula text that parses back to the same tree."""
    if isinstance(node, Num):
        text = repr(node.value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(node, Var):
        return f"%{{{node.name}}}" if node.placeholder else node.name
    if isinstance(node, Leaf):
        return node.text
    if isinstance(node, Unary):
        return node.op + _wrap(node.operand, _precedence(node.operand) < _UNARY)
    if isinstance(node, Binary):
        mine = _PRECEDENCE[node.op]
        if node.op == "^":  # right-associative, binds tighter than unary minus
            left = _wrap(node.left, _precedence(node.left) <= mine)
            right = _wrap(node.right, _precedence(node.right) < _UNARY)
        else:
            left = _wrap(node.left, _precedence(node.left) < mine)
            right = _wrap(node.right, _precedence(node.right) <= mine)
        return f"{left} {node.op} {right}"
    return f"{node.name}({', '.join(to_text(arg) for arg in node.args)})"


def walk(node: Node) -> list[Node]:
    """``node`` and all its descendants, parents first."""
    out: list[Node] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        if isinstance(current, Unary):
            stack.append(current.operand)
        elif isinstance(current, Binary):
            stack.extend((current.right, current.left))
        elif isinstance(current, Call):
            stack.extend(reversed(current.args))
    return out
