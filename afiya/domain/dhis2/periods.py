"""DHIS2 periods as Afiya value objects, and their DHIS2 ids.

A period is ``(type, year, index)``: the year of its DHIS2 id and its rank in that year
(day of year, week, month, quarter...). Dates follow DHIS2 (``dhis2-core``
``org.hisp.dhis.period``) on the ISO 8601 calendar:

* weeks start on Monday (ISO), Wednesday, Thursday, Saturday or Sunday; week 1 of a year
  is the week holding 4 January (``WeekFields.of(startDay, 4)``), so a year has 52 or 53;
* bi-weeks pair ISO weeks (1-2, 3-4...). In a 53-week year DHIS2 stretches bi-week 27
  over the next year's first week; Afiya ends it with week 53, so periods of one type
  never overlap (the id is the same, only the dates DHIS2 would aggregate differ);
* ``yyyyNov``, ``yyyyNovQn`` and ``yyyyNovSn`` are named after the year they END in
  (``2026Nov`` is November 2025 to October 2026), unlike April/July/September/October
  financial years, named after the year they start in (``2026April``: April 2026 to
  March 2027).
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from afiya.domain.dhis2.errors import InvalidPeriod
from afiya.domain.shared.i18n import N_, Message

MIN_YEAR = 1000
MAX_YEAR = 9998


class PeriodType(Enum):
    """DHIS2 period types; the value is DHIS2's own name (``/api/periodTypes``)."""

    DAILY = "Daily"
    WEEKLY = "Weekly"
    WEEKLY_WEDNESDAY = "WeeklyWednesday"
    WEEKLY_THURSDAY = "WeeklyThursday"
    WEEKLY_SATURDAY = "WeeklySaturday"
    WEEKLY_SUNDAY = "WeeklySunday"
    BI_WEEKLY = "BiWeekly"
    MONTHLY = "Monthly"
    BI_MONTHLY = "BiMonthly"
    QUARTERLY = "Quarterly"
    QUARTERLY_NOV = "QuarterlyNov"
    SIX_MONTHLY = "SixMonthly"
    SIX_MONTHLY_APRIL = "SixMonthlyApril"
    SIX_MONTHLY_NOV = "SixMonthlyNov"
    YEARLY = "Yearly"
    FINANCIAL_APRIL = "FinancialApril"
    FINANCIAL_JULY = "FinancialJuly"
    FINANCIAL_SEP = "FinancialSep"
    FINANCIAL_OCT = "FinancialOct"
    FINANCIAL_NOV = "FinancialNov"


@dataclass(frozen=True, slots=True)
class _Spec:
    """How a period type cuts time. ``kind`` is day, week, biweek or month."""

    kind: str
    id_template: str  # str.format with year, index
    week_start: int = 0  # date.weekday() of the first day of a week
    months: int = 0  # months per period, for month-based types
    anchor_month: int = 1  # month the first period of a label year starts in
    year_offset: int = 0  # -1 when that month is in the year before the label


