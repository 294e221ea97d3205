"""Each function and operator, evaluated by both evaluators, including their errors."""

from __future__ import annotations

import math

import pytest

from afiya.adapters.compute import NumpyEquationEvaluator
from afiya.domain.pbf import ScalarEvaluator, plan_calculation
from afiya.domain.pbf.errors import DivisionByZero, FormulaError, InvalidOperation
from afiya.domain.pbf.model import Formula
from tests.unit.pbf.factories import facility, quantity_package, rule_set

INPUTS = {("fosa1", "201601", "a", "x"): 7, ("fosa1", "201601", "a", "y"): -2.5}


def _plan(expression: str):
    from afiya.domain.pbf.model import Activity

    package = quantity_package(
        formulas=(Formula("f", expression),),
        package_formulas=(),
        states=("x", "y"),
        activities=(Activity("a", "A"),),
    )
    return plan_calculation(rule_set(package), [facility()], ["201601"])


def value(expression: str) -> float:
    """The value of ``expression`` in January; both evaluators must agree exactly."""
    plan = _plan(expression)
    scalar = ScalarEvaluator().evaluate(plan, INPUTS).value("quantity.f", "a", "fosa1", "201601")
    fast = (
        NumpyEquationEvaluator().evaluate(plan, INPUTS).value("quantity.f", "a", "fosa1", "201601")
    )
    assert scalar == fast or (math.isnan(scalar) and math.isnan(fast))
    return scalar


def error(expression: str) -> FormulaError:
    """The error of ``expression``; both evaluators must raise the same one."""
    plan = _plan(expression)
    with pytest.raises(FormulaError) as scalar:
        ScalarEvaluator().evaluate(plan, INPUTS)
    with pytest.raises(FormulaError) as fast:
        NumpyEquationEvaluator().evaluate(plan, INPUTS)
    assert type(scalar.value) is type(fast.value)
    assert scalar.value.equation == fast.value.equation
    assert scalar.value.message == fast.value.message
    return scalar.value


class TestArithmetic:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("1 + 2 * 3", 7),
            ("(1 + 2) * 3", 9),
            ("x / 2", 3.5),
            ("-x", -7),
            ("2 ^ 10", 1024),
            ("2 ^ -2", 0.25),
            ("-2 ^ 2", -4),
            ("(-2) ^ 3", -8),
            ("9 ^ 0.5", 3),
            ("0 ^ 0", 1),
            ("x - y", 9.5),
        ],
    )
    def test_operators(self, expression, expected):
        assert value(expression) == expected

    @pytest.mark.parametrize(
        ("expression", "expected"),
        [("x = 7", 1), ("x <> 7", 0), ("x < 7", 0), ("x <= 7", 1), ("y > -3", 1), ("y >= 0", 0)],
    )
    def test_comparisons_give_one_or_zero(self, expression, expected):
        assert value(expression) == expected

    def test_division_by_zero_names_the_equation(self):
        err = error("x / (y + 2.5)")
        assert isinstance(err, DivisionByZero)
        assert err.equation == "a_f_fosa1_201601"

    @pytest.mark.parametrize("expression", ["(-8) ^ 0.5", "10 ^ 400", "1e300 * 1e300"])
    def test_results_that_are_not_real_finite_numbers_are_errors(self, expression):
        assert isinstance(error(expression), InvalidOperation)

    def test_zero_to_a_negative_power_is_a_division_by_zero(self):
        assert isinstance(error("0 ^ -1"), DivisionByZero)


class TestLogic:
    def test_if_takes_one_branch_and_ignores_errors_in_the_other(self):
        assert value("IF(x >= 0, x, 1 / 0)") == 7
        assert value("IF(x < 0, 1 / 0, 2)") == 2
        assert isinstance(error("IF(x > 0, 1 / 0, 2)"), DivisionByZero)

    def test_an_error_in_the_condition_is_an_error(self):
        assert isinstance(error("IF(1 / 0 > 1, 1, 2)"), DivisionByZero)

    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("AND(1, x, y)", 1),
            ("AND(1, 0)", 0),
            ("OR(0, 0)", 0),
            ("OR(0, y)", 1),
            ("NOT(0)", 1),
            ("NOT(x)", 0),
        ],
    )
    def test_and_or_not(self, expression, expected):
        assert value(expression) == expected

    def test_and_evaluates_every_argument(self):
        assert isinstance(error("AND(0, 1 / 0)"), DivisionByZero)


