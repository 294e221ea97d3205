"""Every USSD screen, in French, Arabic and English, fits one USSD message."""

from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afiya.adapters.sms.babel_formatting import BabelFormatter
from afiya.channels.sms_ussd.layout import fit_screen
from afiya.channels.sms_ussd.menus import UssdMenuEngine, UssdReply
from afiya.channels.sms_ussd.texts import TEXTS
from afiya.domain.messaging.formatting import PlainFormatter
from afiya.domain.messaging.ports import DateTimeFormatter
from afiya.domain.messaging.sms_encoding import fits_ussd, is_gsm7
from tests.unit.messaging.conftest import LONG_FACILITY, FakeUssdServices, Phone

LANGUAGE_KEYS = {"fr": "1", "ar": "2", "en": "3"}


def paths(key: str) -> list[list[str]]:
    """Input sequences reaching every screen, hint and ending once."""
    appointment = [key, "1", "1234"]
    return [
        [],
        ["9"],
        [key],
        [key, "9"],
        [key, "1"],
        [key, "1", "12"],
        [key, "1", "9999"],
        [key, "1", "9999", "8888", "7777"],
        appointment,
        [*appointment, "9"],
        [*appointment, "1"],
        [*appointment, "2"],
        [*appointment, "2", "9"],
        [*appointment, "2", "1"],
        [*appointment, "3"],
        [*appointment, "3", "9"],
        [*appointment, "3", "1"],
        [key, "1", "01021990"],
        [key, "1", "5555", "1"],
        [key, "1", "5555", "3"],
        [key, "2", "1234"],
        [key, "2", "01021990"],
        [key, "3", "1234"],
        [key, "3", "01021990"],
        [key, "3", "2468"],
        [key, "4"],
    ]


async def walk(language: str, facility: str, formatter: DateTimeFormatter) -> list[UssdReply]:
    services = FakeUssdServices(facility=facility)
    engine = UssdMenuEngine(services, formatter=formatter)
    replies = []
    for inputs in paths(LANGUAGE_KEYS[language]):
        phone = Phone(engine)
        await phone.dial()
        replies.append(await phone.press(*inputs) if inputs else phone.replies[-1])
    return replies


def static_fragment(template: str) -> str:
    """The longest piece of a text template without variables."""
    return max(re.split(r"\{[a-z_]+\}", template), key=len).strip(" .:,،")


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
@pytest.mark.parametrize("facility", ["CS Teyarett", LONG_FACILITY, "مستشفى الصداقة " * 5])
@pytest.mark.parametrize("formatter", [PlainFormatter(), BabelFormatter()], ids=["plain", "babel"])
async def test_every_screen_fits_one_ussd_message(
    language: str, facility: str, formatter: DateTimeFormatter
) -> None:
    for reply in await walk(language, facility, formatter):
        assert len(reply.text) <= 182, reply.text
        assert fits_ussd(reply.text), reply.text
        assert len(reply.render()) <= 186
        assert reply.text.strip()


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_latin_screens_stay_in_the_gsm_alphabet(language: str) -> None:
    replies = await walk(language, LONG_FACILITY, BabelFormatter())
    for reply in replies[2:]:  # after the trilingual language menu
        assert is_gsm7(reply.text), reply.text


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
async def test_the_walk_shows_every_text_of_the_language(language: str) -> None:
    shown = "\n".join(reply.text for reply in await walk(language, "CS Teyarett", PlainFormatter()))
    for key, template in TEXTS[language].items():
        for line in template.splitlines():
            assert static_fragment(line) in shown, f"{language}.{key}: {line!r} never shown"


async def test_long_facility_name_is_shortened_not_the_date_or_choices() -> None:
    replies = await walk("ar", LONG_FACILITY, PlainFormatter())
    screens = [r.text for r in replies if "1 تأكيد" in r.text]
    assert len(screens) == 2  # without and with the invalid-choice hint
    for text in screens:
        assert "موعدك 12/03/2025 09:30" in text
        assert text.endswith("1 تأكيد\n2 إلغاء\n3 تغيير\n0 رجوع")
    assert "\nCentre Hospitalier Nat...\n" in screens[0]
    assert screens[1].startswith("اختيار خاطئ.\nموعدك")  # the hint is never shortened


def test_identify_after_a_wrong_code_keeps_the_hint_whole() -> None:
    replies = asyncio.run(walk("ar", "CS Teyarett", PlainFormatter()))
    [retry] = [r.text for r in replies if r.text.startswith("رمز خاطئ")]
    assert retry == "رمز خاطئ. محاولات متبقية: 2\nأعد إدخال الرمز:\n0 رجوع"


def test_fit_screen_drops_list_items_before_the_footer() -> None:
    items = [f"{n} {'م' * 10}" for n in range(1, 8)]
    text = fit_screen(["اختر:"], items, ["0 رجوع"])
    assert fits_ussd(text)
    assert text.startswith("اختر:\n1 ") and text.endswith("\n0 رجوع")
    assert "7 " not in text


def test_fit_screen_cuts_hard_only_when_nothing_else_can_shrink() -> None:
    text = fit_screen([], [], ["ب" * 200])
    assert fits_ussd(text) and len(text) == 80


TOKENS = ["1", "2", "3", "4", "0", "00", "9", "1234", "9999", "01021990", "5555", "12", ""]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(TOKENS), max_size=10),
    st.sampled_from(["CS Teyarett", LONG_FACILITY]),
)
def test_any_key_sequence_gets_a_fitting_screen(keys: list[str], facility: str) -> None:
    async def run() -> None:
        phone = Phone(
            UssdMenuEngine(FakeUssdServices(facility=facility), formatter=PlainFormatter())
        )
        reply = await phone.dial()
        for key in keys:
            if reply.end:
                break
            reply = await phone.press(key)
            assert fits_ussd(reply.text) and len(reply.text) <= 182, reply.text

    asyncio.run(run())
