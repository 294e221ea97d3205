"""Every user-facing message of the clinical domain is translated into French and Arabic."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "afiya" / "domain" / "clinical"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _msgids() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):  # use_cases/ is a sub-package
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
                literal = node.args[0]
                assert isinstance(literal, ast.Constant), ast.unparse(node)
                assert isinstance(literal.value, str), ast.unparse(node)
                found.add(literal.value)
    return found


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_catalog_translates_every_message(language: str) -> None:
    path = ROOT / "afiya" / "locale" / language / "LC_MESSAGES" / "clinical.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    assert str(catalog.locale) == language
    assert catalog.plural_forms
    ids = _msgids()
    assert len(ids) > 100
    translated = {m.id: m.string for m in catalog if isinstance(m.id, str) and m.id}
    assert set(translated) == ids
    for msgid, text in translated.items():
        assert isinstance(text, str) and text, msgid
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), msgid
        if language == "ar":
            assert re.search("[\u0600-\u06ff]", text), msgid