class TestAggregates:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("SUM(1, 2, x)", 10),
            ("AVG(1, 2, 3, 6)", 3),
            ("MIN(4, y, x)", -2.5),
            ("MAX(4, y, x)", 7),
            ("STDEVP(2, 4, 4, 4, 5, 5, 7, 9)", 2),
            ("SUM(ARRAY(1, 2), 3)", 6),
        ],
    )
    def test_aggregates(self, expression, expected):
        assert value(expression) == expected

    def test_empty_lists_sum_to_zero_but_have_no_average(self):
        assert value("SUM(%{x_current_quarter_previous_values})") == 0  # January: none
        assert value("MAX(%{x_current_quarter_previous_values})") == 0
        assert isinstance(error("AVG(%{x_current_quarter_previous_values})"), InvalidOperation)
        assert isinstance(error("STDEVP(ARRAY())"), InvalidOperation)


class TestRounding:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("ROUND(2.675, 2)", 2.68),  # the double below 2.675 still rounds up
            ("ROUND(2.5)", 3),
            ("ROUND(-2.5)", -3),  # halves away from zero, as Excel
            ("ROUND(1234.5678, -2)", 1200),
            ("ROUND(0.1 + 0.2, 15)", 0.3),
            ("FLOOR(7.9)", 7),
            ("FLOOR(x, 5)", 5),
            ("FLOOR(-2.5, 2)", -4),
            ("CEILING(x, 5)", 10),
            ("CEILING(0.3 / 0.1)", 3),  # 2.9999999999999996 is 3, not 4
            ("FLOOR(0.3 / 0.1)", 3),
        ],
    )
    def test_rounding(self, expression, expected):
        assert value(expression) == expected

    def test_floor_to_a_zero_multiple_is_a_division_by_zero(self):
        assert isinstance(error("FLOOR(x, 0)"), DivisionByZero)


class TestOtherFunctions:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("ABS(y)", 2.5),
            ("SQRT(16)", 4),
            ("SAFE_DIV(x, 0)", 0),
            ("SAFE_DIV(x, 2)", 3.5),
            ("SCORE_TABLE(x, 0, 5, 10, 5, 8, 20, 8, 100, 30, -1)", 20),
            ("SCORE_TABLE(8, 0, 5, 10, 5, 8, 20, 8, 100, 30, -1)", 30),
            ("SCORE_TABLE(100, 0, 5, 10, 5, 8, 20, 8, 100, 30, -1)", -1),
            ("SCORE_TABLE(4, 0, 5, 10, 0, 5, 20, -1)", 10),  # the first matching row wins
            ("ACCESS(ARRAY(10, 20, 30), 0)", 10),  # indices start at 0, as in hesabu
            ("ACCESS(ARRAY(10, 20, 30), 2)", 30),
            ("CAL_DAYS_IN_MONTH(202402)", 29),
            ("CAL_DAYS_IN_MONTH(190002)", 28),
            ("CAL_DAYS_IN_MONTH(200002)", 29),
            ("CAL_DAYS_IN_MONTH(201604)", 30),
            ("CAL_DAYS_IN_MONTH(current_month)", 31),
        ],
    )
    def test_functions(self, expression, expected):
        assert value(expression) == expected

    @pytest.mark.parametrize(
        "expression",
        [
            "SQRT(y)",
            "ACCESS(ARRAY(1, 2), 2)",
            "ACCESS(ARRAY(1, 2), 0.5)",
            "ACCESS(ARRAY(1, 2), -1)",
            "CAL_DAYS_IN_MONTH(201613)",
            "CAL_DAYS_IN_MONTH(2016.5)",
        ],
    )
    def test_arguments_outside_the_domain_are_errors(self, expression):
        assert isinstance(error(expression), InvalidOperation)

    def test_safe_div_still_reports_an_error_in_its_numerator(self):
        assert isinstance(error("SAFE_DIV(1 / 0, 0)"), DivisionByZero)
