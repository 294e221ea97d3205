"""Small helpers shared by the clinical rules: aware times, field errors, sex and age."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Literal

from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

Sex = Literal["female", "male", "other", "unknown"]
"""Administrative sex, the same values as the patient registry's."""

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a clinical time may be: a ward PC's clock is often a little fast."""


def field_error(field: str, code: str, msgid: str, /, **params: object) -> FieldError:
    """A :class:`FieldError` whose message is ``msgid`` (already marked with ``N_``)."""
    return FieldError(field, Message(msgid, params), code)


def raise_if(errors: Iterable[FieldError]) -> None:
    """Raise :class:`ValidationFailed` listing ``errors``, if there are any."""
    found = list(errors)
    if found:
        raise ValidationFailed(found)


def check_time(field: str, value: datetime, now: datetime | None = None) -> list[FieldError]:
    """A clinical time must carry its time zone and must not lie in the future.

    Args:
        field: the input field, for the error.
        value: the time given.
        now: the current time; when None, only the time zone is checked.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        return [field_error(field, "naive_time", N_("A time must include its time zone."))]
    if now is not None and value > now + CLOCK_SKEW:
        return [
            field_error(
                field, "future_time", N_("This time is in the future: {at}."), at=iso(value)
            )
        ]
    return []


def iso(value: datetime | date) -> str:
    """ISO 8601 text of a time (minutes precision) or a date, for message parameters."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return value.isoformat()


def age_in_days(birth_date: date, on: date) -> int:
    """Age in whole days (reference ranges of newborns change within days)."""
    return (on - birth_date).days


def text_or_none(value: str | None) -> str | None:
    """``value`` stripped, or None when empty."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None
