"""Translations from gettext catalogs (PO files read with Babel), French, Arabic, English.

Each module keeps its own catalog, ``afiya/locale/<lang>/LC_MESSAGES/<module>.po``, so
that modules can be written side by side; at start-up all catalogs of a language are
merged into one lookup. English is the source language (the msgids).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
SUPPORTED = ("fr", "ar", "en")
RTL = frozenset({"ar"})


@lru_cache(maxsize=8)
def catalog(language: str, locale_dir: Path = LOCALE_DIR) -> dict[str, str]:
    """msgid → translation for ``language``; untranslated and fuzzy entries are skipped."""
    merged: dict[str, str] = {}
    folder = locale_dir / language / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")) if folder.exists() else []:
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if (
                    message.id
                    and isinstance(message.id, str)
                    and message.string
                    and not message.fuzzy
                ):
                    merged[message.id] = str(message.string)
    return merged


class Translator:
    """``gettext`` for one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in SUPPORTED else "en"
        self._catalog = catalog(self.language) if self.language != "en" else {}

    def __call__(self, msgid: str) -> str:
        return self._catalog.get(msgid, msgid)

    @property
    def rtl(self) -> bool:
        return self.language in RTL


def negotiate(accept_language: str | None, default: str = "fr") -> str:
    """Pick fr, ar or en from an ``Accept-Language`` header (quality values honoured)."""
    if not accept_language:
        return default
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            weighted.append((-quality, index, tag.strip()))
    for negative_q, _, tag in sorted(weighted):
        if negative_q >= 0:
            continue
        try:
            language = Locale.parse(tag.replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            language = tag.split("-")[0].lower()
        if language in SUPPORTED:
            return language
    return default


def languages() -> Iterable[str]:
    return SUPPORTED
