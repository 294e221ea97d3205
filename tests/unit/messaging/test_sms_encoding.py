"""GSM 03.38 / UCS-2 detection and exact segment counting."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.messaging.sms_encoding import (
    GSM7_BASIC_CHARS,
    GSM7_EXTENSION_CHARS,
    SmsEncoding,
    analyze,
    fits_ussd,
    fold_to_gsm7,
    gsm7_septets,
    is_gsm7,
    split_segments,
    ucs2_units,
)

GSM = SmsEncoding.GSM7
UCS2 = SmsEncoding.UCS2


class TestAlphabet:
    def test_default_alphabet_has_127_characters_besides_escape(self) -> None:
        assert len(GSM7_BASIC_CHARS) == 127
        assert len(set(GSM7_BASIC_CHARS)) == 127
        assert "\x1b" not in GSM7_BASIC_CHARS

    @pytest.mark.parametrize("char", list("éèùìòàÉÇÄÖÑÜäöñüØøÅåÆæß£¥§¿¡¤ΔΦΓΛΩΠΨΣΘΞ@$_"))
    def test_accented_and_greek_letters_of_the_basic_set_are_gsm(self, char: str) -> None:
        assert is_gsm7(char)
        assert gsm7_septets(char) == 1

    @pytest.mark.parametrize("char", list("êâîôûçëïœÀÂÊÎÔÛ«»’“”…–—`"))
    def test_common_french_typography_outside_the_alphabet_forces_ucs2(self, char: str) -> None:
        assert not is_gsm7(f"Bonjour {char}")
        assert analyze(f"Bonjour {char}").encoding is UCS2

    def test_only_capital_c_cedilla_is_in_the_basic_set(self) -> None:
        assert is_gsm7("Ç")
        assert not is_gsm7("ç")

    @pytest.mark.parametrize("char", list(GSM7_EXTENSION_CHARS))
    def test_extension_characters_cost_two_septets(self, char: str) -> None:
        assert is_gsm7(char)
        assert gsm7_septets(f"a{char}b") == 4

    def test_arabic_is_ucs2(self) -> None:
        info = analyze("موعدك غدا")
        assert info.encoding is UCS2
        assert info.units == 9

    def test_septets_of_non_gsm_text_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="GSM 7-bit"):
            gsm7_septets("نعم")


class TestSegments:
    def test_empty_text_has_no_segment(self) -> None:
        assert analyze("") == analyze("")
        info = analyze("")
        assert (info.encoding, info.units, info.segments, info.remaining_in_segment) == (
            GSM,
            0,
            0,
            160,
        )

    @pytest.mark.parametrize(
        ("length", "segments", "remaining"),
        [(1, 1, 159), (160, 1, 0), (161, 2, 145), (306, 2, 0), (307, 3, 152), (459, 3, 0)],
    )
    def test_gsm7_boundaries(self, length: int, segments: int, remaining: int) -> None:
        info = analyze("a" * length)
        assert info.encoding is GSM
        assert (info.units, info.segments, info.remaining_in_segment) == (
            length,
            segments,
            remaining,
        )

    @pytest.mark.parametrize(
        ("length", "segments", "remaining"),
        [(70, 1, 0), (71, 2, 63), (134, 2, 0), (135, 3, 66)],
    )
    def test_ucs2_boundaries(self, length: int, segments: int, remaining: int) -> None:
        info = analyze("ب" * length)
        assert (info.units, info.segments, info.remaining_in_segment) == (
            length,
            segments,
            remaining,
        )

    def test_arabic_sms_of_71_characters_takes_two_segments(self) -> None:
        text = ("تذكير: لديك موعد في المركز الصحي يوم الثلاثاء الساعة العاشرة صباحا شكرا")[:71]
        assert len(text) == 71
        info = analyze(text)
        assert info.encoding is UCS2
        assert info.segments == 2

    def test_french_message_of_160_gsm_characters_fits_one_sms(self) -> None:
        base = "Rappel: RDV le 12/03 à 9h30 au centre de santé. Répondez OUI pour confirmer. "
        text = (base * 3)[:160]
        assert len(text) == 160
        assert "à" in text and "é" in text
        info = analyze(text)
        assert (info.encoding, info.segments, info.remaining_in_segment) == (GSM, 1, 0)

    def test_one_circumflex_turns_the_same_message_into_three_ucs2_parts(self) -> None:
        text = ("Rappel: votre RDV est confirmé. " * 6)[:159] + "ê"
        info = analyze(text)
        assert info.encoding is UCS2
        assert info.segments == 3

    def test_extension_characters_push_past_the_single_limit(self) -> None:
        assert analyze("€" * 80).segments == 1  # 160 septets
        assert analyze("a" + "€" * 80).segments == 2  # 161 septets

    def test_escape_sequence_is_not_split_between_parts(self) -> None:
        # 152 plain septets then a 2-septet euro: it moves whole to the second part.
        text = "a" * 152 + "€" + "b" * 10
        info = analyze(text)
        assert info.units == 164
        assert info.segments == 2
        assert info.remaining_in_segment == 153 - 12
        parts = split_segments(text)
        assert parts == ["a" * 152, "€" + "b" * 10]

    def test_emoji_counts_two_units_and_is_not_split(self) -> None:
        assert ucs2_units("😀") == 2
        assert analyze("😀" * 35).segments == 1
        assert analyze("😀" * 36).segments == 2
        text = "ب" * 66 + "😀" + "ب" * 5  # 73 units; the pair would straddle 67|68
        assert analyze(text).segments == 2
        assert split_segments(text) == ["ب" * 66, "😀" + "ب" * 5]

    def test_split_of_short_text_is_itself(self) -> None:
        assert split_segments("Bonjour") == ["Bonjour"]
        assert split_segments("") == []


class TestUssdCapacity:
    def test_182_gsm_characters_fit_a_screen(self) -> None:
        assert fits_ussd("a" * 182)
        assert not fits_ussd("a" * 183)
        assert not fits_ussd("a" * 181 + "€")

    def test_non_gsm_screen_holds_80_units(self) -> None:
        assert fits_ussd("م" * 80)
        assert not fits_ussd("م" * 81)


class TestFolding:
    def test_fold_makes_french_typography_gsm(self) -> None:
        folded = fold_to_gsm7("Ça coûte « 10 € » – même l’été… reçu\u202f!")
        assert folded == 'Ça coute " 10 € " - meme l\'été... recu !'
        assert is_gsm7(folded)

    def test_fold_leaves_arabic_untouched(self) -> None:
        text = "موعدك مؤكَّد – شكرا"
        assert fold_to_gsm7(text) == text

    def test_fold_leaves_gsm_text_untouched(self) -> None:
        assert fold_to_gsm7("déjà été") == "déjà été"


any_text = st.text(
    alphabet=st.sampled_from(GSM7_BASIC_CHARS + GSM7_EXTENSION_CHARS + "éêçبم😀"), max_size=700
)


@given(any_text)
def test_segments_hold_every_unit_and_no_more_parts_than_needed(text: str) -> None:
    info = analyze(text)
    parts = split_segments(text)
    assert "".join(parts) == text
    assert len(parts) == info.segments
    measure = gsm7_septets if info.encoding is GSM else ucs2_units
    single, per_part = (160, 153) if info.encoding is GSM else (70, 67)
    if info.segments == 1:
        assert measure(text) <= single
    for part in parts:
        assert measure(part) <= (single if info.segments == 1 else per_part)
    if info.segments > 1:
        # Greedy packing: each part is full up to a character that did not fit.
        for part, following in itertools.pairwise(parts):
            assert measure(part + following[0]) > per_part
        assert info.remaining_in_segment == per_part - measure(parts[-1])


@given(st.text(alphabet=st.sampled_from(GSM7_BASIC_CHARS), min_size=1, max_size=600))
def test_plain_gsm_text_counts_one_septet_per_character(text: str) -> None:
    info = analyze(text)
    assert info.encoding is GSM
    assert info.units == len(text)
    assert info.segments == (1 if len(text) <= 160 else -(-len(text) // 153))


@given(st.text(max_size=300))
def test_fold_never_makes_a_message_longer_in_segments(text: str) -> None:
    folded = fold_to_gsm7(text)
    assert analyze(folded).segments <= analyze(text).segments
    assert folded == text or is_gsm7(folded)


def test_fold_keeps_text_whose_expansion_would_cost_more() -> None:
    text = "…" * 70  # one UCS-2 part; folded it would be 210 septets, two parts
    assert fold_to_gsm7(text) == text
