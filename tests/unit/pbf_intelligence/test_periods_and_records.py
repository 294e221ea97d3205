from __future__ import annotations

from decimal import Decimal

import pytest

from afiya.domain.pbf_intelligence.periods import (
    month_of,
    period_from_index,
    period_index,
    period_range,
    shift_period,
)
from afiya.domain.shared.errors import ValidationFailed


class TestPeriods:
    def test_consecutive_months_differ_by_one_across_a_year_end(self) -> None:
        assert period_index("202401") - period_index("202312") == 1

    def test_index_round_trips(self) -> None:
        assert period_from_index(period_index("202507")) == "202507"

    def test_shift_moves_across_years_both_ways(self) -> None:
        assert shift_period("202311", 3) == "202402"
        assert shift_period("202402", -14) == "202212"

    def test_month_of_gives_the_calendar_month(self) -> None:
        assert month_of("202408") == 8

    def test_range_is_inclusive_and_empty_when_reversed(self) -> None:
        assert period_range("202311", "202402") == ["202311", "202312", "202401", "202402"]
        assert period_range("202402", "202311") == []

    @pytest.mark.parametrize("bad", ["2024-01", "202413", "202400", "24011", "abcdef", ""])
    def test_malformed_period_is_rejected_with_the_field_named(self, bad: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            period_index(bad)
        assert caught.value.errors[0].field == "period"
        assert caught.value.errors[0].message.params == {"period": bad}


class TestDeclarationRecord:
    def test_over_declared_amount_is_the_positive_gap_times_tariff(self, make_record) -> None:
        record = make_record(declared=120, validated=100, tariff=Decimal("1500"))
        assert record.over_declared_amount == Decimal("30000")

    def test_under_declaration_recovers_nothing(self, make_record) -> None:
        assert make_record(declared=80, validated=100).over_declared_amount == 0

    def test_unverified_month_has_no_amount(self, make_record) -> None:
        record = make_record()
        assert record.over_declared_amount is None
        assert not record.is_verified

    def test_every_invalid_field_is_reported_at_once(self, make_record) -> None:
        with pytest.raises(ValidationFailed) as caught:
            make_record(declared=-1, validated=-2, catchment_population=0, tariff=Decimal(-5))
        fields = {e.field for e in caught.value.errors}
        assert fields == {"declared", "validated", "catchment_population", "tariff"}

    def test_bad_period_is_rejected(self, make_record) -> None:
        with pytest.raises(ValidationFailed):
            make_record(period="2024-03")
