"""Every user-facing message of the PBF module has a French and an Arabic translation."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from afiya.domain.pbf.errors import DivisionByZero
from afiya.domain.shared.i18n import Message

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [
    *sorted((ROOT / "afiya/domain/pbf").rglob("*.py")),
    ROOT / "afiya/domain/shared/money.py",
    *sorted((ROOT / "afiya/adapters/compute").rglob("*.py")),
    ROOT / "afiya/adapters/documents/invoice_pdf.py",
]


def source_messages() -> set[str]:
    found = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
                found.add(node.args[0].value)
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def catalog(language: str):
    path = ROOT / f"afiya/locale/{language}/LC_MESSAGES/pbf.po"
    with path.open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_message_is_translated_with_the_same_placeholders(language):
    translations = {m.id: m.string for m in catalog(language) if m.id}
    messages = source_messages()
    assert len(messages) > 50
    assert messages == set(translations)  # nothing missing, nothing stale
    for msgid, text in translations.items():
        assert text and text != msgid, msgid
        assert placeholders(text) == placeholders(msgid), msgid


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Division par zéro dans act1_rate_fosa1_201601."),
        ("ar", "قسمة على صفر في act1_rate_fosa1_201601."),
    ],
)
def test_a_formula_error_renders_in_the_users_language(language, expected):
    translations = {m.id: m.string for m in catalog(language) if m.id}
    error = DivisionByZero(
        Message("Division by zero in {equation}."), equation="act1_rate_fosa1_201601"
    )
    assert error.message.render(translations.get) == expected


def test_the_catalogs_declare_their_language_and_plural_forms():
    assert catalog("fr").plural_forms == "nplurals=2; plural=(n > 1);"
    assert catalog("ar").num_plurals == 6
