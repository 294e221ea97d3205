"""DHIS2 period ids, dates and navigation, checked against DHIS2's documented examples."""

from __future__ import annotations

from datetime import date

import pytest

from afiya.domain.dhis2.errors import InvalidPeriod
from afiya.domain.dhis2.periods import Period, PeriodType, periods_between

# (id, type, first day, last day): DHIS2's period format table and dhis2-core behaviour.
DOCUMENTED = [
    ("20040315", PeriodType.DAILY, date(2004, 3, 15), date(2004, 3, 15)),
    ("2004W10", PeriodType.WEEKLY, date(2004, 3, 1), date(2004, 3, 7)),
    ("2015WedW5", PeriodType.WEEKLY_WEDNESDAY, date(2015, 1, 28), date(2015, 2, 3)),
    ("2015ThuW6", PeriodType.WEEKLY_THURSDAY, date(2015, 2, 5), date(2015, 2, 11)),
    ("2015SatW7", PeriodType.WEEKLY_SATURDAY, date(2015, 2, 14), date(2015, 2, 20)),
    ("2015SunW8", PeriodType.WEEKLY_SUNDAY, date(2015, 2, 22), date(2015, 2, 28)),
    ("2014SunW1", PeriodType.WEEKLY_SUNDAY, date(2013, 12, 29), date(2014, 1, 4)),
    ("2014SunW53", PeriodType.WEEKLY_SUNDAY, date(2014, 12, 28), date(2015, 1, 3)),
    ("2015BiW1", PeriodType.BI_WEEKLY, date(2014, 12, 29), date(2015, 1, 11)),
    ("200403", PeriodType.MONTHLY, date(2004, 3, 1), date(2004, 3, 31)),
    ("200401B", PeriodType.BI_MONTHLY, date(2004, 1, 1), date(2004, 2, 29)),
    ("200403B", PeriodType.BI_MONTHLY, date(2004, 5, 1), date(2004, 6, 30)),
    ("2004Q1", PeriodType.QUARTERLY, date(2004, 1, 1), date(2004, 3, 31)),
    ("2026NovQ1", PeriodType.QUARTERLY_NOV, date(2025, 11, 1), date(2026, 1, 31)),
    ("2026NovQ4", PeriodType.QUARTERLY_NOV, date(2026, 8, 1), date(2026, 10, 31)),
    ("2004S1", PeriodType.SIX_MONTHLY, date(2004, 1, 1), date(2004, 6, 30)),
    ("2004AprilS1", PeriodType.SIX_MONTHLY_APRIL, date(2004, 4, 1), date(2004, 9, 30)),
    ("2004AprilS2", PeriodType.SIX_MONTHLY_APRIL, date(2004, 10, 1), date(2005, 3, 31)),
    ("2026NovS1", PeriodType.SIX_MONTHLY_NOV, date(2025, 11, 1), date(2026, 4, 30)),
    ("2026NovS2", PeriodType.SIX_MONTHLY_NOV, date(2026, 5, 1), date(2026, 10, 31)),
    ("2004", PeriodType.YEARLY, date(2004, 1, 1), date(2004, 12, 31)),
    ("2004April", PeriodType.FINANCIAL_APRIL, date(2004, 4, 1), date(2005, 3, 31)),
    ("2004July", PeriodType.FINANCIAL_JULY, date(2004, 7, 1), date(2005, 6, 30)),
    ("2026Sep", PeriodType.FINANCIAL_SEP, date(2026, 9, 1), date(2027, 8, 31)),
    ("2004Oct", PeriodType.FINANCIAL_OCT, date(2004, 10, 1), date(2005, 9, 30)),
    ("2026Nov", PeriodType.FINANCIAL_NOV, date(2025, 11, 1), date(2026, 10, 31)),
]


class TestDocumentedPeriods:
    @pytest.mark.parametrize(("text", "period_type", "start", "end"), DOCUMENTED)
    def test_id_maps_to_dhis2_dates(
        self, text: str, period_type: PeriodType, start: date, end: date
    ) -> None:
        period = Period.parse(text)
        assert (period.type, period.start, period.end) == (period_type, start, end)
        assert period.id == text
        assert period.days == (end - start).days + 1

    def test_iso_forms_accepted_by_dhis2_are_read_and_written_canonically(self) -> None:
        assert Period.parse("2026-01-15").id == "20260115"
        assert Period.parse("2026-01").id == "202601"
        assert Period.parse("2026W03").id == "2026W3"
        assert Period.parse(" 2026Q1 ").id == "2026Q1"

    def test_year_with_53_iso_weeks_has_week_53_and_a_one_week_biweek_27(self) -> None:
        assert Period.parse("2026W53").end == date(2027, 1, 3)
        biweek = Period.parse("2026BiW27")
        assert (biweek.start, biweek.end) == (date(2026, 12, 28), date(2027, 1, 3))
        assert biweek.next() == Period.parse("2027BiW1")