_SPECS: dict[PeriodType, _Spec] = {
    PeriodType.DAILY: _Spec("day", ""),
    PeriodType.WEEKLY: _Spec("week", "{year}W{index}", week_start=0),
    PeriodType.WEEKLY_WEDNESDAY: _Spec("week", "{year}WedW{index}", week_start=2),
    PeriodType.WEEKLY_THURSDAY: _Spec("week", "{year}ThuW{index}", week_start=3),
    PeriodType.WEEKLY_SATURDAY: _Spec("week", "{year}SatW{index}", week_start=5),
    PeriodType.WEEKLY_SUNDAY: _Spec("week", "{year}SunW{index}", week_start=6),
    PeriodType.BI_WEEKLY: _Spec("biweek", "{year}BiW{index}"),
    PeriodType.MONTHLY: _Spec("month", "{year}{index:02d}", months=1),
    PeriodType.BI_MONTHLY: _Spec("month", "{year}{index:02d}B", months=2),
    PeriodType.QUARTERLY: _Spec("month", "{year}Q{index}", months=3),
    PeriodType.QUARTERLY_NOV: _Spec(
        "month", "{year}NovQ{index}", months=3, anchor_month=11, year_offset=-1
    ),
    PeriodType.SIX_MONTHLY: _Spec("month", "{year}S{index}", months=6),
    PeriodType.SIX_MONTHLY_APRIL: _Spec("month", "{year}AprilS{index}", months=6, anchor_month=4),
    PeriodType.SIX_MONTHLY_NOV: _Spec(
        "month", "{year}NovS{index}", months=6, anchor_month=11, year_offset=-1
    ),
    PeriodType.YEARLY: _Spec("month", "{year}", months=12),
    PeriodType.FINANCIAL_APRIL: _Spec("month", "{year}April", months=12, anchor_month=4),
    PeriodType.FINANCIAL_JULY: _Spec("month", "{year}July", months=12, anchor_month=7),
    PeriodType.FINANCIAL_SEP: _Spec("month", "{year}Sep", months=12, anchor_month=9),
    PeriodType.FINANCIAL_OCT: _Spec("month", "{year}Oct", months=12, anchor_month=10),
    PeriodType.FINANCIAL_NOV: _Spec(
        "month", "{year}Nov", months=12, anchor_month=11, year_offset=-1
    ),
}

_WEEK_PREFIX = {
    "": PeriodType.WEEKLY,
    "Wed": PeriodType.WEEKLY_WEDNESDAY,
    "Thu": PeriodType.WEEKLY_THURSDAY,
    "Sat": PeriodType.WEEKLY_SATURDAY,
    "Sun": PeriodType.WEEKLY_SUNDAY,
}
_FINANCIAL_SUFFIX = {
    "April": PeriodType.FINANCIAL_APRIL,
    "July": PeriodType.FINANCIAL_JULY,
    "Sep": PeriodType.FINANCIAL_SEP,
    "Oct": PeriodType.FINANCIAL_OCT,
    "Nov": PeriodType.FINANCIAL_NOV,
}

_NOT_A_PERIOD = N_(
    '"{value}" is not a DHIS2 period id (for example 20260115, 2026W3, 202601, 2026Q1 or 2026).'
)
_NOT_A_DATE = N_('"{value}" is not a valid calendar date.')
_INDEX_OUT_OF_RANGE = N_(
    'Period "{value}" does not exist: the number after the year must be between 1 and {maximum}.'
)
_YEAR_OUT_OF_RANGE = N_("Year {year} is outside the supported range {minimum} to {maximum}.")


@functools.lru_cache(maxsize=4096)
def _week_one_start(year: int, week_start: int) -> date:
    """First day of week 1: the week starting on ``week_start`` that holds 4 January."""
    jan4 = date(year, 1, 4)
    return jan4 - timedelta(days=(jan4.weekday() - week_start) % 7)


