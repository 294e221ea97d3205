"""Decision tables: tariffs, equity bonuses and targets by region, level, group or type.

A table is CSV text. ``in:<column>`` headers are conditions, ``out:<column>`` headers are
values, and optional ``start_period`` / ``end_period`` columns bound when a row applies::

    in:level_2,in:group,in:activity_code,out:tariff,start_period,end_period
    *,*,*,1000,,
    hodh_chargui,*,*,1200,,
    hodh_chargui,hospital,act1,1500,202401,

``*`` matches anything. Of the rows that match, the most specific one (most conditions
that are not ``*``) wins; two equally specific matches with different values are an
error rather than a silent choice, because a tariff picked by row order is a payment
nobody decided.

Conditions an org unit provides: ``activity_code``, ``org_unit`` (its id), ``level_<n>``
(the id of its ancestor at level ``n``, 1 being the country), ``group`` (matches when the
unit belongs to the group), and any of its attributes (``type``, ``ownership``...).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from afiya.domain.pbf.errors import DecisionTableError, PeriodInvalid
from afiya.domain.pbf.periods import Period, parse_period
from afiya.domain.shared.i18n import N_, Message

if TYPE_CHECKING:
    from afiya.domain.pbf.model import OrgUnit

WILDCARD = "*"
Facts = Mapping[str, str | frozenset[str]]


def _error(msgid: str, **params: object) -> DecisionTableError:
    return DecisionTableError(Message(msgid, params))


@dataclass(frozen=True, slots=True)
class DecisionRow:
    line: int  # line in the CSV text (header is line 1), for messages
    conditions: tuple[tuple[str, str], ...]  # only the non-wildcard ones
    outputs: tuple[tuple[str, Decimal], ...]
    start: Period | None = None
    end: Period | None = None

    @property
    def specificity(self) -> int:
        return len(self.conditions)

    def matches(self, facts: Facts) -> bool:
        for column, expected in self.conditions:
            actual = facts.get(column)
            if isinstance(actual, frozenset):
                if expected not in actual:
                    return False
            elif actual != expected:
                return False
        return True

    def applies_in(self, period: Period | None) -> bool:
        """Whether the row applies in ``period`` (by the period's first month)."""
        if period is None:
            return True
        if self.start is not None and period.first < self.start.first:
            return False
        return self.end is None or period.first <= self.end.last


@dataclass(frozen=True, slots=True)
class DecisionTable:
    """A parsed decision table; ``source`` keeps the CSV text for the rule-set hash."""

    name: str
    source: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rows: tuple[DecisionRow, ...]

    @property
    def has_periods(self) -> bool:
        return any(row.start is not None or row.end is not None for row in self.rows)

    @classmethod
    def parse(cls, name: str, source: str) -> DecisionTable:
        """Read a table from CSV text.

        Raises:
            DecisionTableError: on an unknown header, no output column, a missing cell, or a
                value or period that cannot be read; the message names the line.
        """
        lines = [row for row in csv.reader(io.StringIO(source.strip())) if any(row)]
        if not lines:
            raise _error(N_("Decision table {table} is empty."), table=name)
        header = [cell.strip() for cell in lines[0]]
        inputs, outputs = [], []
        for column in header:
            if column.startswith("in:") and len(column) > 3:
                inputs.append(column[3:])
            elif column.startswith("out:") and len(column) > 4:
                outputs.append(column[4:])
            elif column not in {"start_period", "end_period"}:
                raise _error(
                    N_("Decision table {table}: unknown column {column}."),
                    table=name,
                    column=column,
                )
        if not outputs:
            raise _error(N_("Decision table {table} has no out: column."), table=name)
        rows = tuple(
            _parse_row(name, header, cells, line) for line, cells in enumerate(lines[1:], start=2)
        )
        return cls(name, source, tuple(inputs), tuple(outputs), rows)

    def match(self, facts: Facts, period: Period | None = None) -> DecisionRow | None:
        """The most specific row matching ``facts`` in ``period``, or ``None``.

        Raises:
            DecisionTableError: when two equally specific rows match with different values.
        """
        matching = [row for row in self.rows if row.applies_in(period) and row.matches(facts)]
        if not matching:
            return None
        top = max(row.specificity for row in matching)
        best = [row for row in matching if row.specificity == top]
        for other in best[1:]:
            if other.outputs != best[0].outputs:
                raise _error(
                    N_(
                        "Decision table {table}: lines {first} and {second} both match "
                        "{facts} equally; make one more specific."
                    ),
                    table=self.name,
                    first=best[0].line,
                    second=other.line,
                    facts=_describe(facts, self.inputs),
                )
        return best[0]


def _parse_row(table: str, header: list[str], cells: list[str], line: int) -> DecisionRow:
    if len(cells) != len(header):
        raise _error(
            N_("Decision table {table}, line {line}: {count} cells for {columns} columns."),
            table=table,
            line=line,
            count=len(cells),
            columns=len(header),
        )
    conditions: list[tuple[str, str]] = []
    outputs: list[tuple[str, Decimal]] = []
    bounds: dict[str, Period | None] = {"start_period": None, "end_period": None}
    for column, raw in zip(header, cells, strict=True):
        cell = raw.strip()
        if column in bounds:
            bounds[column] = _parse_bound(table, line, cell)
        elif not cell:
            raise _error(
                N_("Decision table {table}, line {line}: column {column} is empty (use *)."),
                table=table,
                line=line,
                column=column,
            )
        elif column.startswith("in:"):
            if cell != WILDCARD:
                conditions.append((column[3:], cell))
        else:
            try:
                value = Decimal(cell)
            except InvalidOperation:
                value = Decimal("NaN")
            if not value.is_finite():
                raise _error(
                    N_("Decision table {table}, line {line}: {value} is not a number."),
                    table=table,
                    line=line,
                    value=cell,
                )
            outputs.append((column[4:], value))
    return DecisionRow(
        line, tuple(conditions), tuple(outputs), bounds["start_period"], bounds["end_period"]
    )


def _parse_bound(table: str, line: int, cell: str) -> Period | None:
    if not cell or cell == WILDCARD:
        return None
    try:
        return parse_period(cell)
    except PeriodInvalid:
        raise _error(
            N_("Decision table {table}, line {line}: {value} is not a period."),
            table=table,
            line=line,
            value=cell,
        ) from None


def _describe(facts: Facts, columns: tuple[str, ...]) -> str:
    parts = []
    for column in columns:
        value = facts.get(column)
        shown = ",".join(sorted(value)) if isinstance(value, frozenset) else value
        parts.append(f"{column}={shown}")
    return "; ".join(parts)


def facts_for(
    org_unit: OrgUnit, activity_code: str | None = None
) -> dict[str, str | frozenset[str]]:
    """What a decision table can test about ``org_unit`` (and an activity)."""
    facts: dict[str, str | frozenset[str]] = dict(org_unit.attributes)
    facts["org_unit"] = org_unit.id
    facts["group"] = org_unit.groups
    for level, ancestor in enumerate((*org_unit.path, org_unit.id), start=1):
        facts[f"level_{level}"] = ancestor
    if activity_code is not None:
        facts["activity_code"] = activity_code
    return facts
