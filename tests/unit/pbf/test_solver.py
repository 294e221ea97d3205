"""hesabu-style solving of named equations, dependency order and cycles."""

from __future__ import annotations

import pytest

from afiya.domain.pbf import solve
from afiya.domain.pbf.engine.graph import toposort
from afiya.domain.pbf.errors import DependencyCycle, DivisionByZero, UnknownVariable


class TestToposort:
    def test_dependencies_come_first_and_ties_keep_the_given_order(self):
        order = toposort(["c", "a", "b", "d"], {"c": ("a", "b"), "a": ("b",), "d": ()})
        assert order == ["b", "d", "a", "c"]

    def test_names_outside_the_nodes_are_ignored(self):
        assert toposort(["a"], {"a": ("input",)}) == ["a"]

    def test_a_cycle_is_reported_in_dependency_order(self):
        with pytest.raises(DependencyCycle) as caught:
            toposort(["x", "a", "b", "c"], {"a": ("b",), "b": ("c",), "c": ("a",), "x": ("a",)})
        assert caught.value.cycle == ("a", "b", "c", "a")
        assert "a → b → c → a" in str(caught.value)

    def test_a_node_depending_on_itself_is_a_cycle(self):
        with pytest.raises(DependencyCycle) as caught:
            toposort(["a"], {"a": ("a",)})
        assert caught.value.cycle == ("a", "a")


class TestSolve:
    def test_solves_equations_in_dependency_order(self):
        values = solve({"total": "a + b", "a": "b * 2", "b": "3"})
        assert values == {"b": 3.0, "a": 6.0, "total": 9.0}

    def test_arrays_as_hesabu_writes_them(self):
        values = solve(
            {"s": "SUM(ARRAY(a, b), 1)", "first": "ACCESS(ARRAY(a, b), 0)", "a": "2", "b": "5"}
        )
        assert values["s"] == 8
        assert values["first"] == 2

    def test_a_cycle_between_equations_names_them(self):
        with pytest.raises(DependencyCycle) as caught:
            solve({"a": "b + 1", "b": "c + 1", "c": "a + 1", "d": "1"})
        assert set(caught.value.cycle) == {"a", "b", "c"}

    def test_an_unknown_variable_names_the_equation(self):
        with pytest.raises(UnknownVariable) as caught:
            solve({"a": "b + 1"})
        assert caught.value.equation == "a"
        assert caught.value.message.params["name"] == "b"

    def test_an_evaluation_error_names_the_equation(self):
        with pytest.raises(DivisionByZero) as caught:
            solve({"rate": "1 / zero", "zero": "0"})
        assert caught.value.equation == "rate"
        assert str(caught.value) == "Division by zero in rate."
