"""Phone numbers as messaging sees them: E.164 checks, country of a number, masking."""

from __future__ import annotations

import re
from typing import Final

_E164: Final = re.compile(r"\+[1-9]\d{6,14}")

# Calling codes of the countries Afiya serves and their neighbours, plus a few where
# diaspora relatives who receive reminders live. Longest prefix wins.
CALLING_CODES: Final[dict[str, str]] = {
    "222": "MR",
    "223": "ML",
    "227": "NE",
    "221": "SN",
    "226": "BF",
    "225": "CI",
    "224": "GN",
    "220": "GM",
    "228": "TG",
    "229": "BJ",
    "234": "NG",
    "235": "TD",
    "212": "MA",
    "213": "DZ",
    "216": "TN",
    "218": "LY",
    "33": "FR",
    "34": "ES",
    "32": "BE",
    "44": "GB",
    "1": "US",
}
_LONGEST_CODE: Final = max(map(len, CALLING_CODES))


def is_e164(number: str) -> bool:
    """Whether ``number`` is written in E.164 (``+`` then 7 to 15 digits, no spaces)."""
    return _E164.fullmatch(number) is not None


def country_of(number: str) -> str | None:
    """ISO 3166-1 alpha-2 country of an E.164 number, or ``None`` when unknown."""
    if not is_e164(number):
        return None
    digits = number[1:]
    for length in range(_LONGEST_CODE, 0, -1):
        country = CALLING_CODES.get(digits[:length])
        if country is not None:
            return country
    return None


def mask_phone(number: str) -> str:
    """Hide all but the calling code and the last two digits, for logs.

    ``+22236123456`` becomes ``+222******56``; anything that is not E.164 is fully masked,
    since it may be a name or a mistyped number that identifies someone anyway.
    """
    if not is_e164(number):
        return "***"
    digits = number[1:]
    code = next(
        (digits[:n] for n in range(_LONGEST_CODE, 0, -1) if digits[:n] in CALLING_CODES),
        digits[:1],
    )
    hidden = len(digits) - len(code) - 2
    return f"+{code}{'*' * max(hidden, 0)}{digits[-2:]}"
