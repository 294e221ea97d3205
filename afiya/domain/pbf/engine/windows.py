"""Time windows of ``%{<name>_<window>_values}`` placeholders.

A window is a range of months relative to the period being computed; the list holds the
values of ``<name>`` for each of its periods lying wholly inside the range (months for a
monthly value, quarters for a quarterly one), oldest first:

=================================  ===================================================
``_current_quarter``               the months (or the quarter) of the period's quarter
``_current_quarter_previous``      the months of the quarter before the period (the
                                   first month of a quarter has none)
``_previous_year_same_quarter``    the same quarter one year earlier
``_previous_year``                 the whole previous calendar year
``_last_<n>_months``               the ``n`` months ending with the period
``_last_<n>_months_exclusive``     the ``n`` months before the period
``_last_<n>_quarters[_exclusive]`` the same, in quarters
(no window) ``%{<name>_values}``   the period itself (in a quarterly formula reading a
                                   monthly value: the quarter's months)
=================================  ===================================================

hesabu's spelling ``_last_12_months_window_values`` is accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from afiya.domain.pbf.periods import Frequency, Period, periods_of, quarter_of

_LAST = re.compile(r"^(?P<base>.+)_last_(?P<n>\d+)_(?P<unit>months|quarters)(?P<x>_exclusive)?$")

_NAMED = (
    "current_quarter_previous",
    "previous_year_same_quarter",
    "current_quarter",
    "previous_year",
)


@dataclass(frozen=True, slots=True)
class Window:
    kind: str  # one of _NAMED, "current", "last_months" or "last_quarters"
    size: int = 0
    exclusive: bool = False

    def months(self, period: Period) -> tuple[int, int]:
        """The inclusive range of absolute months covered; empty when first > last."""
        quarter = quarter_of(period)
        match self.kind:
            case "current":
                return period.first, period.last
            case "current_quarter":
                return quarter.first, quarter.last
            case "current_quarter_previous":
                return quarter.first, period.first - 1
            case "previous_year_same_quarter":
                return quarter.first - 12, quarter.last - 12
            case "previous_year":
                year = period.first // 12 - 1
                return year * 12, year * 12 + 11
        span = self.size * (3 if self.kind == "last_quarters" else 1)
        if self.exclusive:
            return period.first - span, period.first - 1
        return period.last - span + 1, period.last

    def periods(self, period: Period, frequency: Frequency) -> list[str]:
        """Codes of the periods of ``frequency`` in the window around ``period``."""
        first, last = self.months(period)
        return periods_of(frequency, first, last) if first <= last else []


CURRENT = Window("current")


def split_values_name(name: str) -> list[tuple[str, Window]] | None:
    """Readings of a placeholder name: ``(base name, window)`` candidates, likeliest first.

    Returns ``None`` when ``name`` does not end with ``_values`` (it is then a plain
    value). A base name may itself contain a window word, so the caller tries each
    reading until the base name is known.
    """
    if not name.endswith("_values") or name == "_values":
        return None
    stem = name[: -len("_values")]
    stem = stem.removesuffix("_window")
    readings: list[tuple[str, Window]] = []
    if (m := _LAST.match(stem)) and int(m["n"]) > 0:
        kind = "last_months" if m["unit"] == "months" else "last_quarters"
        readings.append((m["base"], Window(kind, int(m["n"]), bool(m["x"]))))
    for kind in _NAMED:
        suffix = "_" + kind
        if stem.endswith(suffix) and len(stem) > len(suffix):
            readings.append((stem[: -len(suffix)], Window(kind)))
    readings.append((name[: -len("_values")], CURRENT))
    return readings
