"""Invoices, explanations, the rule-set hash, determinism and simulation."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from afiya.adapters.compute import NumpyEquationEvaluator
from afiya.domain.pbf import (
    Activity,
    Formula,
    OverlayInputs,
    ScalarEvaluator,
    calculate,
    explain,
    explain_line,
    simulate,
)
from afiya.domain.pbf.invoices import to_decimal, to_money
from afiya.domain.shared.money import MRU, XOF
from tests.unit.pbf.factories import (
    facility,
    quantity_package,
    reference_inputs,
    reference_rule_set,
    rule_set,
)

UNITS = [facility("ou"), facility("ou2", district="amourj")]


def tariffed_rule_set():
    rules = reference_rule_set()
    package = replace(
        rules.packages[0],
        activities=(
            Activity("act1", "Consultations", {"tariff": Decimal("0.1")}),
            Activity("act2", "CPN", {"tariff": Decimal("0.2")}),
        ),
        activity_formulas=(
            *rules.packages[0].activity_formulas[:-1],
            Formula("amount", "qtt_percent_rule * quarterly_sanction * tariff", money=True),
        ),
    )
    return replace(rules, packages=(package,))


class TestOutputBoundary:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [(0.1 + 0.2, "0.30"), (200.00000000000003, "200.00"), (2.675, "2.68"), (-0.0, "0.00")],
    )
    def test_doubles_become_exact_amounts(self, value, expected):
        assert str(to_money(value, MRU)) == expected

    def test_other_values_keep_fifteen_significant_digits(self):
        assert to_decimal(7 / 33 * 100) == Decimal("21.2121212121212")
        assert to_money(1234.5, XOF) == Decimal(1235)


class TestInvoices:
    def test_lines_show_money_and_package_values_and_amounts_are_exact(self):
        inputs = reference_inputs() | {("ou", "201601", "act1", "validated"): 3}
        inputs[("ou", "201601", "act1", "verified")] = 40  # no sanction for act1
        calculation = calculate(
            tariffed_rule_set(), UNITS, ["201601"], inputs, evaluator=NumpyEquationEvaluator()
        )
        january = next(
            i for i in calculation.invoices if i.org_unit_id == "ou" and i.period == "201601"
        )
        amounts = {(line.template, line.activity): line.value for line in january.lines}
        assert amounts == {
            ("quantity.amount", "act1"): Decimal("0.30"),  # 3 x 0.1, not 0.30000000000000004
            ("quantity.amount", "act2"): Decimal("16.00"),
            ("quantity.quantity_total", None): Decimal("16.30"),
            ("payment.total", None): Decimal("16.30"),
        }
        assert january.total == Decimal("16.30")
        assert sum(p.amount for p in january.payers) == january.total
        assert january.rule_set_hash == calculation.plan.rule_set_hash

    def test_one_invoice_per_facility_and_month_asked_for(self):
        calculation = calculate(
            reference_rule_set(), UNITS, ["201602"], {}, evaluator=ScalarEvaluator()
        )
        assert [(i.org_unit_id, i.period) for i in calculation.invoices] == [
            ("ou", "201602"),
            ("ou2", "201602"),
        ]
        assert all(i.total == 0 for i in calculation.invoices)


class TestExplain:
    def test_explains_a_value_with_its_formula_inputs_and_rule_set(self):
        calculation = calculate(
            reference_rule_set(),
            UNITS,
            ["2016Q1"],
            reference_inputs(),
            evaluator=NumpyEquationEvaluator(),
        )
        explanation = explain(
            calculation.plan,
            reference_inputs(),
            calculation.results,
            template="quantity.difference_percentage",
            entity="ou",
            period="201601",
            activity="act1",
        )
        assert explanation.key == "act1_difference_percentage_ou_201601"
        assert explanation.formula.startswith("IF(verified_is_null = 1, 0")
        assert explanation.equation == (
            "act1_difference_percentage_ou_201601 = IF(act1_verified_is_null_ou_201601 = 1, 0, "
            "SAFE_DIV(ABS(act1_claimed_ou_201601 - act1_verified_ou_201601), "
            "act1_verified_ou_201601) * 100)"
        )
        assert explanation.value == Decimal("21.2121212121212")
        read = {(i.kind, i.name): i.value for i in explanation.inputs}
        assert read == {
            ("is_null", "verified"): 0,
            ("input", "claimed"): 40,
            ("input", "verified"): 33,
        }
        assert explanation.rule_set_hash == reference_rule_set().content_hash()

    def test_explains_an_invoice_line_and_marks_missing_inputs(self):
        inputs = reference_inputs()
        calculation = calculate(
            reference_rule_set(), UNITS, ["2016Q1"], inputs, evaluator=ScalarEvaluator()
        )
        invoice = next(i for i in calculation.invoices if i.org_unit_id == "ou")
        line = next(x for x in invoice.lines if x.template == "quantity.amount")
        explanation = explain_line(calculation.plan, inputs, calculation.results, invoice, line)
        assert explanation.value == line.value
        sanction = next(e for e in explanation.inputs if e.name == "quantity.quarterly_sanction")
        assert sanction.value == 0

        rule = explain(
            calculation.plan,
            inputs,
            calculation.results,
            template="quantity.qtt_percent_rule",
            entity="ou",
            period="201602",
            activity="act2",
        )
        validated = next(e for e in rule.inputs if e.name == "validated")
        assert validated.missing and validated.value == 0


class TestDeterminism:
    def test_the_rule_set_hash_depends_on_the_rules_not_on_how_numbers_are_written(self):
        rules = tariffed_rule_set()
        package = rules.packages[0]
        same = replace(
            package,
            activities=tuple(
                replace(a, constants={"tariff": a.constants["tariff"] * Decimal("1.000")})
                for a in package.activities
            ),
        )
        assert replace(rules, packages=(same,)).content_hash() == rules.content_hash()
        changed = replace(rules, packages=(replace(package, name="Quantity"),))
        assert changed.content_hash() != rules.content_hash()
        assert rules.content_hash().startswith("sha256:")

    def test_same_data_and_rules_give_identical_invoices_with_either_evaluator(self):
        inputs = reference_inputs() | {("ou2", "201602", "act2", "validated"): 12}
        runs = [
            calculate(reference_rule_set(), UNITS, ["2016Q1"], inputs, evaluator=evaluator)
            for evaluator in (ScalarEvaluator(), NumpyEquationEvaluator(), ScalarEvaluator())
        ]
        assert runs[0].invoices == runs[1].invoices == runs[2].invoices


class TestSimulation:
    def test_overridden_inputs_and_tariffs_change_only_the_simulation(self):
        rules = tariffed_rule_set()
        inputs = reference_inputs()
        real = calculate(rules, UNITS, ["201601"], inputs, evaluator=NumpyEquationEvaluator())
        what_if = simulate(
            rules,
            UNITS,
            ["201601"],
            inputs,
            evaluator=NumpyEquationEvaluator(),
            input_overrides={("ou", "201601", "act2", "validated"): 100},
            constant_overrides={("quantity", "act2", "tariff"): Decimal("0.5")},
        )
        total = {(i.org_unit_id, i.period): i.total for i in what_if.invoices}
        assert total[("ou", "201601")] == Decimal("50.00")
        assert {i.total for i in real.invoices if i.org_unit_id == "ou"} == {Decimal("16.00")}
        assert inputs == reference_inputs()  # nothing was modified
        assert rules.packages[0].activities[1].constants["tariff"] == Decimal("0.2")
        assert all(i.simulated for i in what_if.invoices)
        assert not any(i.simulated for i in real.invoices)
        assert what_if.rule_set_hash != real.rule_set_hash

    def test_an_override_of_none_removes_a_value(self):
        overlay = OverlayInputs(reference_inputs(), {("ou", "201601", "act1", "claimed"): None})
        assert ("ou", "201601", "act1", "claimed") not in overlay
        assert len(overlay) == 2
        assert overlay[("ou", "201601", "act2", "validated")] == 80


def test_a_package_in_xof_pays_whole_francs():
    package = quantity_package(
        formulas=(Formula("amount", "validated * 333.335", money=True),), package_formulas=()
    )
    rules = rule_set(package, currency=XOF)
    calculation = calculate(
        rules,
        [facility()],
        ["201601"],
        {("fosa1", "201601", "act1", "validated"): 1},
        evaluator=NumpyEquationEvaluator(),
    )
    assert calculation.invoices == ()  # no payment rule, no invoice
    value = calculation.results.value("quantity.amount", "act1", "fosa1", "201601")
    assert to_money(value, XOF) == Decimal(333)
