"""Inbound SMS keywords in French, Arabic and English."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.messaging.keywords import (
    InboundIntent,
    normalize_keyword_text,
    parse_inbound,
)

I = InboundIntent  # noqa: E741 - short alias keeps the tables readable


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("RDV", I.APPOINTMENT_INFO),
        ("rdv", I.APPOINTMENT_INFO),
        (" Rdv ? ", I.APPOINTMENT_INFO),
        ("rendez-vous", I.APPOINTMENT_INFO),
        ("Rendez vous", I.APPOINTMENT_INFO),
        ("موعد", I.APPOINTMENT_INFO),
        ("موعدي؟", I.APPOINTMENT_INFO),
        ("APPT", I.APPOINTMENT_INFO),
        ("OUI", I.CONFIRM),
        ("oui", I.CONFIRM),
        ("Oui!", I.CONFIRM),
        ("ouí", I.CONFIRM),
        ("نعم", I.CONFIRM),
        ("نَعَمْ", I.CONFIRM),
        ("yes", I.CONFIRM),
        ("NON", I.DECLINE),
        ("Non.", I.DECLINE),
        ("لا", I.DECLINE),
        ("no", I.DECLINE),
        ("STOP", I.OPT_OUT),
        ("stop", I.OPT_OUT),
        ("Arrêt", I.OPT_OUT),
        ("ARRET", I.OPT_OUT),
        ("توقف", I.OPT_OUT),
        ("إيقاف", I.OPT_OUT),
        ("ايقاف", I.OPT_OUT),
        ("أوقف", I.OPT_OUT),
        ("تـوقـف", I.OPT_OUT),
        ("START", I.OPT_IN),
        ("اشتراك", I.OPT_IN),
        ("aide", I.HELP),
        ("مساعدة", I.HELP),
        ("مساعده", I.HELP),
    ],
)
def test_keywords_are_recognised_whatever_the_spelling(text: str, intent: InboundIntent) -> None:
    assert parse_inbound(text).intent is intent


def test_full_width_and_arabic_indic_forms_are_normalised() -> None:
    assert parse_inbound("ＳＴＯＰ").intent is I.OPT_OUT
    assert normalize_keyword_text("٣٤ ۵") == "34 5"


def test_the_words_after_the_keyword_are_kept() -> None:
    parsed = parse_inbound("Oui je viendrai demain")
    assert (parsed.intent, parsed.keyword, parsed.rest) == (I.CONFIRM, "OUI", "JE VIENDRAI DEMAIN")


def test_arabic_sentence_starting_with_no_is_a_decline() -> None:
    assert parse_inbound("لا أستطيع الحضور").intent is I.DECLINE


def test_stop_inside_a_short_message_is_honoured() -> None:
    parsed = parse_inbound("merci, stop svp")
    assert parsed.intent is I.OPT_OUT


def test_stop_inside_a_long_message_is_not_an_opt_out() -> None:
    text = "je ne peux pas venir car le bus ne stop pas au village"
    assert parse_inbound(text).intent is I.UNKNOWN


@pytest.mark.parametrize("text", ["", "   ", "?!", "Bonjour docteur", "ouioui", "nonstop"])
def test_anything_else_is_unknown(text: str) -> None:
    assert parse_inbound(text).intent is I.UNKNOWN


@given(st.text(max_size=200))
def test_parser_never_fails(text: str) -> None:
    parsed = parse_inbound(text)
    assert parsed.intent in InboundIntent
    assert (parsed.keyword is None) == (parsed.intent is I.UNKNOWN)


@given(
    st.sampled_from(["oui", "OUI", "Oui"]),
    st.text(alphabet=" \t\n.!?", max_size=5),
    st.text(alphabet=" \t\n.!?", max_size=5),
)
def test_surrounding_spaces_and_punctuation_do_not_matter(word: str, left: str, right: str) -> None:
    assert parse_inbound(f"{left}{word}{right}").intent is I.CONFIRM
