"""Fellegi–Sunter scoring of a pair of patients, its reasons, and blocking keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.patients.matching import (
    DEFAULT_THRESHOLDS,
    MatchDecision,
    MatchResult,
    MatchThresholds,
    MatchWeights,
    PersonTraits,
    blocking_keys,
    prepare,
    score_pair,
)

MOHAMED = PersonTraits(given_names="Mohamed", family_name="Ould Ahmed", sex="male", birth_year=1980)


def _codes(result: MatchResult) -> set[str]:
    return {r.code for r in result.reasons}


def _weight(result: MatchResult, code: str) -> float:
    return sum(r.weight for r in result.reasons if r.code == code)


class TestNationalId:
    def test_same_nni_is_a_certain_match_whatever_else_differs(self) -> None:
        other = PersonTraits(given_names="Sidi", family_name="Ould Brahim", birth_year=1950)
        result = score_pair(
            replace(MOHAMED, national_id_key="1234567890"),
            replace(other, national_id_key="1234567890"),
        )
        assert result.certain
        assert result.score == 1.0
        assert result.decision is MatchDecision.MATCH
        assert "nni_same" in _codes(result)

    def test_different_nnis_are_strong_evidence_of_two_people(self) -> None:
        plain = score_pair(MOHAMED, MOHAMED)
        result = score_pair(
            replace(MOHAMED, national_id_key="1234567890"),
            replace(MOHAMED, national_id_key="9876543210"),
        )
        assert plain.decision is MatchDecision.POSSIBLE
        assert result.decision is MatchDecision.NON_MATCH
        assert _weight(result, "nni_differs") <= -10
        assert not result.certain

    def test_one_missing_nni_says_nothing(self) -> None:
        result = score_pair(replace(MOHAMED, national_id_key="1234567890"), MOHAMED)
        assert result.score == score_pair(MOHAMED, MOHAMED).score


class TestSex:
    def test_different_sex_is_strong_evidence_against(self) -> None:
        same_dob = replace(MOHAMED, birth_date=date(1980, 3, 4))
        result = score_pair(same_dob, replace(same_dob, sex="female"))
        assert _weight(result, "sex_differs") <= -5
        assert result.decision is MatchDecision.NON_MATCH

    def test_unknown_sex_is_not_compared(self) -> None:
        result = score_pair(MOHAMED, replace(MOHAMED, sex="unknown"))
        assert not _codes(result) & {"sex_same", "sex_differs"}


class TestPhone:
    def test_shared_phone_is_weak_evidence(self) -> None:
        a = replace(MOHAMED, phone_key="p1")
        personal = score_pair(a, replace(MOHAMED, phone_key="p1"))
        shared = score_pair(a, replace(MOHAMED, phone_key="p1", phone_shared=True))
        none = score_pair(MOHAMED, MOHAMED)
        assert none.score < shared.score < personal.score
        assert "phone_same_shared" in _codes(shared)

    def test_brother_on_the_family_phone_is_not_a_duplicate(self) -> None:
        brother = PersonTraits(
            given_names="Sidi", family_name="Ould Ahmed", sex="male", birth_year=1984,
            phone_key="p1", phone_shared=True, region="Trarza",
        )  # fmt: skip
        result = score_pair(replace(MOHAMED, phone_key="p1", region="Trarza"), brother)
        assert result.decision is MatchDecision.NON_MATCH

    def test_different_phones_count_a_little_against(self) -> None:
        result = score_pair(replace(MOHAMED, phone_key="p1"), replace(MOHAMED, phone_key="p2"))
        assert -1 < _weight(result, "phone_differs") < 0


class TestBirth:
    def test_estimated_year_agrees_within_two_years(self) -> None:
        estimated = replace(MOHAMED, birth_year_estimated=True)
        for other_year in (1978, 1979, 1981, 1982):
            result = score_pair(estimated, replace(MOHAMED, birth_year=other_year))
            assert _weight(result, "birth_years_agree") > 0, other_year
        result = score_pair(estimated, replace(MOHAMED, birth_year=1983))
        assert _weight(result, "birth_years_differ") < 0

    def test_declared_years_two_apart_disagree(self) -> None:
        result = score_pair(MOHAMED, replace(MOHAMED, birth_year=1982))
        assert _weight(result, "birth_years_differ") <= -5

    def test_declared_years_one_apart_count_slightly_against(self) -> None:
        result = score_pair(MOHAMED, replace(MOHAMED, birth_year=1981))
        assert -2 < _weight(result, "birth_years_one_apart") < 0

    def test_same_full_date_is_stronger_than_same_year(self) -> None:
        dated = replace(MOHAMED, birth_date=date(1980, 5, 17))
        assert score_pair(dated, dated).score > score_pair(MOHAMED, MOHAMED).score
        assert "birth_date_same" in _codes(score_pair(dated, dated))

    def test_day_month_swap_is_recognised(self) -> None:
        result = score_pair(
            replace(MOHAMED, birth_date=date(1980, 5, 7)),
            replace(MOHAMED, birth_date=date(1980, 7, 5)),
        )
        assert _weight(result, "birth_date_swapped") > 0
        assert result.decision is not MatchDecision.NON_MATCH

    def test_placeholder_date_of_an_estimated_year_counts_as_a_year(self) -> None:
        placeholder = replace(MOHAMED, birth_date=date(1980, 1, 1), birth_year_estimated=True)
        result = score_pair(placeholder, replace(MOHAMED, birth_date=date(1980, 9, 30)))
        assert "birth_year_same" in _codes(result)
        assert "birth_date_same_year" not in _codes(result)

    def test_message_names_the_estimated_year_first(self) -> None:
        estimated = replace(MOHAMED, birth_year=1979, birth_year_estimated=True)
        result = score_pair(replace(MOHAMED, birth_year=1981), estimated)
        texts = {r.message.render() for r in result.reasons}
        assert "birth years 1979 (estimated) and 1981 agree" in texts


class TestNames:
    def test_swapped_given_and_family_names_still_match(self) -> None:
        a = PersonTraits(given_names="Mamadou", family_name="Diallo", sex="male", birth_year=1990)
        b = replace(a, given_names="Diallo", family_name="Mamadou")
        assert score_pair(a, b).score == score_pair(a, a).score

    def test_missing_ould_does_not_count_against(self) -> None:
        assert score_pair(MOHAMED, replace(MOHAMED, family_name="Ahmed")).score == (
            score_pair(MOHAMED, MOHAMED).score
        )

    def test_father_and_son_with_swapped_names_are_told_apart(self) -> None:
        son = replace(MOHAMED, given_names="Ahmed", family_name="Ould Mohamed")
        result = score_pair(MOHAMED, son)
        assert _weight(result, "patronym_reversed") < 0
        assert result.decision is MatchDecision.NON_MATCH

    def test_ould_and_mint_count_against_only_when_sex_is_unknown(self) -> None:
        a = PersonTraits(given_names="Salka", family_name="Ould Ahmed")
        b = PersonTraits(given_names="Salka", family_name="Mint Ahmed")
        assert "filiation_differs" in _codes(score_pair(a, b))
        sexed = score_pair(replace(a, sex="male"), replace(b, sex="female"))
        assert "filiation_differs" not in _codes(sexed)

    def test_rare_names_weigh_more_than_common_ones(self) -> None:
        rare = PersonTraits(given_names="Tijani", family_name="Ould Boye")
        assert score_pair(rare, rare).score > score_pair(MOHAMED, MOHAMED).score

    def test_a_name_in_one_record_only_is_mild(self) -> None:
        longer = replace(MOHAMED, given_names="Mohamed Salem")
        result = score_pair(MOHAMED, longer)
        assert -1 <= _weight(result, "name_missing") < 0

    def test_repeated_token_is_aligned_once(self) -> None:
        a = PersonTraits(given_names="Mohamed", family_name="Ould Mohamed")
        b = PersonTraits(given_names="Mohamed", family_name="Ould Sidi")
        result = score_pair(a, b)
        assert _codes(result) >= {"name_same", "name_different"}


class TestAddress:
    def test_same_district_helps_and_other_region_hurts_a_little(self) -> None:
        here = replace(MOHAMED, region="Trarza", district="Rosso")
        assert _weight(score_pair(here, here), "address_same_district") > 0
        there = replace(MOHAMED, region="Hodh Ech Chargui", district="Néma")
        assert -1 <= _weight(score_pair(here, there), "address_differs") < 0

    def test_region_names_are_compared_normalised(self) -> None:
        a = replace(MOHAMED, region="Nouakchott-Nord")
        b = replace(MOHAMED, region="NOUAKCHOTT NORD")
        assert "address_same_region" in _codes(score_pair(a, b))


class TestParameters:
    def test_thresholds_decide(self) -> None:
        result = score_pair(MOHAMED, MOHAMED)
        strict = score_pair(MOHAMED, MOHAMED, thresholds=MatchThresholds(0.999, 0.99))
        lenient = score_pair(MOHAMED, MOHAMED, thresholds=MatchThresholds(0.3, 0.1))
        assert DEFAULT_THRESHOLDS.possible <= result.score < DEFAULT_THRESHOLDS.match
        assert strict.decision is MatchDecision.NON_MATCH
        assert lenient.decision is MatchDecision.MATCH

    def test_weights_are_used(self) -> None:
        heavy_sex = MatchWeights(sex_same=8.0)
        assert score_pair(MOHAMED, MOHAMED, weights=heavy_sex).score > (
            score_pair(MOHAMED, MOHAMED).score
        )

    def test_reasons_are_ordered_strongest_first(self) -> None:
        result = score_pair(replace(MOHAMED, phone_key="p"), replace(MOHAMED, phone_key="p"))
        weights = [abs(r.weight) for r in result.reasons]
        assert weights == sorted(weights, reverse=True)

    def test_empty_records_are_not_duplicates(self) -> None:
        result = score_pair(PersonTraits(), PersonTraits())
        assert result.decision is MatchDecision.NON_MATCH
        assert result.reasons == ()


class TestBlockingKeys:
    def test_identifiers_become_keys(self) -> None:
        keys = blocking_keys(replace(MOHAMED, national_id_key="n1", phone_key="p1"))
        assert {"id:n1", "ph:p1"} <= keys

    def test_name_pairs_ignore_order_and_known_variants(self) -> None:
        a = blocking_keys(PersonTraits(given_names="Hmeida", family_name="Ould Sidi"))
        b = blocking_keys(PersonTraits(given_names="Sidi", family_name="Ould Ahmed"))
        assert a & b == {"nn:AHMD|SD"}

    def test_estimated_year_reaches_the_next_decade(self) -> None:
        person = PersonTraits(
            given_names="Tijani", sex="male", birth_year=1979, birth_year_estimated=True
        )
        keys = blocking_keys(person)
        assert {"nd:TJN:197", "nd:TJN:198", "gs:TJN:male:197", "gs:TJN:male:198"} <= keys

    def test_common_names_alone_do_not_make_decade_keys(self) -> None:
        assert not any(k.startswith("nd:") for k in blocking_keys(MOHAMED))

    def test_arabic_and_latin_records_meet(self) -> None:
        arabic = PersonTraits(given_names="يعقوب", family_name="ولد سيدينا")
        latin = PersonTraits(given_names="Yacoub", family_name="Ould Sidina")
        assert blocking_keys(arabic) == blocking_keys(latin)

    def test_unrelated_people_share_no_key(self) -> None:
        other = PersonTraits(
            given_names="Aminata", family_name="Diallo", sex="female", birth_year=1992
        )
        assert not blocking_keys(MOHAMED) & blocking_keys(other)

    def test_prepared_and_raw_traits_give_the_same_keys(self) -> None:
        assert blocking_keys(prepare(MOHAMED)) == blocking_keys(MOHAMED)


_NAMES = st.sampled_from(
    ["Mohamed", "Mouhamed", "Ahmed", "Hmeida", "Mahmoud", "Fatimetou", "Fatma", "Sidi",
     "Ould Ahmed", "Mint Sidi", "O. Ahmed", "محمد", "ولد أحمد", "Diallo", "Mamadou", ""]
)  # fmt: skip
_TRAITS = st.builds(
    PersonTraits,
    given_names=_NAMES | st.text(max_size=12),
    family_name=_NAMES,
    sex=st.sampled_from(["female", "male", "other", "unknown", None]),
    birth_date=st.none() | st.dates(date(1900, 1, 1), date(2025, 1, 1)),
    birth_year=st.none() | st.integers(1900, 2025),
    birth_year_estimated=st.booleans(),
    phone_key=st.sampled_from([None, "p1", "p2"]),
    phone_shared=st.booleans(),
    national_id_key=st.sampled_from([None, None, "n1", "n2"]),
    region=st.sampled_from([None, "Trarza", "Adrar"]),
    district=st.sampled_from([None, "Rosso", "Atar"]),
)


@given(_TRAITS, _TRAITS)
def test_score_is_symmetric_and_a_probability(a: PersonTraits, b: PersonTraits) -> None:
    forward, backward = score_pair(a, b), score_pair(b, a)
    assert forward.score == backward.score
    assert forward.decision is backward.decision
    assert 0.0 <= forward.score <= 1.0
    if forward.score >= DEFAULT_THRESHOLDS.match:
        assert forward.decision is MatchDecision.MATCH
    elif forward.score < DEFAULT_THRESHOLDS.possible:
        assert forward.decision is MatchDecision.NON_MATCH


@given(_TRAITS, _TRAITS)
def test_prepared_traits_score_like_raw_ones(a: PersonTraits, b: PersonTraits) -> None:
    assert score_pair(prepare(a), b).score == score_pair(a, b).score


@given(_TRAITS)
def test_a_record_compared_with_itself_has_only_favourable_evidence(a: PersonTraits) -> None:
    assert all(r.weight >= 0 for r in score_pair(a, a).reasons)
