"""Half-open time intervals in UTC, and local wall time to UTC across DST. Pure rules.

Every interval of the agenda is half-open, ``[start, end)``: an appointment 09:00-09:30
and another 09:30-10:00 touch but do not overlap, so back-to-back bookings are allowed
and a slot grid never loses a minute at a boundary. Two intervals overlap exactly when
``a.start < b.end and b.start < a.end``. This is the rule of the conflict checks, of the
slot computation and of the database guard (PostgreSQL ``tstzrange(start, end, '[)')``
with ``&&``), so the three can never disagree.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


def require_aware(name: str, value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is a programming error, not user input."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """``[start, end)`` between two UTC instants; empty intervals are not allowed."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware("start", self.start))
        object.__setattr__(self, "end", require_aware("end", self.end))
        if self.end <= self.start:
            raise ValueError(f"interval ends ({self.end}) before it starts ({self.start})")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        """Whether the two share at least one instant (touching is not overlapping)."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        """Whether ``other`` lies entirely inside this interval."""
        return self.start <= other.start and other.end <= self.end

    def widened(self, before: timedelta, after: timedelta) -> Interval:
        """This interval with ``before`` added ahead and ``after`` added behind."""
        return Interval(self.start - before, self.end + after)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of ``intervals`` as sorted, disjoint, non-touching intervals.

    Touching intervals (``a.end == b.start``) are joined: a session 08:00-12:00 and an
    extra session 12:00-14:00 form one stretch of availability.
    """
    ordered = sorted(intervals)
    result: list[Interval] = []
    for current in ordered:
        if result and current.start <= result[-1].end:
            if current.end > result[-1].end:
                result[-1] = Interval(result[-1].start, current.end)
        else:
            result.append(current)
    return result


def subtract(base: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """``base`` minus ``holes``; both sorted and disjoint (as :func:`merge` returns)."""
    result: list[Interval] = []
    j = 0
    for interval in base:
        start = interval.start
        while j < len(holes) and holes[j].end <= start:
            j += 1
        k = j
        while k < len(holes) and holes[k].start < interval.end:
            if holes[k].start > start:
                result.append(Interval(start, holes[k].start))
            start = max(start, holes[k].end)
            k += 1
        if start < interval.end:
            result.append(Interval(start, interval.end))
    return result


class BusyIndex:
    """Sorted, merged busy intervals with an O(log n) overlap test."""

    __slots__ = ("_ends", "_intervals")

    def __init__(self, intervals: Iterable[Interval]) -> None:
        self._intervals = merge(intervals)
        self._ends = [i.end for i in self._intervals]

    @property
    def intervals(self) -> list[Interval]:
        return list(self._intervals)

    def overlaps(self, candidate: Interval) -> bool:
        """Whether ``candidate`` shares an instant with any busy interval."""
        return self.overlaps_span(candidate.start, candidate.end)

    def overlaps_span(self, start: datetime, end: datetime) -> bool:
        """:meth:`overlaps` for ``[start, end)`` given as UTC instants (hot loops)."""
        # The first interval ending after ``start`` is the only one that can overlap,
        # because the intervals are disjoint and sorted.
        i = bisect_right(self._ends, start)
        return i < len(self._intervals) and self._intervals[i].start < end

    def free_from(self, instant: datetime) -> datetime:
        """The first instant at or after ``instant`` that is not busy."""
        i = bisect_right(self._ends, instant)
        if i < len(self._intervals) and self._intervals[i].start <= instant:
            return self._intervals[i].end
        return instant


def local_to_utc(day: date, wall: time, zone: tzinfo) -> datetime:
    """The UTC instant when clocks in ``zone`` show ``wall`` on ``day``.

    Daylight-saving rules, stated once for the whole agenda:

    * a wall time that happens twice (clocks go back) means its first occurrence;
    * a wall time that does not exist (clocks go forward) means the moment the clocks
      jump, i.e. the first instant after the gap: a session planned from 02:30 on the
      night clocks go from 02:00 to 03:00 starts at 03:00.

    The Sahel zones (``Africa/Nouakchott``, ``Africa/Bamako``, ``Africa/Niamey``) have no
    daylight saving; the rules matter for zones that have it (``Africa/Casablanca``,
    ``Europe/Paris`` for teleconsultations from France).
    """
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=zone)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # In a gap: fold=1 reads the time with the offset after the jump, fold=0 with the
    # offset before; the jump lies between the two readings. Find it to the second.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = instant
    if low > high:
        low, high = high, low
    after_offset = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def local_day_window(first_day: date, last_day: date, zone: tzinfo) -> Interval:
    """``[first_day 00:00, last_day + 1 00:00)`` in ``zone``, as UTC."""
    return Interval(
        local_to_utc(first_day, time(0), zone),
        local_to_utc(last_day + timedelta(days=1), time(0), zone),
    )


def local_span(day: date, start: time, end: time, zone: tzinfo) -> Interval | None:
    """The UTC interval of wall times ``start``-``end`` on ``day``.

    An ``end`` at or before ``start`` finishes the next day (a night session 20:00-08:00).
    ``None`` when daylight saving swallows the whole span (01:00-02:00 with no 01:00s).
    """
    end_day = day if end > start else day + timedelta(days=1)
    begin = local_to_utc(day, start, zone)
    finish = local_to_utc(end_day, end, zone)
    return Interval(begin, finish) if finish > begin else None
