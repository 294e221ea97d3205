"""Decision tables: parsing, wildcards, specificity, periods, and their use in a plan."""

from __future__ import annotations

from decimal import Decimal

import pytest

from afiya.domain.pbf import Activity, DecisionTable, Formula, plan_calculation
from afiya.domain.pbf.decision_tables import facts_for
from afiya.domain.pbf.errors import DecisionTableError, PlanningError
from afiya.domain.pbf.periods import parse_period
from tests.unit.pbf.factories import evaluate_both, facility, quantity_package, rule_set

TARIFFS = """
in:level_2,in:group,in:activity_code,out:tariff,out:bonus
*,*,*,1000,0
hodh_chargui,*,*,1200,0.1
hodh_chargui,hospital,*,1300,0.1
*,hospital,act1,1500,0.2
"""


def facts(activity: str, region: str = "trarza", groups: tuple[str, ...] = ("health_centre",)):
    return facts_for(facility(region=region, groups=groups), activity)


class TestParsing:
    def test_reads_conditions_outputs_and_wildcards(self):
        table = DecisionTable.parse("tariffs", TARIFFS)
        assert table.inputs == ("level_2", "group", "activity_code")
        assert table.outputs == ("tariff", "bonus")
        assert table.rows[0].conditions == ()
        assert table.rows[3].conditions == (("group", "hospital"), ("activity_code", "act1"))
        assert table.rows[3].outputs == (("tariff", Decimal(1500)), ("bonus", Decimal("0.2")))
        assert table.rows[3].line == 5

    @pytest.mark.parametrize(
        "source",
        [
            "in:a,tariff\n1,2",  # a column that is neither in: nor out:
            "in:a,in:b\n1,2",  # no out: column
            "in:a,out:x\n1,",  # an empty cell
            "in:a,out:x\n1,twelve",  # not a number
            "in:a,out:x\n1,2,3",  # too many cells
            "in:a,out:x,start_period\n1,2,2016-01",  # not a period
            "",
        ],
    )
    def test_rejects_malformed_tables(self, source):
        with pytest.raises(DecisionTableError):
            DecisionTable.parse("t", source)


class TestMatching:
    table = DecisionTable.parse("tariffs", TARIFFS)

    def test_the_catch_all_row_applies_when_nothing_else_does(self):
        row = self.table.match(facts("act2"))
        assert row is not None and dict(row.outputs)["tariff"] == 1000

    def test_the_most_specific_matching_row_wins_whatever_its_position(self):
        assert dict(self.table.match(facts("act2", "hodh_chargui")).outputs)["tariff"] == 1200
        hospital = facts("act2", "hodh_chargui", ("hospital", "urban"))
        assert dict(self.table.match(hospital).outputs)["tariff"] == 1300

    def test_equally_specific_rows_with_different_values_are_an_error(self):
        # hodh_chargui+hospital and hospital+act1 both test two conditions.
        with pytest.raises(DecisionTableError) as caught:
            self.table.match(facts("act1", "hodh_chargui", ("hospital",)))
        assert caught.value.message.params["first"] == 4
        assert caught.value.message.params["second"] == 5

    def test_no_matching_row_gives_none(self):
        table = DecisionTable.parse("t", "in:level_2,out:x\nassaba,1")
        assert table.match(facts("act1")) is None

    def test_rows_apply_only_within_their_periods(self):
        table = DecisionTable.parse(
            "t",
            "in:activity_code,out:tariff,start_period,end_period\n"
            "act1,100,,201606\nact1,150,201607,\n",
        )
        assert dict(table.match(facts("act1"), parse_period("201606")).outputs)["tariff"] == 100
        assert dict(table.match(facts("act1"), parse_period("2016Q3")).outputs)["tariff"] == 150

    def test_attributes_of_the_org_unit_can_be_tested(self):
        table = DecisionTable.parse("t", "in:type,out:x\n*,1\ncscom,2")
        unit = facility(type="cscom")
        assert dict(table.match(facts_for(unit)).outputs)["x"] == 2


class TestInAPlan:
    def test_tariffs_come_from_the_table_with_the_activity_constant_as_default(self):
        table = DecisionTable.parse(
            "tariffs", "in:level_2,in:activity_code,out:tariff\nhodh_chargui,act1,1200"
        )
        package = quantity_package(
            formulas=(Formula("amount", "validated * tariff", money=True),),
            package_formulas=(),
            activities=(
                Activity("act1", "A1", {"tariff": Decimal(1000)}),
                Activity("act2", "A2", {"tariff": Decimal(500)}),
            ),
            decision_tables=(table,),
        )
        units = [facility("east", region="hodh_chargui"), facility("west", region="trarza")]
        plan = plan_calculation(rule_set(package), units, ["201601"])
        inputs = {
            (ou, "201601", act, "validated"): 2
            for ou in ("east", "west")
            for act in ("act1", "act2")
        }
        for results in evaluate_both(plan, inputs):
            amounts = {
                (ou, act): results.value("quantity.amount", act, ou, "201601")
                for ou in ("east", "west")
                for act in ("act1", "act2")
            }
            assert amounts == {
                ("east", "act1"): 2400,
                ("east", "act2"): 1000,
                ("west", "act1"): 2000,
                ("west", "act2"): 1000,
            }

    def test_a_table_without_activity_column_overrides_activity_constants_by_region(self):
        table = DecisionTable.parse("regional", "in:level_2,out:tariff\nhodh_chargui,7")
        package = quantity_package(
            formulas=(Formula("amount", "validated * tariff"),),
            package_formulas=(Formula("regional", "MAX(%{tariff_values})"),),
            activities=(
                Activity("act1", "A1", {"tariff": Decimal(2)}),
                Activity("act2", "A2", {"tariff": Decimal(3)}),
            ),
            decision_tables=(table,),
        )
        units = [facility("east", region="hodh_chargui"), facility("west", region="trarza")]
        plan = plan_calculation(rule_set(package), units, ["201601"])
        inputs = {(ou, "201601", "act2", "validated"): 1 for ou in ("east", "west")}
        for results in evaluate_both(plan, inputs):
            assert results.value("quantity.amount", "act2", "east", "201601") == 7
            assert results.value("quantity.amount", "act2", "west", "201601") == 3
            assert results.value("quantity.regional", None, "west", "201601") == 3

    def test_a_parameter_without_row_or_default_stops_the_plan(self):
        table = DecisionTable.parse("t", "in:level_2,in:activity_code,out:tariff\nassaba,act1,1")
        package = quantity_package(
            formulas=(Formula("amount", "validated * tariff"),),
            package_formulas=(),
            decision_tables=(table,),
        )
        with pytest.raises(PlanningError) as caught:
            plan_calculation(rule_set(package), [facility()], ["201601"])
        assert caught.value.message.params["name"] == "tariff"
        assert caught.value.message.params["org_unit"] == "fosa1"
