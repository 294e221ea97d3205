"""PBF rules: programme, rule-set versions, packages, activities, formulas, payment rules.

A *programme* (the national PBF scheme, or a donor's) has *rule-set versions*, each valid
for a range of months and identified by a content hash. A rule set groups *packages* (the
quantity grid, the quality checklist, the equity bonus, management indicators), each
declared monthly or quarterly for the *activities* (indicators) it lists, and *payment
rules* that combine package results into the amount each facility is paid and split it
between payers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from afiya.domain.pbf.decision_tables import DecisionTable
from afiya.domain.pbf.errors import NoRuleSet
from afiya.domain.pbf.periods import Frequency, Period, parse_period
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.money import Currency


class PackageKind(StrEnum):
    QUANTITY = "quantity"
    QUALITY = "quality"
    EQUITY = "equity"
    MANAGEMENT = "management"


class BudgetPolicy(StrEnum):
    """What happens when invoices exceed the budget envelope.

    ``SCALE``: every invoice is reduced in the same proportion. ``CAP``: every invoice is
    capped at one common ceiling, chosen so the capped invoices use the budget exactly;
    small invoices are paid in full (max-min fairness).
    """

    SCALE = "scale"
    CAP = "cap"


@dataclass(frozen=True, slots=True)
class Formula:
    """A named formula. ``money`` marks amounts, quantized to the currency on output."""

    code: str
    expression: str
    description: str = ""
    money: bool = False


@dataclass(frozen=True, slots=True)
class Activity:
    """An indicator of a package, with its constants (``tariff``, ``max_score``...)."""

    code: str
    name: str
    constants: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Package:
    """A grid of activities declared with the same states at the same frequency.

    ``states`` are the data each activity has per facility and period (``claimed``,
    ``verified``, ``validated``...). ``activity_formulas`` are computed per activity,
    ``package_formulas`` per facility (over the activities), and ``zone_formulas`` per
    zone, the facilities' ancestor at ``zone_level``. The package applies to facilities in
    any of ``org_unit_groups`` (all facilities when empty).
    """

    code: str
    name: str
    kind: PackageKind
    frequency: Frequency
    states: tuple[str, ...]
    activities: tuple[Activity, ...]
    activity_formulas: tuple[Formula, ...] = ()
    package_formulas: tuple[Formula, ...] = ()
    zone_formulas: tuple[Formula, ...] = ()
    zone_level: int | None = None
    org_unit_groups: frozenset[str] = frozenset()
    decision_tables: tuple[DecisionTable, ...] = ()

    def formulas(self) -> tuple[Formula, ...]:
        return self.activity_formulas + self.package_formulas + self.zone_formulas


@dataclass(frozen=True, slots=True)
class PayerShare:
    """A payer (state budget, a donor, an insurer) and the percentage it pays."""

    payer: str
    percent: Decimal


@dataclass(frozen=True, slots=True)
class PaymentRule:
    """How package results become the amount paid to a facility each period.

    Formulas name package formulas directly; a monthly package formula read by a quarterly
    rule is the sum of the quarter's months, and a quarterly one read by a monthly rule is
    the value of the month's quarter. ``amount_formula`` is the invoice total, split
    between ``payers``.
    """

    code: str
    name: str
    frequency: Frequency
    packages: tuple[str, ...]
    formulas: tuple[Formula, ...]
    amount_formula: str
    payers: tuple[PayerShare, ...] = ()
    decision_tables: tuple[DecisionTable, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One version of a programme's rules, valid from one month to another (inclusive)."""

    programme: str
    version: int
    valid_from: str
    valid_to: str | None
    currency: Currency
    packages: tuple[Package, ...]
    payment_rules: tuple[PaymentRule, ...] = ()

    def package(self, code: str) -> Package:
        return next(p for p in self.packages if p.code == code)

    def covers(self, period: Period) -> bool:
        """Whether the whole of ``period`` lies within the validity of this version."""
        if period.first < parse_period(self.valid_from).first:
            return False
        return self.valid_to is None or period.last <= parse_period(self.valid_to).last

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of the rules: the identity of what was applied.

        Invoices and explanations carry it, so a payment can always be traced to the exact
        rules that produced it, even after a rule set is edited.
        """
        text = json.dumps(_canonical(self), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class BudgetEnvelope:
    """The most a programme pays for one period, and how invoices are brought within it."""

    period: str
    amount: Decimal
    policy: BudgetPolicy = BudgetPolicy.SCALE


@dataclass(frozen=True, slots=True)
class Programme:
    code: str
    name: str
    currency: Currency
    rule_sets: tuple[RuleSet, ...]
    budgets: tuple[BudgetEnvelope, ...] = ()

    def rule_set_for(self, period: str) -> RuleSet:
        """The rule-set version valid for the whole of ``period``.

        Raises:
            NoRuleSet: when no version, or more than one, covers the period.
        """
        wanted = parse_period(period)
        found = [rs for rs in self.rule_sets if rs.covers(wanted)]
        if len(found) != 1:
            msgid = (
                N_("No rule set of programme {programme} covers {period}.")
                if not found
                else N_("Several rule sets of programme {programme} cover {period}.")
            )
            raise NoRuleSet(Message(msgid, {"programme": self.code, "period": period}))
        return found[0]

    def budget_for(self, period: str) -> BudgetEnvelope | None:
        return next((b for b in self.budgets if b.period == period), None)


@dataclass(frozen=True, slots=True)
class OrgUnit:
    """A facility (or any org unit) of the DHIS2-like hierarchy.

    ``path`` lists the ancestors' ids from the root (level 1, the country) to the parent,
    so the unit's own level is ``len(path) + 1``.
    """

    id: str
    name: str
    path: tuple[str, ...] = ()
    groups: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def level(self) -> int:
        return len(self.path) + 1

    def ancestor(self, level: int) -> str | None:
        """The id of the ancestor (or self) at ``level``, ``None`` when deeper than self."""
        if 1 <= level <= len(self.path):
            return self.path[level - 1]
        return self.id if level == self.level else None


def _canonical(value: Any) -> Any:
    if isinstance(value, DecisionTable):
        return {"name": value.name, "source": value.source.strip()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    return value