class TestParseErrors:
    @pytest.mark.parametrize(
        "text", ["", "abc", "2026M01", "2026Q", "26Q1", "2026april", "2026WedW", "2026BiW"]
    )
    def test_text_matching_no_format_is_rejected_with_examples(self, text: str) -> None:
        with pytest.raises(InvalidPeriod) as caught:
            Period.parse(text)
        assert "is not a DHIS2 period id" in caught.value.message.render()
        assert caught.value.errors[0].field == "period"

    @pytest.mark.parametrize(
        ("text", "maximum"),
        [
            ("2025W53", 52),
            ("202613", 12),
            ("202600", 12),
            ("202607B", 6),
            ("2026Q5", 4),
            ("2026S3", 2),
            ("2026NovQ0", 4),
            ("2025BiW27", 26),
        ],
    )
    def test_index_beyond_the_year_says_the_allowed_range(self, text: str, maximum: int) -> None:
        with pytest.raises(InvalidPeriod) as caught:
            Period.parse(text)
        assert caught.value.reason.params["maximum"] == maximum

    def test_impossible_day_is_rejected(self) -> None:
        with pytest.raises(InvalidPeriod, match="not a valid calendar date"):
            Period.parse("20250229")
        assert Period.parse("20240229").start == date(2024, 2, 29)

    def test_year_outside_supported_range_is_rejected(self) -> None:
        with pytest.raises(InvalidPeriod, match="outside the supported range"):
            Period.parse("0999")

    def test_constructor_refuses_index_that_does_not_exist(self) -> None:
        with pytest.raises(InvalidPeriod):
            Period(PeriodType.MONTHLY, 2026, 13)


class TestNavigation:
    @pytest.mark.parametrize(
        ("text", "following"),
        [
            ("2026W53", "2027W1"),
            ("202612", "202701"),
            ("2026Q4", "2027Q1"),
            ("2026NovQ4", "2027NovQ1"),
            ("2026Nov", "2027Nov"),
            ("20261231", "20270101"),
            ("2026AprilS2", "2027AprilS1"),
            ("2025SunW53", "2026SunW1"),
        ],
    )
    def test_next_crosses_the_year(self, text: str, following: str) -> None:
        period = Period.parse(text)
        assert period.next().id == following
        assert Period.parse(following).previous() == period
        assert period.next().start == date.fromordinal(period.end.toordinal() + 1)

    def test_shifted_moves_several_periods_both_ways(self) -> None:
        period = Period.parse("202601")
        assert period.shifted(13).id == "202702"
        assert period.shifted(-1).id == "202512"
        assert period.shifted(0) == period

    def test_containing_finds_the_week_of_new_years_day_in_the_previous_year(self) -> None:
        assert Period.containing(PeriodType.WEEKLY, date(2027, 1, 1)).id == "2026W53"
        assert Period.containing(PeriodType.WEEKLY, date(2026, 1, 1)).id == "2026W1"
        assert Period.containing(PeriodType.FINANCIAL_NOV, date(2025, 11, 1)).id == "2026Nov"
        assert Period.containing(PeriodType.FINANCIAL_JULY, date(2026, 6, 30)).id == "2025July"

    def test_contains_and_overlaps_use_inclusive_bounds(self) -> None:
        quarter = Period.parse("2026Q1")
        assert quarter.contains(date(2026, 3, 31))
        assert not quarter.contains(date(2026, 4, 1))
        assert quarter.overlaps(Period.parse("2026W14"))  # 30 March - 5 April
        assert not quarter.overlaps(Period.parse("2026W15"))


class TestSubPeriods:
    def test_months_of_a_quarter(self) -> None:
        months = Period.parse("2026Q2").sub_periods(PeriodType.MONTHLY)
        assert [m.id for m in months] == ["202604", "202605", "202606"]

    def test_quarters_of_an_april_financial_year_span_two_calendar_years(self) -> None:
        quarters = Period.parse("2026April").sub_periods(PeriodType.QUARTERLY)
        assert [q.id for q in quarters] == ["2026Q2", "2026Q3", "2026Q4", "2027Q1"]

    def test_weeks_straddling_the_month_are_left_out(self) -> None:
        weeks = Period.parse("202603").sub_periods(PeriodType.WEEKLY)
        assert [w.id for w in weeks] == ["2026W10", "2026W11", "2026W12", "2026W13"]

    def test_days_of_a_week(self) -> None:
        days = Period.parse("2026W1").sub_periods(PeriodType.DAILY)
        assert [d.id for d in days][0::6] == ["20251229", "20260104"]

    def test_periods_between_includes_partly_covered_periods(self) -> None:
        found = periods_between(PeriodType.MONTHLY, date(2026, 1, 31), date(2026, 3, 1))
        assert [p.id for p in found] == ["202601", "202602", "202603"]
        assert list(periods_between(PeriodType.MONTHLY, date(2026, 2, 1), date(2026, 1, 1))) == []


def test_periods_sort_by_dates_across_types() -> None:
    texts = ["2026Q1", "202601", "2025", "20260101", "2025Nov"]
    assert [p.id for p in sorted(Period.parse(t) for t in texts)] == [
        "2025Nov",
        "2025",
        "20260101",
        "202601",
        "2026Q1",
    ]
