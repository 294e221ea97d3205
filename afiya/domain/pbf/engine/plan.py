"""A calculation plan: the rule set compiled against facilities and periods.

The plan holds one *template* per formula: a resolved expression evaluated over a grid of
cells (activity x row x period), the rows being facilities (or zones). hesabu expands
every cell into its own named equation; the plan keeps the grid, so an evaluator can
compute each template over the whole grid at once, or expand it cell by cell (see
:mod:`afiya.domain.pbf.engine.expansion`). Both read the same plan, so they compute the
same thing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from afiya.domain.pbf.engine.nodes import Node
from afiya.domain.pbf.model import Formula, OrgUnit, RuleSet
from afiya.domain.pbf.periods import Frequency
from afiya.domain.shared.money import Currency


class Scope(StrEnum):
    ACTIVITY = "activity"  # one value per activity, facility and period
    PACKAGE = "package"  # one value per facility and period
    ZONE = "zone"  # one value per zone (ancestor) and period
    PAYMENT = "payment"  # one value per facility and payment period


@dataclass(frozen=True, slots=True)
class ParamTable:
    """Constant values over (activity, row, period); an axis of size 1 is broadcast."""

    key: str
    name: str
    owner: str
    activities: tuple[str, ...] | None
    rows: str
    periods: tuple[str, ...]
    shape: tuple[int, int, int]
    values: tuple[float, ...]  # row-major over ``shape``

    def value(self, activity: int | None, row: int, period: str) -> float:
        """The value at an activity position, row and period code of the owner's grid."""
        a = 0 if activity is None or self.shape[0] == 1 else activity
        r = 0 if self.shape[1] == 1 else row
        p = 0 if self.shape[2] == 1 else self.periods.index(period)
        return self.values[(a * self.shape[1] + r) * self.shape[2] + p]


@dataclass(frozen=True, slots=True)
class Template:
    """One formula evaluated over a grid: ``activities`` x rows of ``rows`` x ``periods``."""

    key: str  # "<package or payment rule>.<formula>"
    scope: Scope
    owner: str
    formula: Formula
    activities: tuple[str, ...]  # empty unless scope is ACTIVITY
    rows: str  # name of a row set of the plan
    periods: tuple[str, ...]
    frequency: Frequency
    expression: Node
    dependencies: tuple[str, ...]  # keys of the templates it reads

    @property
    def activity_count(self) -> int:
        return max(1, len(self.activities))


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything an evaluator needs, in plain Python values.

    ``units`` is the row axis of input data (the facilities, then the ancestors that
    ``_level_<n>`` references and zones need); ``activities`` is the activity axis of
    input data; ``input_periods`` lists, per frequency, the periods of input data that the
    formulas read (windows reach back before the calculated periods).
    """

    rule_set: RuleSet
    rule_set_hash: str
    currency: Currency
    facilities: tuple[OrgUnit, ...]
    periods: tuple[str, ...]
    months: tuple[str, ...]
    quarters: tuple[str, ...]
    activities: tuple[str, ...]
    units: tuple[str, ...]
    input_periods: Mapping[str, tuple[str, ...]]
    row_sets: Mapping[str, tuple[str, ...]]
    row_maps: Mapping[str, tuple[int, ...]]
    params: Mapping[str, ParamTable]
    templates: tuple[Template, ...]  # in dependency order
    #: Activity codes used by several packages: their equation keys start with the package.
    shared_activities: frozenset[str] = frozenset()
    by_key: Mapping[str, Template] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.by_key:
            object.__setattr__(self, "by_key", {t.key: t for t in self.templates})

    def template(self, key: str) -> Template:
        """The template ``key`` (``"quantity.amount"``).

        Raises:
            KeyError: when the plan has no such template.
        """
        return self.by_key[key]

    def rows(self, template: Template) -> tuple[str, ...]:
        return self.row_sets[template.rows]

    @property
    def equation_count(self) -> int:
        """Equations as hesabu counts them: one per formula x activity x row x period."""
        return sum(
            t.activity_count * len(self.row_sets[t.rows]) * len(t.periods) for t in self.templates
        )

    def cells(self, template: Template) -> Iterator[tuple[int, int, int]]:
        """Every (activity position, row, period position) of ``template``, row-major."""
        rows = len(self.row_sets[template.rows])
        for a in range(template.activity_count):
            for r in range(rows):
                for p in range(len(template.periods)):
                    yield a, r, p
