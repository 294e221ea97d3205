"""The French and Arabic catalogs of the messaging module are complete and well-formed."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from afiya.adapters.i18n import Translator
from afiya.domain.shared.i18n import Message

ROOT = Path(__file__).resolve().parents[3]


def msgids() -> set[str]:
    found = extract_from_dir(
        ROOT / "afiya" / "domain" / "messaging",
        method_map=[("**.py", "python")],
        keywords={"N_": None},
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_message_is_translated_with_the_same_placeholders(language: str) -> None:
    path = ROOT / "afiya" / "locale" / language / "LC_MESSAGES" / "messaging.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    assert catalog.locale is not None and str(catalog.locale) == language
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    expected = msgids()
    assert expected, "no message found to translate"
    assert expected <= set(translated), expected - set(translated)
    for msgid in expected:
        assert fields(str(translated[msgid])) == fields(msgid), msgid


def test_a_domain_error_renders_in_french() -> None:
    message = Message(
        "No SMS tariff for {provider} in {country}.", {"provider": "twilio", "country": "NE"}
    )
    assert message.render(Translator("fr")) == "Aucun tarif SMS pour twilio dans le pays NE."
