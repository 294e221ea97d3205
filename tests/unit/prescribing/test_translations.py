"""Every user-facing message of the module is translated into French and Arabic, with the
same placeholders (a missing ``{drug}`` would silently drop the medicine's name)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import afiya

ROOT = Path(afiya.__file__).parent
SOURCES = [ROOT / "domain" / "prescribing", ROOT / "adapters" / "knowledge"]


def _msgids() -> set[str]:
    found = set()
    for folder in SOURCES:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "N_"
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.add(node.args[0].value)
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_catalogue_covers_every_message(language: str) -> None:
    path = ROOT / "locale" / language / "LC_MESSAGES" / "prescribing.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    msgids = _msgids()

    assert len(msgids) > 100
    assert catalog.locale is not None and str(catalog.locale) == language
    for msgid in msgids:
        message = catalog.get(msgid)
        assert message is not None and message.string, f"{language}: untranslated {msgid!r}"
        assert not message.fuzzy, msgid
        assert _fields(str(message.string)) == _fields(msgid), f"{language}: {msgid!r}"
