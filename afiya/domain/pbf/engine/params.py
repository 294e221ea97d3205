"""Parameter tables: activity constants and decision-table outputs over the grid.

A tariff may be one number per activity, or vary by region, facility type, group or period
through a decision table; either way the plan holds it as a :class:`ParamTable` over
(activity, facility, period), with constant axes collapsed to size 1. Lookups are memoised
on the facts a table actually tests, so 3,000 facilities in 15 regions cost 15 lookups per
activity, not 3,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from afiya.domain.pbf.decision_tables import DecisionTable, facts_for
from afiya.domain.pbf.engine.plan import ParamTable
from afiya.domain.pbf.errors import PlanningError
from afiya.domain.pbf.model import Activity, OrgUnit
from afiya.domain.pbf.periods import parse_period, period_number
from afiya.domain.shared.i18n import N_, Message

ACTIVITY_CODE = "activity_code"


def _collapse(
    by_class: list[list[list[float]]], of_row: list[int]
) -> tuple[tuple[int, int, int], tuple[float, ...]]:
    """Shape and flat values of ``by_class[a][of_row[r]][p]``, constant axes of size 1."""
    if all(len(set(values)) == 1 for plane in by_class for values in plane):
        by_class = [[values[:1] for values in plane] for plane in by_class]
    rows = of_row
    if all(values == plane[0] for plane in by_class for values in plane):
        rows = [0]
    if all(plane == by_class[0] for plane in by_class):
        by_class = by_class[:1]
    flat = tuple(v for plane in by_class for c in rows for v in plane[c])
    return (len(by_class), len(rows), len(by_class[0][0])), flat


class ParamBuilder:
    """Evaluates constants and decision tables for one owner (package or payment rule)."""

    def __init__(
        self,
        owner: str,
        rows: str,
        facilities: Sequence[OrgUnit],
        periods: tuple[str, ...],
        tables: Sequence[DecisionTable],
    ) -> None:
        self.owner = owner
        self.rows = rows
        self.facilities = facilities
        self.periods = periods
        self.tables = tables
        self._facts = [facts_for(ou) for ou in facilities]

    def _table_for(self, name: str) -> DecisionTable | None:
        return next((t for t in self.tables if name in t.outputs), None)

    def _classes(self, table: DecisionTable | None) -> tuple[list[int], list[int]]:
        """Facilities grouped by what ``table`` tests about them (activity aside).

        Returns a representative row of each class, and each row's class.
        """
        if table is None or not self.facilities:
            return [0], [0] * len(self.facilities)
        columns = [c for c in table.inputs if c != ACTIVITY_CODE]
        classes: dict[tuple[object, ...], int] = {}
        representatives: list[int] = []
        of_row: list[int] = []
        for row, facts in enumerate(self._facts):
            signature = tuple(facts.get(column) for column in columns)
            if signature not in classes:
                classes[signature] = len(representatives)
                representatives.append(row)
            of_row.append(classes[signature])
        return representatives, of_row

    def _lookup(
        self, table: DecisionTable, name: str, row: int, activity: str | None, period: str | None
    ) -> Decimal | None:
        facts = dict(self._facts[row])
        if activity is not None:
            facts[ACTIVITY_CODE] = activity
        tested = {column: facts[column] for column in table.inputs if column in facts}
        match = table.match(tested, parse_period(period) if period else None)
        return dict(match.outputs)[name] if match else None

    def _missing(self, name: str, row: int, activity: str | None, period: str) -> PlanningError:
        return PlanningError(
            Message(
                N_(
                    "No value of {name} for {org_unit}, activity {activity}, {period}: no "
                    "decision-table row matches and there is no default."
                ),
                {
                    "name": name,
                    "org_unit": self.facilities[row].id if self.facilities else "-",
                    "activity": activity or "-",
                    "period": period,
                },
            )
        )

    def _value(
        self,
        name: str,
        table: DecisionTable | None,
        row: int,
        activity: Activity | None,
        period: str | None,
    ) -> float:
        code = activity.code if activity else None
        found = self._lookup(table, name, row, code, period) if table else None
        if found is None and activity is not None:
            found = activity.constants.get(name)
        if found is None:
            raise self._missing(name, row, code, period or self.periods[0])
        return float(found)

    def table(self, name: str, activities: Sequence[Activity] | None) -> ParamTable:
        """The table of ``name``: per activity when ``activities`` is given, else per row.

        Each decision-table lookup is made once per class of facilities the table cannot
        tell apart (same region, group, type...), not once per facility.
        """
        table = self._table_for(name)
        periods: Sequence[str | None] = (
            self.periods if table is not None and table.has_periods else [None]
        )
        owners: Sequence[Activity | None] = activities if activities is not None else [None]
        representatives, of_row = self._classes(table)
        if self.facilities:
            by_class = [
                [[self._value(name, table, r, a, p) for p in periods] for r in representatives]
                for a in owners
            ]
            shape, values = _collapse(by_class, of_row if table is not None else [0])
        else:  # a package no facility takes part in: nothing to look up
            shape, values = _collapse([[[0.0]] for _ in owners], [0])
        return ParamTable(
            key=f"{self.owner}.{name}",
            name=name,
            owner=self.owner,
            activities=tuple(a.code for a in activities) if activities is not None else None,
            rows=self.rows,
            periods=self.periods,
            shape=shape,
            values=values,
        )

    def activity_level_names(self, activities: Sequence[Activity]) -> list[str]:
        names = {n for activity in activities for n in activity.constants}
        names.update(o for t in self.tables if ACTIVITY_CODE in t.inputs for o in t.outputs)
        return sorted(names)

    def row_level_names(self) -> list[str]:
        return sorted({o for t in self.tables if ACTIVITY_CODE not in t.inputs for o in t.outputs})


def current_month_table(frequency: str, periods: tuple[str, ...]) -> ParamTable:
    """The built-in ``current_month``: the period's last month as YYYYMM."""
    values = tuple(float(period_number(parse_period(p))) for p in periods) or (0.0,)
    return ParamTable(
        key=f"builtin.current_month.{frequency}",
        name="current_month",
        owner="builtin",
        activities=None,
        rows="",
        periods=periods,
        shape=(1, 1, len(values)),
        values=values,
    )
