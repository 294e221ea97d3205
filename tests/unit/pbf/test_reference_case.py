"""The public hesabu reference case, reproduced exactly by both evaluators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from afiya.adapters.compute import NumpyEquationEvaluator
from afiya.domain.pbf import ScalarEvaluator, calculate, plan_calculation
from afiya.domain.pbf.engine.scalar import expand
from tests.unit.pbf.factories import facility, reference_inputs, reference_rule_set

MONTHS = ("201601", "201602", "201603")
EVALUATORS = [ScalarEvaluator(), NumpyEquationEvaluator()]


@pytest.fixture
def plan():
    return plan_calculation(reference_rule_set(), [facility("ou")], ["2016Q1"])


@pytest.mark.parametrize("evaluator", EVALUATORS, ids=["scalar", "numpy"])
class TestReferenceCase:
    def test_difference_percentage_of_activity_1_in_january(self, plan, evaluator):
        results = evaluator.evaluate(plan, reference_inputs())
        value = results.value("quantity.difference_percentage", "act1", "ou", "201601")
        assert value == pytest.approx(21.2121, abs=0.001)
        assert value == pytest.approx(7 / 33 * 100, rel=1e-15)

    def test_activity_1_amount_is_zero_in_every_month_of_the_sanctioned_quarter(
        self, plan, evaluator
    ):
        results = evaluator.evaluate(plan, reference_inputs())
        assert [results.value("quantity.amount", "act1", "ou", m) for m in MONTHS] == [0, 0, 0]
        sanctions = [results.value("quantity.monthly_sanction", "act1", "ou", m) for m in MONTHS]
        assert sanctions == [1, 0, 0]

    def test_activity_2_without_verified_value_keeps_its_validated_80(self, plan, evaluator):
        results = evaluator.evaluate(plan, reference_inputs())
        assert results.value("quantity.amount", "act2", "ou", "201601") == 80
        assert results.value("quantity.difference_percentage", "act2", "ou", "201601") == 0

    def test_quantity_total_is_80_then_0_then_0(self, plan, evaluator):
        results = evaluator.evaluate(plan, reference_inputs())
        totals = [results.value("quantity.quantity_total", None, "ou", m) for m in MONTHS]
        assert totals == [80, 0, 0]


def test_equations_are_named_the_hesabu_way(plan):
    equations, constants = expand(plan, reference_inputs())
    assert "act1_difference_percentage_ou_201601" in equations
    assert "quantity_quantity_total_ou_201603" in equations
    assert constants["act1_claimed_ou_201601"] == 40
    assert constants["act1_verified_is_null_ou_201601"] == 0
    assert constants["act1_verified_ou_201602"] == 0  # missing is read as 0...
    assert constants["act1_verified_is_null_ou_201602"] == 1  # ...but known to be missing
    assert constants["act1_validated_ou_201601"] == 0
    # 5 activity formulas x 2 activities x 3 months + 1 package formula x 3 + 1 payment x 3
    assert len(equations) == plan.equation_count == 36


def test_invoices_of_the_reference_case_pay_80_in_january_only():
    calculation = calculate(
        reference_rule_set(),
        [facility("ou")],
        ["2016Q1"],
        reference_inputs(),
        evaluator=NumpyEquationEvaluator(),
    )
    totals = {inv.period: inv.total for inv in calculation.invoices}
    assert totals == {"201601": Decimal("80.00"), "201602": Decimal(0), "201603": Decimal(0)}
    january = next(inv for inv in calculation.invoices if inv.period == "201601")
    assert [(p.payer, p.amount) for p in january.payers] == [
        ("state", Decimal("56.00")),
        ("world_bank", Decimal("24.00")),
    ]
