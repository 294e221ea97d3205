"""Periods, programmes and their rule-set versions."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from afiya.domain.pbf import BudgetEnvelope, Programme
from afiya.domain.pbf.errors import NoRuleSet, PeriodInvalid
from afiya.domain.pbf.model import OrgUnit
from afiya.domain.pbf.periods import (
    Frequency,
    days_in_month,
    parse_period,
    period_number,
    periods_of,
    quarter_of,
)
from afiya.domain.shared.money import MRU
from tests.unit.pbf.factories import reference_rule_set


class TestPeriods:
    def test_months_quarters_and_years_are_ranges_of_months(self):
        assert parse_period("201601").months() == ["201601"]
        assert parse_period("2016Q4").months() == ["201610", "201611", "201612"]
        assert len(parse_period("2016").months()) == 12
        assert parse_period("2016Q2").frequency is Frequency.QUARTERLY
        assert quarter_of(parse_period("201605")).code == "2016Q2"
        assert period_number(parse_period("2016Q3")) == 201609

    @pytest.mark.parametrize("code", ["201613", "2016Q5", "16Q1", "2016-01", "", "2016W1"])
    def test_other_notations_are_refused(self, code):
        with pytest.raises(PeriodInvalid):
            parse_period(code)

    def test_quarters_inside_a_range_of_months(self):
        first, last = parse_period("201602").first, parse_period("201609").last
        assert periods_of(Frequency.QUARTERLY, first, last) == ["2016Q2", "2016Q3"]

    @pytest.mark.parametrize(
        ("year", "month", "days"), [(2024, 2, 29), (2023, 2, 28), (1900, 2, 28), (2000, 2, 29)]
    )
    def test_leap_years(self, year, month, days):
        assert days_in_month(year, month) == days


class TestProgramme:
    def programme(self):
        first = replace(reference_rule_set(), version=1, valid_from="201501", valid_to="201612")
        second = replace(reference_rule_set(), version=2, valid_from="201701", valid_to=None)
        return Programme(
            "pbf_mr",
            "FBR Mauritanie",
            MRU,
            (first, second),
            budgets=(BudgetEnvelope("2017Q1", Decimal(1_000_000)),),
        )

    def test_the_version_valid_for_a_period_applies(self):
        programme = self.programme()
        assert programme.rule_set_for("2016Q4").version == 1
        assert programme.rule_set_for("201703").version == 2
        assert programme.budget_for("2017Q1").amount == 1_000_000
        assert programme.budget_for("2017Q2") is None

    def test_a_period_before_every_version_has_no_rules(self):
        with pytest.raises(NoRuleSet):
            self.programme().rule_set_for("201412")

    def test_overlapping_versions_are_refused(self):
        programme = self.programme()
        overlapping = replace(programme.rule_sets[1], valid_from="201610")
        with pytest.raises(NoRuleSet) as caught:
            replace(programme, rule_sets=(programme.rule_sets[0], overlapping)).rule_set_for(
                "201611"
            )
        assert "Several" in str(caught.value)

    def test_a_quarter_straddling_two_versions_belongs_to_neither(self):
        programme = self.programme()
        late = replace(programme.rule_sets[1], valid_from="201702")
        with pytest.raises(NoRuleSet):
            replace(programme, rule_sets=(programme.rule_sets[0], late)).rule_set_for("2017Q1")


def test_org_units_know_their_ancestors():
    unit = OrgUnit("cs", "CS Néma", ("mr", "hodh_chargui", "nema"))
    assert unit.level == 4
    assert [unit.ancestor(n) for n in range(1, 6)] == ["mr", "hodh_chargui", "nema", "cs", None]
