"""SMS character encoding (3GPP TS 23.038, "GSM 03.38") and segment counting.

A text made only of characters of the GSM 7-bit default alphabet, plus its extension
table, travels as GSM-7: 160 septets in a single SMS, 153 per part once a user-data header
links the parts. An extension character (``€ [ ] { } ^ ~ \\ |`` and form feed) is an
escape septet followed by its code, so it costs 2 septets and is never cut between parts.
Any other character (Arabic, ``ê``, ``ç``, curly quotes, emoji...) switches the whole text to
UCS-2: 70 UTF-16 code units single, 67 per part; a character outside the Basic Multilingual
Plane (emoji) is a surrogate pair, costs 2 units and is not cut between parts either.

Counting is exact, so the cost shown to a facility before a campaign is the one billed.
Everything here is pure and allocation-light: the hot paths are set operations and
``str.encode`` (C loops); a per-character loop only runs for multi-part texts holding
2-unit characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

# The 128 positions of the default alphabet, in code order (0x1B, the escape, is excluded).
GSM7_BASIC_CHARS: Final[str] = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ"  # 0x10-0x1A; 0x1B is ESC
    "ÆæßÉ"  # 0x1C-0x1F
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Reached through the escape septet 0x1B: each costs two septets.
GSM7_EXTENSION_CHARS: Final[str] = "\f^{}\\[~]|€"

SINGLE_GSM7: Final = 160
PART_GSM7: Final = 153
SINGLE_UCS2: Final = 70
PART_UCS2: Final = 67

# USSD strings are at most 160 octets: 182 packed septets, or 80 UCS-2 characters.
USSD_MAX_GSM7: Final = 182
USSD_MAX_UCS2: Final = 80

_GSM7_ALL: Final = frozenset(GSM7_BASIC_CHARS + GSM7_EXTENSION_CHARS)
_GSM7_EXTENSION: Final = frozenset(GSM7_EXTENSION_CHARS)


class SmsEncoding(StrEnum):
    """Data coding of an SMS."""

    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class SmsEncodingInfo:
    """How a text travels as SMS.

    Attributes:
        encoding: GSM-7 when every character is in the default alphabet or its extension.
        units: septets (GSM-7) or UTF-16 code units (UCS-2) for the whole text.
        segments: SMS parts billed; 0 for an empty text.
        remaining_in_segment: units still free in the last part before another is needed.
    """

    encoding: SmsEncoding
    units: int
    segments: int
    remaining_in_segment: int


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can be sent in the GSM 7-bit alphabet (with its extension)."""
    return _GSM7_ALL.issuperset(text)


def gsm7_septets(text: str) -> int:
    """Septets needed for ``text`` in GSM-7; raises ``ValueError`` if it is not GSM-7."""
    if not is_gsm7(text):
        raise ValueError("text holds characters outside the GSM 7-bit alphabet")
    extension = sum(text.count(ch) for ch in _GSM7_EXTENSION.intersection(text))
    return len(text) + extension


