"""Time windows, missing values, parent-level values and quarterly packages."""

from __future__ import annotations

import pytest

from afiya.domain.pbf import Activity, Formula, Frequency, plan_calculation
from afiya.domain.pbf.engine.resolve import WindowOutOfRange
from afiya.domain.pbf.engine.windows import Window, split_values_name
from afiya.domain.pbf.periods import parse_period
from tests.unit.pbf.factories import evaluate_both, facility, quantity_package, rule_set, single


def month_number(code: str) -> int:
    """201501 -> 1 ... 201612 -> 24: each month's value is its rank."""
    return (int(code[:4]) - 2015) * 12 + int(code[4:])


MONTHS = [f"{y}{m:02d}" for y in (2015, 2016) for m in range(1, 13)]
SERIES = {("fosa1", m, "a", "x"): month_number(m) for m in MONTHS if m != "201507"}
Q2 = ("201604", "201605", "201606")


def window_sums(expression: str) -> list[float]:
    _, scalar, fast = single(expression, SERIES, periods=("2016Q2",))
    values = [scalar.value("quantity.f", "a", "fosa1", m) for m in Q2]
    assert values == [fast.value("quantity.f", "a", "fosa1", m) for m in Q2]
    return values


class TestWindowNames:
    def test_a_name_without_values_is_a_plain_value(self):
        assert split_values_name("verified") is None

    def test_each_window_suffix_is_recognised(self):
        assert split_values_name("x_last_12_months_window_values")[0] == (
            "x",
            Window("last_months", 12),
        )
        assert split_values_name("x_last_2_quarters_exclusive_values")[0] == (
            "x",
            Window("last_quarters", 2, exclusive=True),
        )
        assert split_values_name("monthly_sanction_current_quarter_values")[0] == (
            "monthly_sanction",
            Window("current_quarter"),
        )
        # The whole name is always a last reading, for names containing window words.
        assert split_values_name("x_previous_year_values")[-1] == (
            "x_previous_year",
            Window("current"),
        )

    def test_windows_in_months(self):
        may = parse_period("201605")
        assert Window("current_quarter").periods(may, Frequency.MONTHLY) == list(Q2)
        assert Window("current_quarter_previous").periods(may, Frequency.MONTHLY) == ["201604"]
        assert Window("previous_year_same_quarter").periods(may, Frequency.QUARTERLY) == ["2015Q2"]
        assert Window("last_months", 2).periods(may, Frequency.MONTHLY) == ["201604", "201605"]
        assert Window("previous_year").periods(may, Frequency.QUARTERLY) == [
            "2015Q1",
            "2015Q2",
            "2015Q3",
            "2015Q4",
        ]


class TestWindowsOverData:
    def test_current_quarter(self):
        assert window_sums("SUM(%{x_current_quarter_values})") == [16 + 17 + 18] * 3

    def test_current_quarter_previous_months(self):
        assert window_sums("SUM(%{x_current_quarter_previous_values})") == [0, 16, 16 + 17]

    def test_previous_year_same_quarter(self):
        assert window_sums("SUM(%{x_previous_year_same_quarter_values})") == [4 + 5 + 6] * 3

    def test_previous_year_counts_a_missing_month_as_zero(self):
        year_2015 = sum(range(1, 13)) - 7
        assert window_sums("SUM(%{x_previous_year_values})") == [year_2015] * 3
        assert window_sums("SUM(%{x_is_null_previous_year_values})") == [1] * 3

    def test_last_n_months_include_the_current_month(self):
        assert window_sums("SUM(%{x_last_3_months_values})") == [
            14 + 15 + 16,
            15 + 16 + 17,
            16 + 17 + 18,
        ]

    def test_last_n_months_exclusive_stop_before_it(self):
        assert window_sums("SUM(%{x_last_3_months_exclusive_values})") == [
            13 + 14 + 15,
            14 + 15 + 16,
            15 + 16 + 17,
        ]

    def test_hesabu_window_spelling_and_list_length(self):
        assert window_sums("STDEVP(%{x_last_12_months_window_values}) > 0") == [1, 1, 1]
        assert window_sums("ACCESS(%{x_last_12_months_values}, 11)") == [16, 17, 18]
        assert window_sums("ACCESS(%{x_last_12_months_values}, 0)") == [5, 6, 0]  # 201507: none


class TestMissingValues:
    def test_missing_is_not_zero(self):
        inputs = {("fosa1", "201601", "a", "x"): 0}
        _, scalar, fast = single("IF(x_is_null = 1, -1, x)", inputs, periods=("201601",))
        for results in (scalar, fast):
            january = results.value("quantity.f", "a", "fosa1", "201601")
            february = results.value("quantity.f", "a", "fosa1", "201602")
            assert (january, february) == (0, -1)


class TestParentLevels:
    def test_a_value_declared_for_the_region_is_read_with_level_2(self):
        inputs = {
            ("fosa1", "201601", "a", "x"): 30,
            ("hodh_chargui", "201601", "a", "x"): 120,  # the region's target
        }
        expression = "SAFE_DIV(x, x_level_2) * 100 + x_level_3_is_null"
        _, scalar, fast = single(expression, inputs, periods=("201601",))
        for results in (scalar, fast):
            assert results.value("quantity.f", "a", "fosa1", "201601") == 26  # 25 % + 1


class TestQuarterlyPackages:
    def test_quarterly_states_and_windows_in_quarters(self):
        inputs = {
            ("fosa1", q, "a", "x"): n
            for n, q in enumerate(["2015Q3", "2015Q4", "2016Q1", "2016Q2"], 1)
        }
        _, scalar, fast = single(
            "SUM(%{x_last_3_quarters_values}) * 10 + SUM(%{x_previous_year_same_quarter_values})",
            inputs,
            periods=("2016Q2",),
            frequency=Frequency.QUARTERLY,
        )
        for results in (scalar, fast):
            assert results.value("quantity.f", "a", "fosa1", "2016Q2") == (2 + 3 + 4) * 10 + 0


class TestWindowsOverResults:
    def test_a_window_over_formula_results_must_stay_in_the_calculated_quarters(self):
        package = quantity_package(
            formulas=(Formula("g", "x"), Formula("f", "SUM(%{g_previous_year_values})")),
            package_formulas=(),
            states=("x",),
            activities=(Activity("a", "A"),),
        )
        with pytest.raises(WindowOutOfRange) as caught:
            plan_calculation(rule_set(package), [facility()], ["2016Q2"])
        assert caught.value.equation == "quantity.f"

    def test_earlier_months_of_the_quarter_are_available(self):
        package = quantity_package(
            formulas=(
                Formula("g", "x * 2"),
                Formula("f", "g + SUM(%{g_current_quarter_previous_values})"),
            ),
            package_formulas=(),
            states=("x",),
            activities=(Activity("a", "A"),),
        )
        plan = plan_calculation(rule_set(package), [facility()], ["201605"])
        for results in evaluate_both(plan, SERIES):
            cumulative = [results.value("quantity.f", "a", "fosa1", m) for m in Q2]
            assert cumulative == [32, 32 + 34, 32 + 34 + 36]
