"""Periods in DHIS2 notation: months ``201601``, quarters ``2016Q1``, years ``2016``.

Internally a month is an absolute month number (``year * 12 + month - 1``) so that windows
(the last 12 months, the same quarter last year) are plain integer ranges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from afiya.domain.pbf.errors import PeriodInvalid

_MONTH = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")

_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Frequency(StrEnum):
    """How often a package is declared and paid."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar period as an inclusive range of absolute months."""

    first: int
    last: int

    @property
    def code(self) -> str:
        """The DHIS2 code: ``201601``, ``2016Q1`` or ``2016``."""
        length = self.last - self.first + 1
        year, month0 = divmod(self.first, 12)
        if length == 1:
            return f"{year:04d}{month0 + 1:02d}"
        if length == 3:
            return f"{year:04d}Q{month0 // 3 + 1}"
        return f"{year:04d}"

    @property
    def frequency(self) -> Frequency:
        if self.last == self.first:
            return Frequency.MONTHLY
        if self.last - self.first == 2:
            return Frequency.QUARTERLY
        raise PeriodInvalid(self.code)

    def months(self) -> list[str]:
        """The codes of the months in the period, in order."""
        return [month_code(m) for m in range(self.first, self.last + 1)]

    def contains(self, other: Period) -> bool:
        return self.first <= other.first and other.last <= self.last


def parse_period(code: str) -> Period:
    """Parse a DHIS2 period code.

    Raises:
        PeriodInvalid: when ``code`` is not a month, quarter or year.
    """
    if m := _MONTH.match(code):
        first = int(m[1]) * 12 + int(m[2]) - 1
        return Period(first, first)
    if m := _QUARTER.match(code):
        first = int(m[1]) * 12 + (int(m[2]) - 1) * 3
        return Period(first, first + 2)
    if m := _YEAR.match(code):
        first = int(m[1]) * 12
        return Period(first, first + 11)
    raise PeriodInvalid(code)


def month_code(absolute_month: int) -> str:
    year, month0 = divmod(absolute_month, 12)
    return f"{year:04d}{month0 + 1:02d}"


def quarter_code(absolute_month: int) -> str:
    """The quarter containing ``absolute_month``."""
    year, month0 = divmod(absolute_month, 12)
    return f"{year:04d}Q{month0 // 3 + 1}"


def quarter_of(period: Period) -> Period:
    """The quarter containing the first month of ``period``."""
    first = period.first - period.first % 3
    return Period(first, first + 2)


def periods_of(frequency: Frequency, first: int, last: int) -> list[str]:
    """Codes of the periods of ``frequency`` lying wholly inside months ``first..last``."""
    if frequency is Frequency.MONTHLY:
        return [month_code(m) for m in range(first, last + 1)]
    start = first + (-first) % 3
    return [quarter_code(m) for m in range(start, last - 1, 3)]


def days_in_month(year: int, month: int) -> int:
    """Calendar days in a month of the Gregorian calendar.

    Raises:
        ValueError: when ``month`` is not 1 to 12.
    """
    if not 1 <= month <= 12:
        raise ValueError(month)
    if month == 2 and (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return 29
    return _DAYS[month - 1]


def period_number(period: Period) -> int:
    """The last month of ``period`` as the number ``YYYYMM`` (for ``current_month``)."""
    year, month0 = divmod(period.last, 12)
    return year * 100 + month0 + 1
