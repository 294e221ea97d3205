from __future__ import annotations

from decimal import Decimal

import pytest

from afiya.domain.pbf_intelligence.model import RiskCategory
from afiya.domain.pbf_intelligence.policies import RiskRulePolicy
from afiya.domain.pbf_intelligence.risk_rules import classify_gaps, rule_based_risks


class TestClassifyGaps:
    @pytest.mark.parametrize(
        ("gaps", "category"),
        [
            ([0.2, 0.15, 0.12], RiskCategory.HIGH),
            ([0.10, 0.10, 0.10], RiskCategory.MEDIUM),  # "more than 10 %" is strict
            ([0.06, 0.06, 0.06], RiskCategory.MEDIUM),
            ([0.05, 0.05, 0.05], RiskCategory.LOW),
            ([0.0], RiskCategory.LOW),
            ([], RiskCategory.UNKNOWN),
        ],
    )
    def test_mean_gap_sets_the_category(self, gaps: list[float], category: RiskCategory) -> None:
        assert classify_gaps(gaps, RiskRulePolicy()).category is category

    def test_only_the_last_three_rounds_count(self) -> None:
        assessment = classify_gaps([0.9, 0.8, 0.0, 0.01, 0.02], RiskRulePolicy())
        assert assessment.category is RiskCategory.LOW
        assert assessment.rounds == 3
        assert assessment.mean_gap == pytest.approx(0.01)

    def test_window_and_thresholds_are_configurable(self) -> None:
        policy = RiskRulePolicy(window=1, high_gap=0.5, medium_gap=0.2)
        assert classify_gaps([0.9, 0.3], policy).category is RiskCategory.MEDIUM


class TestRuleBasedRisks:
    def _history(self, make_record, facility: str, gaps: list[int], **extra):
        months = ["202401", "202402", "202403", "202404", "202405"][-len(gaps) :]
        return [
            make_record(facility_id=facility, period=m, declared=100, validated=100 - g, **extra)
            for m, g in zip(months, gaps, strict=True)
        ]

    def test_persistent_over_declarer_is_high_risk(self, make_record) -> None:
        records = [
            *self._history(make_record, "A", [20, 15, 12]),
            make_record(facility_id="A", period="202406", declared=200),
        ]
        (risk,) = rule_based_risks(records, period="202406")
        assert risk.category is RiskCategory.HIGH
        assert risk.mean_gap == pytest.approx((0.20 + 0.15 + 0.12) / 3)
        assert risk.rounds == 3
        assert risk.evidence is not None
        assert risk.evidence.params == {"gap": 15.7, "count": 3}
        # Indicator gap over its last three rounds (47/300) x money declared now (200 x 1000).
        assert risk.expected_recovery == Decimal(31333)

    def test_a_clean_recent_record_outweighs_an_old_gap(self, make_record) -> None:
        records = [
            *self._history(make_record, "A", [60, 50, 0, 0, 1]),
            make_record(facility_id="A", period="202406"),
        ]
        (risk,) = rule_based_risks(records, period="202406")
        assert risk.category is RiskCategory.LOW

    def test_never_verified_facility_is_unknown_and_gets_the_programme_prior(
        self, make_record
    ) -> None:
        records = [
            *self._history(make_record, "A", [10, 10, 10]),
            make_record(facility_id="A", period="202406"),
            make_record(facility_id="B", period="202406", declared=50),
        ]
        risks = {r.facility_id: r for r in rule_based_risks(records, period="202406")}
        assert risks["B"].category is RiskCategory.UNKNOWN
        assert risks["B"].rounds == 0
        # Programme mean gap 30/300 = 10 % of 50 x 1000.
        assert risks["B"].expected_recovery == Decimal(5000)

    def test_outcomes_of_the_planned_month_and_later_are_ignored(self, make_record) -> None:
        records = [
            make_record(facility_id="A", period="202406", declared=100, validated=10),
            make_record(facility_id="A", period="202407", declared=100, validated=10),
        ]
        (risk,) = rule_based_risks(records, period="202406")
        assert risk.category is RiskCategory.UNKNOWN

    def test_indicators_are_ordered_by_expected_recovery(self, make_record) -> None:
        records = [
            make_record(indicator_code="CPN1", period="202405", declared=100, validated=95),
            make_record(indicator_code="ACC", period="202405", declared=100, validated=70),
            make_record(indicator_code="CPN1", period="202406", declared=100),
            make_record(indicator_code="ACC", period="202406", declared=100),
            make_record(indicator_code="PF_NEW", period="202406", declared=100),
        ]
        (risk,) = rule_based_risks(records, period="202406")
        codes = [r.indicator_code for r in risk.indicators]
        assert codes[0] == "ACC"
        # PF_NEW was never verified: it takes the facility's mean gap (35/200 = 17.5 %).
        amounts = {r.indicator_code: r.expected_recovery for r in risk.indicators}
        assert amounts == {"ACC": Decimal(30000), "PF_NEW": Decimal(17500), "CPN1": Decimal(5000)}
        assert risk.expected_recovery == Decimal(52500)