def _month_start(absolute_month: int) -> date:
    return date(absolute_month // 12, absolute_month % 12 + 1, 1)


def _periods_in_year(period_type: PeriodType, year: int) -> int:
    spec = _SPECS[period_type]
    if spec.kind == "day":
        return 366 if calendar.isleap(year) else 365
    if spec.kind in ("week", "biweek"):
        start = 0 if spec.kind == "biweek" else spec.week_start
        weeks = (_week_one_start(year + 1, start) - _week_one_start(year, start)).days // 7
        return weeks if spec.kind == "week" else (weeks + 1) // 2
    return 12 // spec.months


def _start_of(period_type: PeriodType, year: int, index: int) -> date:
    spec = _SPECS[period_type]
    if spec.kind == "day":
        return date(year, 1, 1) + timedelta(days=index - 1)
    if spec.kind == "week":
        return _week_one_start(year, spec.week_start) + timedelta(weeks=index - 1)
    if spec.kind == "biweek":
        return _week_one_start(year, 0) + timedelta(weeks=2 * (index - 1))
    first = (year + spec.year_offset) * 12 + spec.anchor_month - 1
    return _month_start(first + spec.months * (index - 1))


def _invalid(value: str, msgid: str, **params: object) -> InvalidPeriod:
    return InvalidPeriod(value, Message(msgid, {"value": value, **params}))


def _check_year(text: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidPeriod(
            text,
            Message(_YEAR_OUT_OF_RANGE, {"year": year, "minimum": MIN_YEAR, "maximum": MAX_YEAR}),
        )


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class Period:
    """One DHIS2 period. Build it with :meth:`parse` or :meth:`containing`.

    Periods of one type are contiguous and never overlap; they sort by start date.
    """

    type: PeriodType
    year: int
    index: int

    def __post_init__(self) -> None:
        label = f"{self.type.value} {self.year}/{self.index}"
        _check_year(label, self.year)
        maximum = _periods_in_year(self.type, self.year)
        if not 1 <= self.index <= maximum:
            raise _invalid(label, _INDEX_OUT_OF_RANGE, maximum=maximum)

    # -- DHIS2 ids ------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Period:
        """Read a DHIS2 period id (``2026W3``, ``202601B``, ``2026AprilS1``...).

        Also takes the ISO forms DHIS2 accepts (``2026-01-15``, ``2026-01``, ``2026W03``).

        Raises:
            InvalidPeriod: when the text matches no period format, or names a day, week
                or month that does not exist.
        """
        return _parse(text)

    @property
    def id(self) -> str:
        """The canonical DHIS2 id, e.g. ``2026W3`` (weeks are not zero-padded)."""
        spec = _SPECS[self.type]
        if spec.kind == "day":
            return self.start.strftime("%Y%m%d")
        return spec.id_template.format(year=self.year, index=self.index)

    def __str__(self) -> str:
        return self.id

    # -- dates ----------------------------------------------------------------------
    @classmethod
    def containing(cls, period_type: PeriodType, day: date) -> Period:
        """The period of ``period_type`` that holds ``day``."""
        spec = _SPECS[period_type]
        if spec.kind == "day":
            return cls(period_type, day.year, day.timetuple().tm_yday)
        if spec.kind == "week":
            year = day.year
            if day >= _week_one_start(year + 1, spec.week_start):
                year += 1
            elif day < _week_one_start(year, spec.week_start):
                year -= 1
            index = (day - _week_one_start(year, spec.week_start)).days // 7 + 1
            return cls(period_type, year, index)
        if spec.kind == "biweek":
            year, week, _ = day.isocalendar()
            return cls(period_type, year, (week + 1) // 2)
        absolute = day.year * 12 + day.month - 1
        year = (absolute - spec.year_offset * 12 - (spec.anchor_month - 1)) // 12
        first = (year + spec.year_offset) * 12 + spec.anchor_month - 1
        return cls(period_type, year, (absolute - first) // spec.months + 1)

    @property
    def start(self) -> date:
        """First day of the period."""
        return _start_of(self.type, self.year, self.index)

    @property
    def end(self) -> date:
        """Last day of the period (inclusive)."""
        if self.index < _periods_in_year(self.type, self.year):
            following = _start_of(self.type, self.year, self.index + 1)
        else:
            following = _start_of(self.type, self.year + 1, 1)
        return following - timedelta(days=1)

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls within the period."""
        return self.start <= day <= self.end

    def overlaps(self, other: Period) -> bool:
        """Whether the two periods share at least one day."""
        return self.start <= other.end and other.start <= self.end

    # -- navigation -----------------------------------------------------------------
    def next(self) -> Period:
        """The period of the same type that starts the day after this one ends."""
        if self.index < _periods_in_year(self.type, self.year):
            return Period(self.type, self.year, self.index + 1)
        return Period(self.type, self.year + 1, 1)

    def previous(self) -> Period:
        """The period of the same type that ends the day before this one starts."""
        if self.index > 1:
            return Period(self.type, self.year, self.index - 1)
        year = self.year - 1
        return Period(self.type, year, _periods_in_year(self.type, year))

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` periods later (earlier when negative)."""
        period = self
        move: Callable[[Period], Period] = Period.next if steps >= 0 else Period.previous
        for _ in range(abs(steps)):
            period = move(period)
        return period

    def sub_periods(self, period_type: PeriodType) -> tuple[Period, ...]:
        """The periods of ``period_type`` lying wholly inside this one, in order.

        Months of a quarter, quarters of a financial year, days of a week... For types
        that do not nest (weeks in a month) the weeks straddling a boundary are left out.
        """
        return tuple(
            p
            for p in periods_between(period_type, self.start, self.end)
            if p.end <= self.end and p.start >= self.start
        )

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return (self.start, self.end, self.type.value) < (other.start, other.end, other.type.value)


def periods_between(period_type: PeriodType, first_day: date, last_day: date) -> Iterator[Period]:
    """Every period of ``period_type`` overlapping ``first_day``..``last_day``, in order."""
    if last_day < first_day:
        return
    period = Period.containing(period_type, first_day)
    while period.start <= last_day:
        yield period
        period = period.next()


# -- parsing -------------------------------------------------------------------------
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), "day"),
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "day"),
    (re.compile(r"(\d{4})(Wed|Thu|Sat|Sun)?W(\d{1,2})"), "week"),
    (re.compile(r"(\d{4})BiW(\d{1,2})"), "biweek"),
    (re.compile(r"(\d{4})-?(\d{2})"), "month"),
    (re.compile(r"(\d{4})(\d{2})B"), "bimonth"),
    (re.compile(r"(\d{4})(Nov)?Q(\d)"), "quarter"),
    (re.compile(r"(\d{4})(April|Nov)?S(\d)"), "sixmonth"),
    (re.compile(r"(\d{4})"), "year"),
    (re.compile(r"(\d{4})(April|July|Sep|Oct|Nov)"), "financial"),
]


