"""A dependency-free :class:`~afiya.domain.messaging.ports.DateTimeFormatter`.

Numeric dates (``12/08/2025``) and 24-hour times read the same to every patient, need no
locale data, and stay in the GSM 7-bit alphabet, so French and English reminders keep
160 characters per SMS. The Babel adapter adds day and month names when a facility
wants them.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

# Minor-unit digits shown. MRU has khoums (1/5) but prices are written with 2 decimals;
# XOF has no minor unit in use.
CURRENCY_DIGITS: Final[dict[str, int]] = {"MRU": 2, "XOF": 0, "EUR": 2, "USD": 2}


def _group(integer_digits: str, separator: str) -> str:
    head = len(integer_digits) % 3 or 3
    groups = [integer_digits[:head]]
    groups += [integer_digits[i : i + 3] for i in range(head, len(integer_digits), 3)]
    return separator.join(groups)


class PlainFormatter:
    """dd/mm/yyyy dates, ``10h30`` (French) or ``10:30`` times, ``1 250 MRU`` amounts."""

    def _local(self, value: datetime, zone: tzinfo) -> datetime:
        if value.tzinfo is None:
            raise ValueError("datetimes given to the formatter must be timezone-aware")
        return value.astimezone(zone)

    def format_date(self, value: datetime, *, language: str, zone: tzinfo) -> str:
        return self._local(value, zone).strftime("%d/%m/%Y")

    def format_time(self, value: datetime, *, language: str, zone: tzinfo) -> str:
        local = self._local(value, zone)
        separator = "h" if language == "fr" else ":"
        return f"{local.hour:02d}{separator}{local.minute:02d}"

    def format_amount(self, amount: Decimal, *, currency: str, language: str) -> str:
        digits = CURRENCY_DIGITS.get(currency.upper(), 2)
        quantum = Decimal(1).scaleb(-digits)
        value = amount.quantize(quantum, rounding=ROUND_HALF_UP)
        sign = "-" if value < 0 else ""
        text = f"{abs(value):f}"
        integer, _, fraction = text.partition(".")
        if language == "en":
            grouped, decimal_mark = _group(integer, ","), "."
        else:
            grouped, decimal_mark = _group(integer, " "), ","
        number = f"{grouped}{decimal_mark}{fraction}" if fraction else grouped
        return f"{sign}{number} {currency.upper()}"
