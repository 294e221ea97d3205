"""Name resolution: what each name in a formula reads, for every cell of its template.

In an *activity* formula: the package's states (``verified``), ``<state>_is_null``,
``<state>_level_<n>`` (the value declared for the facility's ancestor at level ``n``),
the activity's constants and decision-table outputs (``tariff``), the other activity
formulas of the same activity, the package formulas and the zone formulas.
In a *package* formula: package formulas, zone formulas, row-level decision-table outputs,
and ``%{x_values}`` for the list of an activity-level ``x`` over the package's activities.
In a *zone* formula: zone formulas, and ``%{x_values}`` for a package formula over the
zone's facilities. In a *payment* formula: the rule's formulas, its decision-table outputs,
and the package formulas of its packages. Everywhere: ``current_month`` and windows
(:mod:`afiya.domain.pbf.engine.windows`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from afiya.domain.pbf.engine.nodes import (
    Binary,
    Call,
    Leaf,
    Node,
    Selection,
    Source,
    SourceKind,
    Unary,
    Var,
)
from afiya.domain.pbf.engine.plan import Scope
from afiya.domain.pbf.engine.windows import CURRENT, Window, split_values_name
from afiya.domain.pbf.errors import FormulaError, UnknownVariable
from afiya.domain.pbf.periods import Frequency, parse_period, quarter_of
from afiya.domain.shared.i18n import N_, Message

LEVEL_REFERENCE = re.compile(r"^(?P<state>.+)_level_(?P<level>\d+)(?P<null>_is_null)?$")


class WindowOutOfRange(FormulaError):
    code = "window_out_of_range"


@dataclass(frozen=True, slots=True)
class Symbol:
    """What a name reads, seen from the rows of the templates that use the table.

    ``activities`` gives, for each activity of the package, the position in the source's
    activity axis (``None`` when the source has no activity axis). ``periods`` lists the
    periods a result or parameter exists for (``None`` for input data: any period).
    ``only_list`` marks names readable only as a list (a package formula in a zone).
    """

    source: Source
    frequency: Frequency
    rows: str
    activities: tuple[int, ...] | None = None
    periods: tuple[str, ...] | None = None
    windows: bool = True
    only_list: bool = False
    ambiguous: bool = False


@dataclass
class Resolver:
    """Resolves the names of one template's expression into :class:`Leaf` nodes."""

    key: str
    scope: Scope
    frequency: Frequency
    periods: tuple[str, ...]
    symbols: Mapping[str, Symbol]
    dynamic: Callable[[str], Symbol | None] = lambda name: None
    member_maps: tuple[str, ...] = ()
    input_periods: dict[str, set[str]] = field(default_factory=dict)
    dependencies: dict[str, None] = field(default_factory=dict)

    def resolve(self, node: Node) -> Node:
        if isinstance(node, Var):
            return self._name(node)
        if isinstance(node, Unary):
            return Unary(node.op, self.resolve(node.operand))
        if isinstance(node, Binary):
            return Binary(node.op, self.resolve(node.left), self.resolve(node.right))
        if isinstance(node, Call):
            return Call(node.name, tuple(self.resolve(arg) for arg in node.args))
        return node

    def _fail(self, msgid: str, **params: object) -> UnknownVariable:
        return UnknownVariable(Message(msgid, params), equation=self.key)

    def _lookup(self, name: str) -> Symbol | None:
        symbol = self.symbols.get(name) or self.dynamic(name)
        if symbol is not None and symbol.ambiguous:
            raise self._fail(
                N_("{name} is a formula of several packages of this rule, in {equation}."),
                name=name,
            )
        return symbol

    def _name(self, var: Var) -> Node:
        text = f"%{{{var.name}}}" if var.placeholder else var.name
        readings = split_values_name(var.name) if var.placeholder else None
        if readings is None:
            symbol = self._lookup(var.name)
            if symbol is None:
                raise self._fail(N_('Unknown variable "{name}" in {equation}.'), name=var.name)
            return self._scalar(symbol, var.name, text)
        for base, window in readings:
            symbol = self._lookup(base)
            if symbol is not None:
                return self._list(symbol, base, window, text)
        raise self._fail(N_('Unknown variable "{name}" in {equation}.'), name=readings[-1][0])

    def _record(self, symbol: Symbol, periods: list[str | None]) -> None:
        """Note the input periods read, or check the results read are computed."""
        wanted = [p for p in periods if p is not None]
        if symbol.source.kind in (SourceKind.INPUT, SourceKind.IS_NULL):
            self.input_periods.setdefault(symbol.frequency, set()).update(wanted)
            return
        available = set(symbol.periods or ())
        missing = sorted(set(wanted) - available)
        if missing:
            raise WindowOutOfRange(
                Message(
                    N_(
                        "{name} is read for {period}, a period this calculation does not "
                        "compute, in {equation}; windows over formula results must stay "
                        "within the calculated quarters."
                    ),
                    {"name": symbol.source.name, "period": missing[0]},
                ),
                equation=self.key,
            )
        if symbol.source.kind is SourceKind.RESULT:
            self.dependencies[symbol.source.name] = None

    def _activities(self, symbol: Symbol) -> tuple[int, ...] | None:
        return symbol.activities if self.scope is Scope.ACTIVITY else None

    def _scalar(self, symbol: Symbol, name: str, text: str) -> Node:
        if symbol.only_list or (symbol.activities is not None and self.scope is not Scope.ACTIVITY):
            raise self._fail(
                N_("{name} has several values here: read it as %{{{name}_values}}, in {equation}."),
                name=name,
            )
        if symbol.frequency == self.frequency:
            periods: list[str | None] = list(self.periods)
        elif symbol.frequency is Frequency.QUARTERLY:  # a monthly formula reads its quarter
            periods = [quarter_of(parse_period(p)).code for p in self.periods]
        else:  # a quarterly formula reads a monthly value: the quarter's total
            fold = "MIN" if symbol.source.kind is SourceKind.IS_NULL else "SUM"
            return Call(fold, (self._list(symbol, name, CURRENT, text),))
        self._record(symbol, periods)
        selection = Selection(self._activities(symbol), symbol.rows, tuple(periods))
        return Leaf(symbol.source, (selection,), False, text)

    def _list(self, symbol: Symbol, name: str, window: Window, text: str) -> Node:
        same_time = window == CURRENT and symbol.frequency == self.frequency
        if self.scope is Scope.PACKAGE and symbol.activities is not None:
            if not same_time:
                raise self._fail(
                    N_("Windows over activity values are not available in {equation}: {name}."),
                    name=text,
                )
            self._record(symbol, list(self.periods))
            items = tuple(
                Selection((position,), symbol.rows, self.periods) for position in symbol.activities
            )
            return Leaf(symbol.source, items, True, text)
        if symbol.only_list:
            if not same_time:
                raise self._fail(
                    N_("Windows over facility values are not available in {equation}: {name}."),
                    name=text,
                )
            self._record(symbol, list(self.periods))
            items = tuple(Selection(None, rows, self.periods) for rows in self.member_maps)
            return Leaf(symbol.source, items, True, text)
        if symbol.activities is not None and self.scope is not Scope.ACTIVITY:
            raise self._fail(N_('Unknown variable "{name}" in {equation}.'), name=name)
        if not symbol.windows and window != CURRENT:
            raise self._fail(
                N_("{name} is a constant: it has no values over time, in {equation}."), name=name
            )
        per_period = [window.periods(parse_period(p), symbol.frequency) for p in self.periods]
        width = max((len(w) for w in per_period), default=0)
        self._record(symbol, [p for w in per_period for p in w])
        items = tuple(
            Selection(
                self._activities(symbol),
                symbol.rows,
                tuple(w[i] if i < len(w) else None for w in per_period),
            )
            for i in range(width)
        )
        return Leaf(symbol.source, items, True, text)
