"""Keywords patients text back: RDV, OUI, NON, STOP and their Arabic and English twins.

Patients type on basic phones, often with T9, in whatever case, with or without
accents, with stray punctuation, sometimes a whole sentence ("oui je viendrai"). The
parser normalises the text (Unicode NFKC, case folding, accents and Arabic diacritics
removed, alef/yeh variants unified, Arabic-Indic digits to ASCII) and reads the first
word, or the first two glued ("rendez vous"). An opt-out word anywhere in a short
message is honoured even when the first word means nothing: asking twice to stop is
worse than one missed reminder.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class InboundIntent(StrEnum):
    """What an inbound SMS asks for."""

    APPOINTMENT_INFO = "appointment_info"  # RDV / موعد: when is my next appointment?
    CONFIRM = "confirm"  # OUI / نعم
    DECLINE = "decline"  # NON / لا: I will not come, cancel it
    OPT_OUT = "opt_out"  # STOP / توقف
    OPT_IN = "opt_in"  # START / اشتراك
    HELP = "help"  # AIDE / مساعدة
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ParsedInbound:
    """The intent, the normalised keyword that matched, and the words after it."""

    intent: InboundIntent
    keyword: str | None
    rest: str


# Written as patients write them; normalised once at import, like the input.
_KEYWORDS: Final[dict[InboundIntent, tuple[str, ...]]] = {
    InboundIntent.APPOINTMENT_INFO: (
        "RDV",
        "RENDEZVOUS",
        "RENDEZ-VOUS",
        "APPT",
        "APPOINTMENT",
        "موعد",
        "موعدي",
        "الموعد",
    ),
    InboundIntent.CONFIRM: ("OUI", "YES", "OK", "CONFIRMER", "CONFIRM", "نعم", "ايوه", "أكيد"),
    InboundIntent.DECLINE: ("NON", "NO", "ANNULER", "لا", "إلغاء", "الغاء"),
    InboundIntent.OPT_OUT: (
        "STOP",
        "STOPALL",
        "ARRET",
        "ARRÊT",
        "ARRETER",
        "DESABONNER",
        "UNSUBSCRIBE",
        "توقف",
        "إيقاف",
        "أوقف",
        "قف",
    ),
    InboundIntent.OPT_IN: ("START", "UNSTOP", "ABONNER", "اشتراك", "إشتراك"),
    InboundIntent.HELP: ("AIDE", "HELP", "INFO", "مساعدة", "مساعده"),
}

_ARABIC_FOLD: Final = str.maketrans(
    {
        "\u0640": None,  # tatweel, used to stretch words
        "\u0649": "\u064a",  # alef maksura -> yeh
        "\u0629": "\u0647",  # teh marbuta -> heh (often typed interchangeably)
        "\u06cc": "\u064a",  # Persian yeh
        "\u0671": "\u0627",  # alef wasla
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Eastern Arabic-Indic digits
    }
)
_WORD: Final = re.compile(r"[^\W_]+", re.UNICODE)
# A message this short is a command, not a sentence that happens to contain "stop".
_SHORT_MESSAGE_WORDS: Final = 4


def normalize_keyword_text(text: str) -> str:
    """Fold ``text`` for keyword matching: upper case, no accents, no Arabic diacritics."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    # Dropping combining marks removes Latin accents and Arabic harakat, shadda and the
    # hamza/madda carried by alef (أ إ آ decompose to ا plus a mark).
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).translate(_ARABIC_FOLD).upper()


def _words(text: str) -> list[str]:
    return _WORD.findall(normalize_keyword_text(text))


_LOOKUP: Final[dict[str, InboundIntent]] = {
    "".join(_words(keyword)): intent
    for intent, keywords in _KEYWORDS.items()
    for keyword in keywords
}


def parse_inbound(text: str) -> ParsedInbound:
    """Read the intent of an inbound SMS.

    Examples:
        >>> parse_inbound("  Oui! ").intent
        <InboundIntent.CONFIRM: 'confirm'>
        >>> parse_inbound("إيقاف").intent
        <InboundIntent.OPT_OUT: 'opt_out'>
    """
    words = _words(text)
    if not words:
        return ParsedInbound(InboundIntent.UNKNOWN, None, "")
    if len(words) >= 2 and (intent := _LOOKUP.get(words[0] + words[1])) is not None:
        return ParsedInbound(intent, words[0] + words[1], " ".join(words[2:]))
    intent = _LOOKUP.get(words[0])
    if intent is not None:
        return ParsedInbound(intent, words[0], " ".join(words[1:]))
    if len(words) <= _SHORT_MESSAGE_WORDS:
        for index, word in enumerate(words):
            if _LOOKUP.get(word) is InboundIntent.OPT_OUT:
                return ParsedInbound(InboundIntent.OPT_OUT, word, " ".join(words[index + 1 :]))
    return ParsedInbound(InboundIntent.UNKNOWN, None, " ".join(words))