def _parse(raw: str) -> Period:
    text = raw.strip()
    for pattern, kind in _PATTERNS:
        match = pattern.fullmatch(text)
        if match is not None:
            year = int(match.group(1))
            _check_year(text, year)
            return _build(text, kind, year, match.groups()[1:])
    raise _invalid(raw, _NOT_A_PERIOD)


def _build(text: str, kind: str, year: int, groups: tuple[str | None, ...]) -> Period:
    if kind == "day":
        try:
            day = date(year, int(groups[0] or 0), int(groups[1] or 0))
        except ValueError:
            raise _invalid(text, _NOT_A_DATE) from None
        return Period.containing(PeriodType.DAILY, day)
    if kind == "week":
        period_type, index = _WEEK_PREFIX[groups[0] or ""], int(groups[1] or 0)
    elif kind == "biweek":
        period_type, index = PeriodType.BI_WEEKLY, int(groups[0] or 0)
    elif kind == "month":
        period_type, index = PeriodType.MONTHLY, int(groups[0] or 0)
    elif kind == "bimonth":
        period_type, index = PeriodType.BI_MONTHLY, int(groups[0] or 0)
    elif kind == "quarter":
        nov = groups[0] is not None
        period_type = PeriodType.QUARTERLY_NOV if nov else PeriodType.QUARTERLY
        index = int(groups[1] or 0)
    elif kind == "sixmonth":
        period_type = {
            None: PeriodType.SIX_MONTHLY,
            "April": PeriodType.SIX_MONTHLY_APRIL,
            "Nov": PeriodType.SIX_MONTHLY_NOV,
        }[groups[0]]
        index = int(groups[1] or 0)
    elif kind == "year":
        period_type, index = PeriodType.YEARLY, 1
    else:
        period_type, index = _FINANCIAL_SUFFIX[groups[0] or ""], 1
    maximum = _periods_in_year(period_type, year)
    if not 1 <= index <= maximum:
        raise _invalid(text, _INDEX_OUT_OF_RANGE, maximum=maximum)
    return Period(period_type, year, index)
