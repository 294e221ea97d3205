"""Planning: rule-set validation, name resolution by scope, zones, payment rules, cycles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from afiya.domain.pbf import (
    Activity,
    Formula,
    Frequency,
    Package,
    PackageKind,
    PayerShare,
    PaymentRule,
    plan_calculation,
)
from afiya.domain.pbf.engine.scalar import expand
from afiya.domain.pbf.errors import (
    ArrayMisuse,
    DependencyCycle,
    FormulaSyntaxError,
    PlanningError,
    RuleSetInvalid,
    UnknownVariable,
)
from tests.unit.pbf.factories import evaluate_both, facility, quantity_package, rule_set


def plan_of(*packages, payment_rules=(), units=None, periods=("2016Q1",)):
    return plan_calculation(
        rule_set(*packages, payment_rules=payment_rules), units or [facility()], periods
    )


def formulas(**expressions: str) -> tuple[Formula, ...]:
    return tuple(Formula(code, text) for code, text in expressions.items())


class TestValidation:
    def test_every_structural_problem_is_reported_at_once(self):
        package = Package(
            code="quantity",
            name="Q",
            kind=PackageKind.QUANTITY,
            frequency=Frequency.MONTHLY,
            states=("verified", "verified"),
            activities=(Activity("act1", "A"), Activity("act1", "B"), Activity("2bad", "C")),
            activity_formulas=formulas(verified="1", current_month="2"),
            zone_formulas=formulas(z="1"),
        )
        rule = PaymentRule(
            code="pay",
            name="P",
            frequency=Frequency.QUARTERLY,
            packages=("quality",),
            formulas=formulas(total="1"),
            amount_formula="amount",
            payers=(PayerShare("state", Decimal(60)), PayerShare("donor", Decimal(30))),
        )
        with pytest.raises(RuleSetInvalid) as caught:
            plan_of(package, payment_rules=(rule,))
        fields = sorted(error.field for error in caught.value.errors)
        assert fields == [
            "packages.0",  # verified is both a state and a formula
            "packages.0",  # current_month is reserved
            "packages.0.activities",  # act1 twice
            "packages.0.activities.2.code",  # 2bad
            "packages.0.states",  # verified twice
            "packages.0.zone_level",
            "payment_rules.0.amount_formula",
            "payment_rules.0.packages",
            "payment_rules.0.payers",
        ]

    def test_periods_outside_the_rule_set_are_refused(self):
        with pytest.raises(PlanningError):
            plan_of(quantity_package(), periods=("201412",))

    def test_a_facility_listed_twice_is_refused(self):
        with pytest.raises(PlanningError):
            plan_of(quantity_package(), units=[facility(), facility()])


class TestResolutionErrors:
    def test_an_unknown_variable_names_the_formula(self):
        package = quantity_package(formulas=formulas(f="verifed + 1"), package_formulas=())
        with pytest.raises(UnknownVariable) as caught:
            plan_of(package)
        assert caught.value.equation == "quantity.f"
        assert caught.value.message.params["name"] == "verifed"

    def test_a_syntax_error_names_the_formula(self):
        package = quantity_package(formulas=formulas(f="IF(verified > 1, 2"), package_formulas=())
        with pytest.raises(FormulaSyntaxError) as caught:
            plan_of(package)
        assert caught.value.equation == "quantity.f"

    def test_a_cycle_between_formulas_is_named(self):
        package = quantity_package(
            formulas=formulas(a="b + 1", b="c * 2", c="IF(a > 1, 1, 0)"), package_formulas=()
        )
        with pytest.raises(DependencyCycle) as caught:
            plan_of(package)
        assert caught.value.cycle == ("quantity.a", "quantity.b", "quantity.c", "quantity.a")

    def test_a_formula_reading_its_own_quarter_is_a_cycle(self):
        package = quantity_package(
            formulas=formulas(a="SUM(%{a_current_quarter_values})"), package_formulas=()
        )
        with pytest.raises(DependencyCycle):
            plan_of(package)

    def test_a_package_formula_must_read_activity_values_as_a_list(self):
        package = quantity_package(package_formulas=formulas(total="amount * 2"))
        with pytest.raises(UnknownVariable) as caught:
            plan_of(package)
        assert "%{amount_values}" in str(caught.value)

    def test_a_list_cannot_be_used_as_a_number(self):
        package = quantity_package(package_formulas=formulas(total="%{amount_values} + 1"))
        with pytest.raises(ArrayMisuse):
            plan_of(package)


class TestPackageScope:
    def test_lists_over_activities_and_activity_constants(self):
        package = quantity_package(
            formulas=formulas(points="MIN(validated, max_score)"),
            package_formulas=formulas(
                score="SAFE_DIV(SUM(%{points_values}), SUM(%{max_score_values})) * 100",
                best="MAX(%{validated_values})",
            ),
            activities=(
                Activity("act1", "A", {"max_score": Decimal(10)}),
                Activity("act2", "B", {"max_score": Decimal(30)}),
            ),
        )
        inputs = {
            ("fosa1", "201601", "act1", "validated"): 8,
            ("fosa1", "201601", "act2", "validated"): 40,
        }
        plan = plan_of(package)
        for results in evaluate_both(plan, inputs):
            assert results.value("quantity.score", None, "fosa1", "201601") == (8 + 30) / 40 * 100
            assert results.value("quantity.best", None, "fosa1", "201601") == 40

    def test_activity_formulas_can_read_package_formulas(self):
        package = quantity_package(
            formulas=formulas(share="SAFE_DIV(validated, total) * 100"),
            package_formulas=formulas(total="SUM(%{validated_values})"),
        )
        inputs = {
            ("fosa1", "201601", "act1", "validated"): 1,
            ("fosa1", "201601", "act2", "validated"): 3,
        }
        for results in evaluate_both(plan_of(package), inputs):
            assert results.value("quantity.share", "act2", "fosa1", "201601") == 75

    def test_a_package_applies_only_to_facilities_of_its_groups(self):
        package = quantity_package(org_unit_groups=frozenset({"hospital"}))
        units = [facility("cs1"), facility("chr", groups=("hospital",))]
        plan = plan_of(package, units=units)
        assert plan.row_sets["package:quantity"] == ("chr",)


class TestZones:
    def test_zone_formulas_aggregate_facilities_of_each_district(self):
        package = quantity_package(
            formulas=formulas(amount="validated"),
            package_formulas=formulas(
                total="SUM(%{amount_values})",
                district_share="SAFE_DIV(total, district_total) * 100",
            ),
            zone_formulas=formulas(district_total="SUM(%{total_values})", size="SUM(ARRAY(1))"),
            zone_level=3,
        )
        units = [
            facility("a1", district="nema"),
            facility("a2", district="nema"),
            facility("b1", district="amourj"),
        ]
        inputs = {
            (ou, "201601", "act1", "validated"): value
            for ou, value in (("a1", 10), ("a2", 30), ("b1", 5))
        }
        plan = plan_of(package, units=units)
        assert plan.row_sets["zones:quantity"] == ("nema", "amourj")
        for results in evaluate_both(plan, inputs):
            assert results.value("quantity.district_total", None, "nema", "201601") == 40
            assert results.value("quantity.district_total", None, "amourj", "201601") == 5
            assert results.value("quantity.district_share", None, "a2", "201601") == 75
            assert results.value("quantity.district_share", None, "b1", "201601") == 100


def payment(frequency, *texts, packages=("quantity",)):
    return PaymentRule(
        code="pay",
        name="Paiement",
        frequency=frequency,
        packages=packages,
        formulas=tuple(Formula(f"p{i}", text, money=True) for i, text in enumerate(texts)),
        amount_formula="p0",
    )


MONTHLY_VALIDATED = {
    ("fosa1", m, "act1", "validated"): v for m, v in (("201601", 1), ("201602", 2), ("201603", 4))
}


class TestPaymentRules:
    def test_a_quarterly_rule_sums_the_months_of_a_monthly_package(self):
        package = quantity_package(formulas=formulas(amount="validated"))
        rule = payment(Frequency.QUARTERLY, "quantity_total * 10", "MAX(%{quantity_total_values})")
        for results in evaluate_both(plan_of(package, payment_rules=(rule,)), MONTHLY_VALIDATED):
            assert results.value("pay.p0", None, "fosa1", "2016Q1") == 70
            assert results.value("pay.p1", None, "fosa1", "2016Q1") == 4

    def test_a_monthly_rule_reads_the_quarter_of_a_quarterly_package(self):
        quality = quantity_package(
            code="quality",
            frequency=Frequency.QUARTERLY,
            states=("score",),
            formulas=formulas(points="score"),
            package_formulas=formulas(quality="SUM(%{points_values})"),
        )
        quantity = quantity_package(formulas=formulas(amount="validated"))
        rule = payment(
            Frequency.MONTHLY,
            "quantity_total * (1 + quality / 100)",
            packages=("quantity", "quality"),
        )
        inputs = dict(MONTHLY_VALIDATED)
        inputs[("fosa1", "2016Q1", "act1", "score")] = 50
        plan = plan_of(quantity, quality, payment_rules=(rule,))
        for results in evaluate_both(plan, inputs):
            months = [
                results.value("pay.p0", None, "fosa1", m) for m in ("201601", "201602", "201603")
            ]
            assert months == [1.5, 3, 6]

    def test_a_facility_outside_a_package_reads_zero_from_it(self):
        hospital_only = quantity_package(
            code="hospital",
            org_unit_groups=frozenset({"hospital"}),
            formulas=formulas(amount="validated"),
            package_formulas=formulas(hospital_total="SUM(%{amount_values})"),
        )
        everyone = quantity_package(formulas=formulas(amount="validated"))
        rule = payment(
            Frequency.MONTHLY, "quantity_total + hospital_total", packages=("quantity", "hospital")
        )
        units = [facility("cs"), facility("chr", groups=("hospital",))]
        inputs = {(ou, "201601", "act1", "validated"): 5 for ou in ("cs", "chr")}
        plan = plan_of(everyone, hospital_only, payment_rules=(rule,), units=units)
        for results in evaluate_both(plan, inputs):
            assert results.value("pay.p0", None, "cs", "201601") == 5
            assert results.value("pay.p0", None, "chr", "201601") == 10
        # act1 is in both packages: its equation keys name the package to stay distinct.
        equations, _ = expand(plan, inputs)
        assert {"quantity_act1_amount_chr_201601", "hospital_act1_amount_chr_201601"} <= set(
            equations
        )

    def test_a_package_no_facility_takes_part_in_reads_as_zero(self):
        nobody = quantity_package(
            code="hospital",
            org_unit_groups=frozenset({"hospital"}),
            formulas=formulas(amount="validated"),
            package_formulas=formulas(hospital_total="SUM(%{amount_values})"),
        )
        everyone = quantity_package(formulas=formulas(amount="validated"))
        rule = payment(
            Frequency.QUARTERLY,
            "quantity_total + hospital_total",
            "SUM(%{hospital_total_values}) + 1",
            packages=("quantity", "hospital"),
        )
        plan = plan_of(everyone, nobody, payment_rules=(rule,))
        for results in evaluate_both(plan, MONTHLY_VALIDATED):
            assert results.value("pay.p0", None, "fosa1", "2016Q1") == 7
            assert results.value("pay.p1", None, "fosa1", "2016Q1") == 1

    def test_a_formula_name_shared_by_two_packages_of_a_rule_is_ambiguous(self):
        first = quantity_package(formulas=formulas(amount="validated"))
        second = quantity_package(code="other", formulas=formulas(amount="validated"))
        rule = payment(Frequency.MONTHLY, "quantity_total", packages=("quantity", "other"))
        with pytest.raises(UnknownVariable) as caught:
            plan_of(first, second, payment_rules=(rule,))
        assert caught.value.equation == "pay.p0"


def test_the_plan_counts_equations_the_hesabu_way():
    plan = plan_of(quantity_package(), units=[facility("a"), facility("b")])
    # (5 activity formulas x 2 activities + 1 package formula) x 2 facilities x 3 months
    assert plan.equation_count == (5 * 2 + 1) * 2 * 3
