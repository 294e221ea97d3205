"""PBF periods: calendar months written ``YYYYMM`` (DHIS2's monthly period format)."""

from __future__ import annotations

from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


def period_index(period: str) -> int:
    """Months since year 0 for ``period``, so that consecutive months differ by one.

    Raises:
        ValidationFailed: ``period`` is not six digits ``YYYYMM`` with a month 01-12.
    """
    if len(period) != 6 or not period.isdigit():
        raise _invalid(period)
    year, month = int(period[:4]), int(period[4:])
    if not 1 <= month <= 12 or year < 1900:
        raise _invalid(period)
    return year * 12 + month - 1


def period_from_index(index: int) -> str:
    """Inverse of :func:`period_index`."""
    year, month0 = divmod(index, 12)
    return f"{year:04d}{month0 + 1:02d}"


def shift_period(period: str, months: int) -> str:
    """The period ``months`` months after ``period`` (before it when negative)."""
    return period_from_index(period_index(period) + months)


def month_of(period: str) -> int:
    """Calendar month 1-12 of ``period`` (seasonality: the Sahel rainy season is July-October)."""
    return period_index(period) % 12 + 1


def period_range(first: str, last: str) -> list[str]:
    """Every period from ``first`` to ``last`` inclusive (empty if ``last`` comes first)."""
    return [period_from_index(i) for i in range(period_index(first), period_index(last) + 1)]


def _invalid(period: str) -> ValidationFailed:
    return ValidationFailed(
        [
            FieldError(
                "period",
                Message(N_("Period {period} is not a month written YYYYMM."), {"period": period}),
            )
        ]
    )