def ucs2_units(text: str) -> int:
    """UTF-16 code units of ``text`` (a character outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _unit_costs(text: str, encoding: SmsEncoding) -> list[int]:
    if encoding is SmsEncoding.GSM7:
        return [2 if ch in GSM7_EXTENSION_CHARS else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


_TWO_UNITS: Final = {
    SmsEncoding.GSM7: re.compile("[" + re.escape(GSM7_EXTENSION_CHARS) + "]"),
    SmsEncoding.UCS2: re.compile("[\U00010000-\U0010ffff]"),
}


def _place_run(run: int, parts: int, used: int, per_part: int) -> tuple[int, int]:
    """Add ``run`` 1-unit characters, which may be cut anywhere between them."""
    room = per_part - used
    if run <= room:
        return parts, used + run
    extra = -(-(run - room) // per_part)
    return parts + extra, run - room - (extra - 1) * per_part


def _pack(text: str, encoding: SmsEncoding, per_part: int) -> tuple[int, int]:
    """Greedy packing that never splits a character: (parts, units used in the last).

    Runs of 1-unit characters are placed arithmetically; only the 2-unit characters,
    found by a C-level regex, are visited one by one.
    """
    parts, used, index = 1, 0, 0
    for match in _TWO_UNITS[encoding].finditer(text):
        parts, used = _place_run(match.start() - index, parts, used, per_part)
        parts, used = (parts + 1, 2) if used + 2 > per_part else (parts, used + 2)
        index = match.end()
    return _place_run(len(text) - index, parts, used, per_part)


def analyze(text: str) -> SmsEncodingInfo:
    """Encoding, length and number of SMS segments of ``text``.

    Examples:
        >>> analyze("Bonjour").segments
        1
        >>> analyze("مرحبا").encoding
        <SmsEncoding.UCS2: 'UCS-2'>
    """
    if is_gsm7(text):
        encoding, single, per_part = SmsEncoding.GSM7, SINGLE_GSM7, PART_GSM7
        units = gsm7_septets(text)
        uniform = units == len(text)
    else:
        encoding, single, per_part = SmsEncoding.UCS2, SINGLE_UCS2, PART_UCS2
        units = ucs2_units(text)
        uniform = units == len(text)
    if units == 0:
        return SmsEncodingInfo(encoding, 0, 0, single)
    if units <= single:
        return SmsEncodingInfo(encoding, units, 1, single - units)
    if uniform:
        parts = -(-units // per_part)
        return SmsEncodingInfo(encoding, units, parts, parts * per_part - units)
    parts, used = _pack(text, encoding, per_part)
    return SmsEncodingInfo(encoding, units, parts, per_part - used)


def split_segments(text: str) -> list[str]:
    """Cut ``text`` into the parts a gateway would send, never splitting a character."""
    info = analyze(text)
    if info.segments <= 1:
        return [text] if text else []
    per_part = PART_GSM7 if info.encoding is SmsEncoding.GSM7 else PART_UCS2
    parts: list[str] = []
    start, used = 0, 0
    for index, cost in enumerate(_unit_costs(text, info.encoding)):
        if used + cost > per_part:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return parts


def fits_ussd(text: str) -> bool:
    """Whether ``text`` fits one USSD screen (160 octets: 182 septets or 80 UCS-2 units)."""
    if is_gsm7(text):
        return gsm7_septets(text) <= USSD_MAX_GSM7
    return ucs2_units(text) <= USSD_MAX_UCS2


# Typography that word processors and Babel insert, with a GSM-7 look-alike.
_PUNCTUATION_FOLD: Final = {
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space (French before ; : ! ?)
    "\u2009": " ",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u02bc": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2011": "-",
    "\u2026": "...",
    "\u200e": "",  # bidi marks carry no text
    "\u200f": "",
    "\u00e7": "c",  # only the capital Ç is in the default alphabet
    "\u0153": "oe",
    "\u0152": "OE",
}


def fold_to_gsm7(text: str) -> str:
    """Replace typographic and accented characters so a Latin text can travel as GSM-7.

    ``ê`` becomes ``e``, ``ç`` becomes ``c``, curly quotes and non-breaking spaces become
    plain ones. Characters already in the alphabet (``é è à ù``...) are kept. When the text
    would still need UCS-2 (Arabic, emoji), or when folding would not save a segment,
    it is returned unchanged.
    """
    if is_gsm7(text):
        return text
    out: list[str] = []
    for ch in text:
        if ch in _GSM7_ALL:
            out.append(ch)
            continue
        folded = _PUNCTUATION_FOLD.get(ch)
        if folded is None:
            base = "".join(
                c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
            )
            folded = base if base and is_gsm7(base) else None
        if folded is None:
            return text
        out.append(folded)
    result = "".join(out)
    # "…" becomes three septets: a text full of them could need more parts, not fewer.
    return result if analyze(result).segments <= analyze(text).segments else text
