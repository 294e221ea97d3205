"""Babel implementation of :class:`~afiya.domain.messaging.ports.DateTimeFormatter`.

Gives day and month names ("mardi 12 août", "الثلاثاء 12 أغشت") in the facility's
locale (Mauritanian Arabic month names for ``ar_MR``). Babel writes narrow no-break
spaces and other typography that the GSM alphabet lacks; they are replaced by plain
spaces so French and English texts stay 160 characters per SMS. Arabic keeps its
bidi marks, which place dates correctly in right-to-left text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Final

from babel.dates import format_date, format_time
from babel.numbers import format_currency

DEFAULT_LOCALES: Final[dict[str, str]] = {"fr": "fr_MR", "ar": "ar_MR", "en": "en_GB"}
DEFAULT_DATE_PATTERN: Final = "EEEE d MMMM"
DEFAULT_TIME_PATTERN: Final = "HH:mm"
_SPACES: Final = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
_BIDI_MARKS: Final = str.maketrans({"\u200e": None, "\u200f": None, "\u061c": None})


class BabelFormatter:
    """Locale-aware dates, times and amounts for SMS and USSD."""

    def __init__(
        self,
        *,
        locales: Mapping[str, str] | None = None,
        date_pattern: str = DEFAULT_DATE_PATTERN,
        time_pattern: str = DEFAULT_TIME_PATTERN,
    ) -> None:
        """Configure the formatter.

        Args:
            locales: language -> Babel locale (``{"fr": "fr_ML"}`` for Mali).
            date_pattern: CLDR pattern for dates; ``"dd/MM/yyyy"`` for numeric ones.
            time_pattern: CLDR pattern for times; 24-hour by default.
        """
        self._locales = {**DEFAULT_LOCALES, **(locales or {})}
        self._date_pattern = date_pattern
        self._time_pattern = time_pattern

    def _locale(self, language: str) -> str:
        return self._locales.get(language, self._locales["fr"])

    def _clean(self, text: str, language: str) -> str:
        text = text.translate(_SPACES)
        return text if language == "ar" else text.translate(_BIDI_MARKS)

    @staticmethod
    def _local(value: datetime, zone: tzinfo) -> datetime:
        if value.tzinfo is None:
            raise ValueError("datetimes given to the formatter must be timezone-aware")
        return value.astimezone(zone)

    def format_date(self, value: datetime, *, language: str, zone: tzinfo) -> str:
        local = self._local(value, zone)
        text = format_date(local.date(), self._date_pattern, locale=self._locale(language))
        return self._clean(text, language)

    def format_time(self, value: datetime, *, language: str, zone: tzinfo) -> str:
        local = self._local(value, zone)
        text = format_time(local.time(), self._time_pattern, locale=self._locale(language))
        return self._clean(text, language)

    def format_amount(self, amount: Decimal, *, currency: str, language: str) -> str:
        text = format_currency(amount, currency.upper(), locale=self._locale(language))
        return self._clean(text, language)
