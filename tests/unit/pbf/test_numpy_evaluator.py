"""The numpy adapter: bulk inputs, input validation, results access, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from afiya.adapters.compute import ArrayInputs, NumpyEquationEvaluator
from afiya.domain.pbf import ScalarEvaluator, plan_calculation
from afiya.domain.pbf.errors import DivisionByZero, PlanningError
from afiya.domain.pbf.model import Formula
from tests.unit.pbf.factories import (
    facility,
    quantity_package,
    reference_inputs,
    reference_rule_set,
    rule_set,
)

UNITS = [facility("ou"), facility("ou2", district="amourj"), facility("ou3", region="trarza")]


@pytest.fixture
def plan():
    return plan_calculation(reference_rule_set(), UNITS, ["2016Q1"])


def random_inputs(plan, seed: int = 3) -> ArrayInputs:
    rng = np.random.default_rng(seed)
    shape = (len(plan.activities), len(plan.units), len(plan.months))
    states = {}
    for state in ("claimed", "verified", "validated"):
        values = rng.integers(20, 40, shape).astype(np.float64)
        values[rng.random(shape) < 0.3] = np.nan
        states[state] = values
    return ArrayInputs(plan.activities, plan.units, plan.months, states)


class TestArrayInputs:
    def test_is_a_mapping_of_the_values_present(self):
        inputs = ArrayInputs(
            ["act1"], ["ou"], ["201601", "201602"], {"claimed": np.array([[[5.0, np.nan]]])}
        )
        assert dict(inputs) == {("ou", "201601", "act1", "claimed"): 5.0}
        assert ("ou", "201602", "act1", "claimed") not in inputs
        assert ("ou", "201601", "act9", "claimed") not in inputs

    def test_the_bulk_path_gives_the_same_results_as_a_plain_mapping(self, plan):
        bulk = random_inputs(plan)
        plain = dict(bulk)
        assert len(plain) == len(bulk) > 0
        fast = NumpyEquationEvaluator().evaluate(plan, bulk)
        reference = ScalarEvaluator().evaluate(plan, plain)
        for template in plan.templates:
            assert fast.table(template.key) == reference.table(template.key)

    def test_arrays_on_other_axes_are_aligned_by_code(self, plan):
        inputs = ArrayInputs(
            ["act2", "unused"],
            ["ou", "elsewhere"],
            ["201601"],
            {"validated": np.array([[[80.0], [1.0]], [[2.0], [3.0]]])},
        )
        results = NumpyEquationEvaluator().evaluate(plan, inputs)
        assert results.value("quantity.amount", "act2", "ou", "201601") == 80
        assert results.value("quantity.amount", "act1", "ou", "201601") == 0

    def test_the_shape_of_each_state_is_checked(self):
        with pytest.raises(ValueError):
            ArrayInputs(["a"], ["u"], ["201601"], {"x": np.zeros((2, 1, 1))})


class TestInputValidation:
    @pytest.mark.parametrize("bad", [math.inf, math.nan])
    def test_a_value_that_is_not_a_number_is_refused_by_both_evaluators(self, plan, bad):
        inputs = reference_inputs() | {("ou", "201602", "act1", "claimed"): bad}
        for evaluator in (ScalarEvaluator(), NumpyEquationEvaluator()):
            with pytest.raises(PlanningError):
                evaluator.evaluate(plan, inputs)

    def test_an_infinite_bulk_value_is_refused(self, plan):
        inputs = random_inputs(plan)
        inputs.states["claimed"][0, 0, 0] = np.inf
        with pytest.raises(PlanningError):
            NumpyEquationEvaluator().evaluate(plan, inputs)


class TestResults:
    def test_results_are_arrays_per_template(self, plan):
        results = NumpyEquationEvaluator().evaluate(plan, reference_inputs())
        amounts = results.array("quantity.amount")
        assert amounts.shape == (2, 3, 3)  # activities x facilities x months
        assert amounts[1, 0, 0] == 80
        assert results.table("quantity.quantity_total")[0][0] == [80, 0, 0]


class TestErrors:
    def test_the_first_failing_cell_is_reported_as_the_reference_evaluator_does(self):
        package = quantity_package(
            formulas=(Formula("rate", "claimed / verified"),), package_formulas=()
        )
        plan = plan_calculation(rule_set(package), UNITS, ["201602"])
        inputs = {
            (ou, m, "act1", state): 10
            for ou in ("ou", "ou2", "ou3")
            for m in ("201601", "201602", "201603")
            for state in ("claimed", "verified")
        } | {
            (ou, m, "act2", s): 1
            for ou in ("ou", "ou2", "ou3")
            for m in ("201601", "201602", "201603")
            for s in ("claimed", "verified")
        }
        inputs[("ou2", "201603", "act2", "verified")] = 0
        raised = []
        for evaluator in (ScalarEvaluator(), NumpyEquationEvaluator()):
            with pytest.raises(DivisionByZero) as caught:
                evaluator.evaluate(plan, inputs)
            raised.append(str(caught.value))
        assert raised == ["Division by zero in act2_rate_ou2_201603."] * 2
