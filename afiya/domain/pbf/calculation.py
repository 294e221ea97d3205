"""Calculating (and simulating) a period's PBF invoices.

The engine is pure: the same rules, facilities, periods and data always give the same
invoices, and nothing is written anywhere. A *simulation* is therefore just a calculation
on overridden data or constants ("what if this district's verified quantities were 10 %
lower", "what if the tariff of act1 were 1,500"), with its invoices marked ``simulated``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from afiya.domain.pbf.budget import apply_budget
from afiya.domain.pbf.engine.expansion import InputKey, Inputs
from afiya.domain.pbf.engine.plan import Plan
from afiya.domain.pbf.engine.planner import plan_calculation
from afiya.domain.pbf.invoices import Invoice, build_invoices
from afiya.domain.pbf.model import BudgetEnvelope, OrgUnit, RuleSet
from afiya.domain.pbf.ports import EquationEvaluator, Results

Number = float | int | Decimal


@dataclass(frozen=True, slots=True)
class Calculation:
    plan: Plan
    results: Results
    invoices: tuple[Invoice, ...]
    simulated: bool = False

    @property
    def rule_set_hash(self) -> str:
        return self.plan.rule_set_hash


class OverlayInputs(Mapping[InputKey, Number]):
    """``base`` seen through ``overrides``; an override of ``None`` removes the value.

    The base data are not copied, so a simulation over national data costs only its
    overrides.
    """

    def __init__(self, base: Inputs, overrides: Mapping[InputKey, Number | None]) -> None:
        self.base = base
        self.overrides = overrides

    def __getitem__(self, key: InputKey) -> Number:
        if key in self.overrides:
            value = self.overrides[key]
            if value is None:
                raise KeyError(key)
            return value
        return self.base[key]

    def __iter__(self) -> Iterator[InputKey]:
        for key in self.base:
            if key not in self.overrides:
                yield key
        for key, value in self.overrides.items():
            if value is not None:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)


def override_constants(
    rule_set: RuleSet, overrides: Mapping[tuple[str, str, str], Decimal]
) -> RuleSet:
    """A copy of ``rule_set`` with activity constants replaced.

    Args:
        overrides: ``(package, activity, constant) -> value``, e.g.
            ``{("quantity", "act1", "tariff"): Decimal(1500)}``.
    """
    packages = []
    for package in rule_set.packages:
        activities = []
        for activity in package.activities:
            constants = dict(activity.constants)
            for (p, a, name), value in overrides.items():
                if p == package.code and a == activity.code:
                    constants[name] = value
            activities.append(replace(activity, constants=constants))
        packages.append(replace(package, activities=tuple(activities)))
    return replace(rule_set, packages=tuple(packages))


def calculate(
    rule_set: RuleSet,
    facilities: Sequence[OrgUnit],
    periods: Sequence[str],
    inputs: Inputs,
    *,
    evaluator: EquationEvaluator,
    budget: BudgetEnvelope | None = None,
    simulated: bool = False,
) -> Calculation:
    """Compute the invoices of ``facilities`` for ``periods`` under ``rule_set``.

    Business rules: whole quarters are computed; a missing input is not zero (its
    ``_is_null`` is 1); amounts are exact to the currency's minor unit; payer parts sum
    exactly to the invoice; when ``budget`` is exceeded, invoices of its period are scaled
    or capped to fit it exactly.
    """
    plan = plan_calculation(rule_set, facilities, periods)
    results = evaluator.evaluate(plan, inputs)
    invoices = build_invoices(plan, results, simulated=simulated)
    if budget is not None:
        invoices = apply_budget(invoices, budget, rule_set)
    return Calculation(plan, results, invoices, simulated)


def simulate(
    rule_set: RuleSet,
    facilities: Sequence[OrgUnit],
    periods: Sequence[str],
    inputs: Inputs,
    *,
    evaluator: EquationEvaluator,
    input_overrides: Mapping[InputKey, Number | None] | None = None,
    constant_overrides: Mapping[tuple[str, str, str], Decimal] | None = None,
    budget: BudgetEnvelope | None = None,
) -> Calculation:
    """A calculation on overridden inputs and constants, marked as a simulation.

    Nothing given is modified: the rule set is copied (so its hash changes, and the
    simulated invoices cannot be mistaken for real ones) and the inputs are overlaid.
    """
    rules = override_constants(rule_set, constant_overrides) if constant_overrides else rule_set
    data: Inputs = OverlayInputs(inputs, input_overrides) if input_overrides else inputs
    return calculate(
        rules, facilities, periods, data, evaluator=evaluator, budget=budget, simulated=True
    )
