"""Every user-facing FHIR message has a French and an Arabic translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [
    *ROOT.glob("afiya/domain/fhir/*.py"),
    *ROOT.glob("afiya/adapters/fhir/**/*.py"),
    *ROOT.glob("afiya/api/fhir/*.py"),
    ROOT / "afiya/jobs/fhir.py",
]


def marked_messages() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "N_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(str(node.args[0].value))
    return found


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_catalog_translates_every_message_with_the_same_placeholders(language: str) -> None:
    path = ROOT / "afiya" / "locale" / language / "LC_MESSAGES" / "fhir.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    translations = {m.id: m.string for m in catalog if m.id}
    assert set(translations) == marked_messages()
    for msgid, text in translations.items():
        assert text, msgid
        assert text != msgid, msgid
        assert set(re.findall(r"{\w+}", text)) == set(re.findall(r"{\w+}", msgid)), msgid
