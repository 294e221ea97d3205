"""Properties every period type must hold, whatever the date (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from afiya.domain.dhis2.periods import Period, PeriodType

types = st.sampled_from(list(PeriodType))
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
MAX_DAYS = {
    PeriodType.DAILY: (1, 1),
    PeriodType.BI_WEEKLY: (7, 14),
    PeriodType.MONTHLY: (28, 31),
    PeriodType.BI_MONTHLY: (59, 62),
    PeriodType.QUARTERLY: (90, 92),
    PeriodType.QUARTERLY_NOV: (89, 92),
    PeriodType.SIX_MONTHLY: (181, 184),
    PeriodType.SIX_MONTHLY_APRIL: (182, 183),
    PeriodType.SIX_MONTHLY_NOV: (181, 184),
}


@settings(max_examples=300)
@given(types, days)
def test_the_period_containing_a_day_contains_it_and_round_trips_through_its_id(
    period_type: PeriodType, day: date
) -> None:
    period = Period.containing(period_type, day)
    assert period.type is period_type
    assert period.contains(day)
    assert Period.parse(period.id) == period
    assert Period.parse(str(period)).id == period.id


@settings(max_examples=300)
@given(types, days)
def test_next_and_previous_are_inverse(period_type: PeriodType, day: date) -> None:
    period = Period.containing(period_type, day)
    assert period.next().previous() == period
    assert period.previous().next() == period


@settings(max_examples=300)
@given(types, days)
def test_periods_are_contiguous_and_do_not_overlap(period_type: PeriodType, day: date) -> None:
    period = Period.containing(period_type, day)
    following = period.next()
    assert following.start == period.end + timedelta(days=1)
    assert Period.containing(period_type, period.start) == period
    assert Period.containing(period_type, period.end) == period
    assert Period.containing(period_type, following.start) == following
    assert period < following
    assert not period.overlaps(following)


@settings(max_examples=200)
@given(types, days)
def test_length_fits_the_period_type(period_type: PeriodType, day: date) -> None:
    period = Period.containing(period_type, day)
    if period_type.value.startswith("Weekly"):
        assert period.days == 7
    elif period_type in MAX_DAYS:
        low, high = MAX_DAYS[period_type]
        assert low <= period.days <= high
    else:  # yearly and financial years
        assert period.days in (365, 366)


@settings(max_examples=100)
@given(days, st.sampled_from([PeriodType.MONTHLY, PeriodType.QUARTERLY, PeriodType.DAILY]))
def test_sub_periods_of_a_year_tile_it_exactly(day: date, finer: PeriodType) -> None:
    year = Period.containing(PeriodType.YEARLY, day)
    parts = year.sub_periods(finer)
    assert parts[0].start == year.start
    assert parts[-1].end == year.end
    assert all(a.next() == b for a, b in pairwise(parts))
    assert sum(p.days for p in parts) == year.days
