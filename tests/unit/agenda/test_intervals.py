"""Half-open intervals, union and difference, and local wall time to UTC across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.agenda.intervals import (
    BusyIndex,
    Interval,
    local_span,
    local_to_utc,
    merge,
    subtract,
)

T0 = datetime(2025, 3, 10, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def iv(a: int, b: int) -> Interval:
    return Interval(T0 + timedelta(minutes=a), T0 + timedelta(minutes=b))


class TestOverlapRule:
    def test_touching_intervals_do_not_overlap(self) -> None:
        assert not iv(0, 30).overlaps(iv(30, 60))
        assert not iv(30, 60).overlaps(iv(0, 30))

    def test_one_shared_minute_overlaps(self) -> None:
        assert iv(0, 31).overlaps(iv(30, 60))

    def test_containment_overlaps_both_ways(self) -> None:
        assert iv(0, 60).overlaps(iv(10, 20)) and iv(10, 20).overlaps(iv(0, 60))

    def test_empty_or_naive_intervals_are_refused(self) -> None:
        with pytest.raises(ValueError, match="before it starts"):
            iv(10, 10)
        with pytest.raises(ValueError, match="timezone-aware"):
            Interval(datetime(2025, 1, 1), datetime(2025, 1, 2))

    def test_widened_adds_buffers_on_each_side(self) -> None:
        assert iv(30, 60).widened(timedelta(minutes=5), timedelta(minutes=10)) == iv(25, 70)


class TestUnionAndDifference:
    def test_merge_joins_overlapping_and_touching_intervals(self) -> None:
        assert merge([iv(50, 60), iv(0, 10), iv(10, 20), iv(15, 30)]) == [iv(0, 30), iv(50, 60)]

    def test_subtract_cuts_holes(self) -> None:
        assert subtract([iv(0, 100)], [iv(10, 20), iv(90, 120)]) == [iv(0, 10), iv(20, 90)]

    def test_subtract_a_hole_covering_everything_leaves_nothing(self) -> None:
        assert subtract([iv(10, 20), iv(30, 40)], [iv(0, 50)]) == []

    @given(
        st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), max_size=8),
        st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), max_size=8),
        st.integers(0, 240),
    )
    def test_difference_matches_minute_by_minute_sets(
        self, base: list[tuple[int, int]], holes: list[tuple[int, int]], probe: int
    ) -> None:
        merged_base = merge(iv(a, a + n) for a, n in base)
        merged_holes = merge(iv(a, a + n) for a, n in holes)
        result = subtract(merged_base, merged_holes)
        minute = iv(probe, probe + 1)
        in_base = any(i.contains(minute) for i in merged_base)
        in_hole = any(i.overlaps(minute) for i in merged_holes)
        assert any(i.contains(minute) for i in result) == (in_base and not in_hole)
        assert BusyIndex(iv(a, a + n) for a, n in holes).overlaps(minute) == in_hole


class TestBusyIndex:
    def test_overlap_and_first_free_instant(self) -> None:
        index = BusyIndex([iv(60, 90), iv(0, 30)])
        assert index.overlaps(iv(25, 35))
        assert not index.overlaps(iv(30, 60))
        assert index.free_from(T0 + timedelta(minutes=10)) == T0 + timedelta(minutes=30)
        assert index.free_from(T0 + timedelta(minutes=45)) == T0 + timedelta(minutes=45)


class TestLocalTimeAcrossDaylightSaving:
    def test_ordinary_wall_time(self) -> None:
        assert local_to_utc(date(2025, 3, 10), time(8), PARIS) == datetime(
            2025, 3, 10, 7, tzinfo=UTC
        )

    def test_summer_wall_time_keeps_the_wall_clock(self) -> None:
        assert local_to_utc(date(2025, 4, 7), time(8), PARIS) == datetime(2025, 4, 7, 6, tzinfo=UTC)

    def test_a_time_in_the_spring_gap_means_the_moment_clocks_jump(self) -> None:
        # 30 March 2025: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
        jump = datetime(2025, 3, 30, 1, tzinfo=UTC)
        assert local_to_utc(date(2025, 3, 30), time(2, 30), PARIS) == jump
        assert local_to_utc(date(2025, 3, 30), time(2, 0), PARIS) == jump

    def test_a_repeated_autumn_time_means_its_first_occurrence(self) -> None:
        # 26 October 2025: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
        assert local_to_utc(date(2025, 10, 26), time(2, 30), PARIS) == datetime(
            2025, 10, 26, 0, 30, tzinfo=UTC
        )

    def test_a_night_session_over_the_autumn_change_lasts_an_hour_more(self) -> None:
        span = local_span(date(2025, 10, 25), time(20), time(8), PARIS)
        assert span is not None and span.duration == timedelta(hours=13)

    def test_a_span_swallowed_by_the_gap_is_none(self) -> None:
        assert local_span(date(2025, 3, 30), time(2, 0), time(2, 45), PARIS) is None
