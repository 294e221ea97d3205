"""Settings from the environment, and the translation mechanism."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from afiya.adapters.i18n import Translator, catalog, negotiate
from afiya.settings import Settings, SettingsError

REPO = Path(__file__).resolve().parents[3]


def test_settings_read_the_afiya_prefix_and_convert_types():
    settings = Settings.from_env(
        {
            "AFIYA_PORT": "9000",
            "AFIYA_LOG_JSON": "false",
            "AFIYA_JOB_MODULES": "a.b, c.d",
            "AFIYA_VAR_DIR": "/srv/afiya",
            "OTHER": "x",
        }
    )
    assert settings.port == 9000 and settings.log_json is False
    assert settings.job_modules == ("a.b", "c.d")
    assert settings.effective_database_url == "sqlite+aiosqlite:////srv/afiya/afiya.db"


def test_bad_settings_are_all_reported_at_once():
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"AFIYA_PORT": "eighty", "AFIYA_LOG_JSON": "maybe"})
    assert "AFIYA_PORT" in str(error.value) and "AFIYA_LOG_JSON" in str(error.value)


def test_inconsistent_settings_are_refused():
    with pytest.raises(SettingsError, match="AFIYA_REDIS_URL"):
        Settings.from_env({"AFIYA_JOB_QUEUE": "arq"})
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        Settings.from_env({"AFIYA_ENV": "production"})
    with pytest.raises(SettingsError, match="SMS_CALLBACK_SECRET"):
        Settings.from_env({"AFIYA_SMS_CALLBACK_SECRET": "short"})


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "fr"),
        ("ar", "ar"),
        ("ar-MR,fr;q=0.8", "ar"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE,en;q=0.5", "en"),
        ("wo,fr;q=0.3,ar;q=0.2", "fr"),
        ("fr;q=0,ar;q=0.1", "ar"),
        ("*", "fr"),
        ("garbage;;q=x", "fr"),
    ],
)
def test_accept_language_negotiation(header, expected):
    assert negotiate(header, "fr") == expected


def _domain_msgids() -> set[str]:
    found: set[str] = set()
    method_map = [("afiya/**.py", "python")]
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(REPO),
        method_map=method_map,
        keywords={"N_": None, "_": None},
    ):
        if isinstance(message, str) and message:
            found.add(message)
    return found


def test_every_user_facing_message_is_translated_in_french_and_arabic():
    msgids = _domain_msgids()
    assert len(msgids) > 50
    for language in ("fr", "ar"):
        known = catalog(language)
        missing = sorted(m for m in msgids if m not in known)
        assert missing == [], f"{language}: {len(missing)} untranslated, e.g. {missing[:5]}"


def test_arabic_translations_are_in_arabic_script_and_keep_placeholders():
    import re

    arabic = catalog("ar")
    for msgid, text in arabic.items():
        assert re.findall(r"{\w+}", msgid) == re.findall(r"{\w+}", text) or sorted(
            re.findall(r"{\w+}", msgid)
        ) == sorted(re.findall(r"{\w+}", text)), msgid
        if re.search(r"[A-Za-z]{4,}", msgid.replace("{", " ").replace("}", " ")):
            assert any("\u0600" <= ch <= "\u06ff" for ch in text), msgid
    assert Translator("ar").rtl and not Translator("fr").rtl
