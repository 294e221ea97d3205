"""Test data for the PBF engine: the hesabu reference case and small rule sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from afiya.adapters.compute import NumpyEquationEvaluator
from afiya.domain.pbf import (
    Activity,
    Formula,
    Frequency,
    OrgUnit,
    Package,
    PackageKind,
    PayerShare,
    PaymentRule,
    Plan,
    RuleSet,
    ScalarEvaluator,
    plan_calculation,
)
from afiya.domain.pbf.engine.expansion import Inputs
from afiya.domain.pbf.ports import Results
from afiya.domain.shared.money import MRU, XOF, Currency

REFERENCE_FORMULAS = (
    Formula(
        "difference_percentage",
        "IF(verified_is_null = 1, 0, SAFE_DIV(ABS(claimed - verified), verified) * 100)",
    ),
    Formula("qtt_percent_rule", "IF(difference_percentage <= 5, validated, 0)"),
    Formula("monthly_sanction", "IF(difference_percentage > 5, 1, 0)"),
    Formula("quarterly_sanction", "IF(SUM(%{monthly_sanction_current_quarter_values}) > 0, 0, 1)"),
    Formula("amount", "qtt_percent_rule * quarterly_sanction", money=True),
)


def facility(
    ou_id: str = "fosa1",
    region: str = "hodh_chargui",
    district: str = "nema",
    groups: Sequence[str] = ("health_centre",),
    **attributes: str,
) -> OrgUnit:
    """A facility at level 4: country mr > region > district > facility."""
    return OrgUnit(ou_id, ou_id.upper(), ("mr", region, district), frozenset(groups), attributes)


def quantity_package(
    *,
    formulas: Sequence[Formula] = REFERENCE_FORMULAS,
    package_formulas: Sequence[Formula] = (
        Formula("quantity_total", "SUM(%{amount_values})", money=True),
    ),
    activities: Sequence[Activity] = (Activity("act1", "Consultations"), Activity("act2", "CPN")),
    states: Sequence[str] = ("claimed", "verified", "validated"),
    **changes: object,
) -> Package:
    package = Package(
        code="quantity",
        name="Quantité",
        kind=PackageKind.QUANTITY,
        frequency=Frequency.MONTHLY,
        states=tuple(states),
        activities=tuple(activities),
        activity_formulas=tuple(formulas),
        package_formulas=tuple(package_formulas),
    )
    return replace(package, **changes)  # type: ignore[arg-type]


def rule_set(
    *packages: Package,
    payment_rules: Sequence[PaymentRule] = (),
    currency: Currency = XOF,
    valid_from: str = "201501",
) -> RuleSet:
    return RuleSet(
        programme="pbf_mr",
        version=1,
        valid_from=valid_from,
        valid_to=None,
        currency=currency,
        packages=packages or (quantity_package(),),
        payment_rules=tuple(payment_rules),
    )


def reference_rule_set() -> RuleSet:
    """The hesabu reference rules, with a monthly payment rule paying quantity_total."""
    payment = PaymentRule(
        code="payment",
        name="Paiement",
        frequency=Frequency.MONTHLY,
        packages=("quantity",),
        formulas=(Formula("total", "quantity_total", money=True),),
        amount_formula="total",
        payers=(PayerShare("state", Decimal(70)), PayerShare("world_bank", Decimal(30))),
    )
    return rule_set(quantity_package(), payment_rules=(payment,), currency=MRU)


def reference_inputs(ou_id: str = "ou") -> dict[tuple[str, str, str, str], float]:
    return {
        (ou_id, "201601", "act1", "claimed"): 40,
        (ou_id, "201601", "act1", "verified"): 33,
        (ou_id, "201601", "act2", "validated"): 80,
    }


def evaluate_both(plan: Plan, inputs: Inputs) -> tuple[Results, Results]:
    """Evaluate with the reference and the numpy evaluators."""
    return (
        ScalarEvaluator().evaluate(plan, inputs),
        NumpyEquationEvaluator().evaluate(plan, inputs),
    )


def single(
    expression: str,
    inputs: Inputs,
    *,
    states: Sequence[str] = ("x", "y"),
    periods: Sequence[str] = ("2016Q1",),
    ou: OrgUnit | None = None,
    activities: Sequence[Activity] = (Activity("a", "A"),),
    frequency: Frequency = Frequency.MONTHLY,
) -> tuple[Plan, Results, Results]:
    """Plan one activity formula ``f`` and evaluate it with both evaluators."""
    package = quantity_package(
        formulas=(Formula("f", expression),),
        package_formulas=(),
        states=states,
        activities=activities,
        frequency=frequency,
    )
    plan = plan_calculation(rule_set(package), [ou or facility()], periods)
    scalar, fast = evaluate_both(plan, inputs)
    return plan, scalar, fast
