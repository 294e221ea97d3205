"""The matching classifier on a table of real-world name variants and look-alike names.

Rows: left name, right name ("given|family"), sex of each, whether they are the same
person, and birth years (both 1985 by default: the hard case for different people, whom
only their names can tell apart). Precision and recall are printed with the test output.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from afiya.domain.patients.matching import (
    MatchDecision,
    PersonTraits,
    Sex,
    blocking_keys,
    score_pair,
)


class NamePair(NamedTuple):
    left: str
    right: str
    left_sex: Sex
    right_sex: Sex
    same_person: bool
    years: tuple[int, int] = (1985, 1985)


SAME = [
    NamePair("Mohamed|Ould Ahmed", "Mouhamed|Ould Ahmed", "male", "male", True),
    NamePair("Mohamed|Ould Ahmed", "Mohammed|O. Ahmed", "male", "male", True),
    NamePair("Muhammad|Ould Ahmad", "Mohamed|Ould Ahmed", "male", "male", True),
    NamePair("Mhamed|Ould Sidi", "Mohamed|Ould Sidi", "male", "male", True),
    NamePair("Mohamed|Ould Ahmed", "محمد ولد أحمد|", "male", "male", True),
    NamePair("Fatimetou|Mint Sidi", "Fatma|Mint Sidi", "female", "female", True),
    NamePair("Fatimata|Mint Brahim", "Fatimetou|Mint Ibrahim", "female", "female", True),
    NamePair("Fatimetou|Mint Ahmed", "فاطمة|بنت أحمد", "female", "female", True),
    NamePair("Aminetou|Mint Cheikh", "Aminata|Mint Sheikh", "female", "female", True),
    NamePair("Amina|Mint Moctar", "Aminetou|Mint El Mokhtar", "female", "female", True),
    NamePair("Mariem|Mint Abdallahi", "Mariam|Mint Abdellahi", "female", "female", True),
    NamePair("Meriem|Mint Moussa", "مريم بنت موسى|", "female", "female", True),
    NamePair("Khadijetou|Mint Ahmed", "Khadija|Mint Ahmed", "female", "female", True),
    NamePair("Khadi|Mint Hmeida", "Khadijetou|Mint Ahmed", "female", "female", True),
    NamePair("Ahmed|Ould Cheikh", "Hmeida|Ould Cheikh", "male", "male", True),
    NamePair("Abdallahi|Ould Mohamed", "Abdoulaye|Ould Mohamed", "male", "male", True),
    NamePair("Cheikh|Ould Sidi", "Chekh|Ould Sidi", "male", "male", True),
    NamePair("Sid'Ahmed|Ould Brahim", "Sidi Ahmed|Ould Brahim", "male", "male", True),
    NamePair("Mamadou|Diallo", "Mamoudou|Diallo", "male", "male", True),
    NamePair("Mamadou|Diallo", "Diallo|Mamadou", "male", "male", True),
    NamePair("Abdel Kader|Ould Mohamed", "Abdelkader|Ould Mohamed", "male", "male", True),
    NamePair("Abdoulkader|Traoré", "عبد القادر|تراوري", "male", "male", True),
    NamePair("El Hadj Oumar|Tall", "Elhadj Omar|Tall", "male", "male", True),
    NamePair("Moctar|Ould Salem", "El Moctar|Ould Salem", "male", "male", True),
    NamePair("Mohamed Lemine|Ould Ahmed", "Mohamed El Amine|Ould Ahmed", "male", "male", True),
    NamePair("Mohamedlemine|Ould Ahmed", "Mohamed Lemine|Ould Ahmed", "male", "male", True),
    NamePair("Aicha|Mint Bilal", "Aichetou|Mint Bilal", "female", "female", True),
    NamePair("Zeinebou|Mint Sidi", "Zeinab|Mint Sidi", "female", "female", True),
    NamePair("Oumar|Coulibaly", "Omar|Kulibali", "male", "male", True),
    NamePair("Ousmane|Keïta", "Ousmane|KEITA", "male", "male", True),
    NamePair("Boubacar|Traoré", "Aboubacar|Traore", "male", "male", True),
    NamePair("Ibrahim|Maïga", "Brahim|Maiga", "male", "male", True),
    NamePair("Moussa|Sangaré", "Mousa|Sangare", "male", "male", True),
    NamePair("Youssouf|Cissé", "Youssef|Cisse", "male", "male", True),
    NamePair("Hawa|Sidibé", "Awa|Sidibe", "female", "female", True),
    NamePair("Aminata|Touré", "Aminetou|Toure", "female", "female", True),
    NamePair("Mahamadou|Issoufou", "Mohamed|Issoufou", "male", "male", True),
    NamePair("Hassan|Ould Mbareck", "Hacen|Ould M'Bareck", "male", "male", True),
    NamePair("Yahya|Ould Ahmed Salem", "Yahia|Ould Ahmed Salem", "male", "male", True),
    NamePair("Souleymane|Diarra", "Sleimane|Diarra", "male", "male", True),
    NamePair("Mohamed Vall|Ould Bellal", "Mohamed Fall|Ould Bellal", "male", "male", True),
    NamePair("Fatimetou Zahra|Mint Ahmed", "Fatima Zahra|Mint Ahmed", "female", "female", True),
    NamePair("Salka|Mint Mohamed", "Salka|Mint Mouhamed", "female", "female", True),
    NamePair("Mariem|Mint Ahmed", "مريم|منت احمد", "female", "female", True),
    NamePair("Abderrahmane|Ould Sidi", "Abdourahmane|Ould Sidi", "male", "male", True),
    NamePair("Ismail|Ould Cheikh", "Smail|Ould Cheikh", "male", "male", True),
    NamePair("Khadijetou|Mint Mahfoudh", "Kadiatou|Mint Mahfoud", "female", "female", True),
    NamePair("Mohamed|Ahmed", "Mohamed|Ould Ahmed", "male", "male", True),
    NamePair("Tijani|Ould Boye", "Tidjani|Ould Boye", "male", "male", True),
    NamePair("Yacoub|Ould Sidina", "يعقوب ولد سيدينا|", "male", "male", True),
    NamePair("Mamadou|Ba", "Mamadou|Bah", "male", "male", True),
    NamePair("Ech-Cheikh|Ould Baba", "Cheikh|Ould Baba", "male", "male", True),
    NamePair("Abdel Aziz|Ould Bouh", "عبد العزيز|ولد بوه", "male", "male", True),
    NamePair("Ahmedou|Ould Bamba", "Ahmed|Ould Bamba", "male", "male", True),
]

DIFFERENT = [
    NamePair("Mohamed|Ould Ahmed", "Mohamed|Ould Mahmoud", "male", "male", False),
    NamePair("Fatimetou|Mint Ahmed", "Fatimetou|Mint Sidi", "female", "female", False),
    NamePair("Aminata|Diallo", "Amadou|Diallo", "female", "male", False),
    NamePair("Mohamed|Ould Ahmed", "Ahmed|Ould Mohamed", "male", "male", False),
    NamePair("Mohamed|Ould Ahmed", "Fatimetou|Mint Ahmed", "male", "female", False),
    NamePair("Mohamed|Ould Sidi", "Mahmoud|Ould Sidi", "male", "male", False),
    NamePair("Hassan|Ould Brahim", "Hussein|Ould Brahim", "male", "male", False),
    NamePair("Mamadou|Diallo", "Amadou|Diallo", "male", "male", False),
    NamePair("Aminata|Traoré", "Aminata|Coulibaly", "female", "female", False),
    NamePair("Moussa|Keïta", "Moussa|Konaté", "male", "male", False),
    NamePair("Khadijetou|Mint Ahmed", "Mariem|Mint Ahmed", "female", "female", False),
    NamePair("Cheikh|Ould Sidi", "Sidi|Ould Cheikh", "male", "male", False),
    NamePair("Mohamed Lemine|Ould Ahmed", "Mohamed Salem|Ould Ahmed", "male", "male", False),
    NamePair("Abdallahi|Ould Mohamed", "Abderrahmane|Ould Mohamed", "male", "male", False),
    NamePair("Ahmed|Ould Cheikh", "Hamid|Ould Cheikh", "male", "male", False),
    NamePair("Oumar|Sow", "Omar|Sy", "male", "male", False),
    NamePair("Mariem|Mint Moussa", "Mariem|Mint Moussa", "female", "female", False, (1960, 1995)),
    NamePair("Mohamed|Ould Ahmed", "Mohamed|Ould Ahmed", "male", "male", False, (1980, 2001)),
    NamePair("Aicha|Mint Ahmed", "Issa|Ould Ahmed", "female", "male", False),
    NamePair("Zeinebou|Mint Sidi", "Zeinebou|Mint Cheikh", "female", "female", False),
    NamePair("Fatimata|Sow", "Fatoumata|Ba", "female", "female", False),
    NamePair("Ibrahima|Traoré", "Ibrahima|Diarra", "male", "male", False),
    NamePair("Ahmed|Ould Salem", "Ahmed|Ould Saleck", "male", "male", False),
    NamePair("Cheikh Tidiane|Diallo", "Cheikh Oumar|Diallo", "male", "male", False),
    NamePair("Moussa|Coulibaly", "Moussa|Coulibaly", "male", "male", False, (1950, 1990)),
    NamePair("محمد ولد أحمد|", "Mohamed|Ould Mahmoud", "male", "male", False),
    NamePair("فاطمة بنت سيدي|", "Fatimetou|Mint Ahmed", "female", "female", False),
    NamePair("Aminetou|Mint Brahim", "Mounina|Mint Brahim", "female", "female", False),
    NamePair("Sidi Mohamed|Ould Cheikh", "Sidi Ahmed|Ould Cheikh", "male", "male", False),
    NamePair("Mamadou|Traoré", "Mamadou|Traoré", "male", "male", False, (1970, 1992)),
    NamePair("Ousmane|Keïta", "Ousmane|Kanté", "male", "male", False),
    NamePair("Hawa|Diarra", "Awa|Diallo", "female", "female", False),
    NamePair("Abdel Kader|Ould Sidi", "Abdel Aziz|Ould Sidi", "male", "male", False),
    NamePair("Yacoub|Ould Sidina", "Yahya|Ould Sidina", "male", "male", False),
    NamePair("Khadi|Mint Hmeida", "Khadi|Mint Hamid", "female", "female", False),
    NamePair("Aissata|Ba", "Issa|Ba", "female", "male", False),
    NamePair("Lemine|Ould Sidi", "Amina|Mint Sidi", "male", "female", False),
    NamePair("Mohamed|Ould Cheikh", "Mohamed|Ould Cheikhna", "male", "male", False),
    NamePair("Salem|Ould Ahmed", "Brahim|Ould Ahmed", "male", "male", False),
    NamePair("عائشة|بنت محمد", "Khadijetou|Mint Mohamed", "female", "female", False),
]

PAIRS = SAME + DIFFERENT


def _person(spec: str, sex: Sex, year: int) -> PersonTraits:
    given, _, family = spec.partition("|")
    return PersonTraits(given_names=given, family_name=family, sex=sex, birth_year=year)


def _flagged(pair: NamePair) -> bool:
    left = _person(pair.left, pair.left_sex, pair.years[0])
    right = _person(pair.right, pair.right_sex, pair.years[1])
    return score_pair(left, right).decision is not MatchDecision.NON_MATCH


def test_table_is_large_and_balanced() -> None:
    assert len(PAIRS) >= 60
    assert len(SAME) >= 30
    assert len(DIFFERENT) >= 30
    assert any("\u0600" <= c <= "\u06ff" for p in SAME for c in p.left + p.right)
    assert any("\u0600" <= c <= "\u06ff" for p in DIFFERENT for c in p.left + p.right)


@pytest.mark.parametrize("pair", SAME, ids=lambda p: f"{p.left} = {p.right}")
def test_same_person_is_flagged_as_duplicate(pair: NamePair) -> None:
    assert _flagged(pair)


@pytest.mark.parametrize("pair", DIFFERENT, ids=lambda p: f"{p.left} != {p.right}")
def test_different_people_are_not_flagged(pair: NamePair) -> None:
    assert not _flagged(pair)


def test_precision_and_recall_on_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    true_pos = sum(_flagged(p) for p in SAME)
    false_pos = sum(_flagged(p) for p in DIFFERENT)
    false_neg = len(SAME) - true_pos
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 0.0
    recall = true_pos / (true_pos + false_neg)
    with capsys.disabled():
        print(
            f"\n[patients matching] {len(PAIRS)} pairs ({len(SAME)} same, {len(DIFFERENT)}"
            f" different): precision {precision:.3f}, recall {recall:.3f},"
            f" TP={true_pos} FP={false_pos} FN={false_neg}"
        )
    assert precision == 1.0
    assert recall == 1.0


@pytest.mark.parametrize("pair", SAME, ids=lambda p: f"{p.left} = {p.right}")
def test_same_person_shares_a_blocking_key(pair: NamePair) -> None:
    left = _person(pair.left, pair.left_sex, pair.years[0])
    right = _person(pair.right, pair.right_sex, pair.years[1])
    assert blocking_keys(left) & blocking_keys(right)


class TestTheRegistrationDeskScenario:
    """Mouhamed Ould Ahmed, born about 1980, phone X, comes back as Mohamed O. Ahmed, 1981."""

    first = PersonTraits(
        given_names="Mouhamed",
        family_name="Ould Ahmed",
        birth_year=1980,
        birth_year_estimated=True,
        phone_key="bi:22236123456",
    )
    second = PersonTraits(
        given_names="Mohamed", family_name="O. Ahmed", birth_year=1981, phone_key="bi:22236123456"
    )

    def test_is_a_suspected_duplicate(self) -> None:
        result = score_pair(self.first, self.second)
        assert result.decision in (MatchDecision.POSSIBLE, MatchDecision.MATCH)

    def test_reasons_read_like_a_clerk_would_say_them(self) -> None:
        rendered = {r.message.render() for r in score_pair(self.first, self.second).reasons}
        assert "same phone number" in rendered
        assert "names sound alike: Mouhamed ≈ Mohamed" in rendered
        assert "birth years 1980 (estimated) and 1981 agree" in rendered
        assert "same name: Ahmed" in rendered

    def test_is_found_by_one_indexed_lookup(self) -> None:
        assert blocking_keys(self.first) & blocking_keys(self.second)
