"""Data-quality rules: dates, phones, national ids, sex, completeness."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from afiya.domain.patients.matching import PersonTraits
from afiya.domain.patients.rules import (
    COMPLETENESS_POINTS,
    MAX_AGE_YEARS,
    Country,
    check_birth_date,
    check_estimated_birth_year,
    check_nni,
    check_nss,
    check_phone,
    check_sex,
    completeness_score,
    normalize_nni,
    normalize_phone,
    normalize_sex,
)

TODAY = date(2025, 6, 15)


class TestBirthDate:
    def test_past_date_is_fine(self) -> None:
        assert check_birth_date(date(1980, 3, 1), today=TODAY) == []
        assert check_birth_date(TODAY, today=TODAY) == []
        assert check_birth_date(None, today=TODAY) == []

    def test_future_date_is_rejected(self) -> None:
        [error] = check_birth_date(date(2025, 6, 16), today=TODAY)
        assert (error.field, error.code) == ("birth_date", "in_future")
        assert error.message.msgid == "The date of birth cannot be in the future."

    def test_age_over_120_is_implausible(self) -> None:
        assert check_birth_date(date(1904, 6, 16), today=TODAY) == []  # 121 only tomorrow
        [error] = check_birth_date(date(1904, 6, 15), today=TODAY)  # 121 today
        assert error.code == "implausible_age"
        assert error.message.params == {"max_age": MAX_AGE_YEARS}

    def test_field_name_is_configurable(self) -> None:
        [error] = check_birth_date(date(2030, 1, 1), today=TODAY, field="mother.birth_date")
        assert error.field == "mother.birth_date"


class TestEstimatedBirthYear:
    @pytest.mark.parametrize("year", [1905, 1980, 2025, None])
    def test_plausible_years(self, year: int | None) -> None:
        assert check_estimated_birth_year(year, today=TODAY) == []

    @pytest.mark.parametrize(("year", "code"), [(2026, "in_future"), (1904, "implausible_age")])
    def test_implausible_years(self, year: int, code: str) -> None:
        [error] = check_estimated_birth_year(year, today=TODAY)
        assert (error.field, error.code) == ("birth_year", code)


class TestPhone:
    @pytest.mark.parametrize(
        ("raw", "country", "expected"),
        [
            ("36 12 34 56", "MR", "+22236123456"),
            ("36.12.34.56", "MR", "+22236123456"),
            ("46-12-34-56", "MR", "+22246123456"),
            ("+222 22 12 34 56", "MR", "+22222123456"),
            ("00222 36123456", "ML", "+22236123456"),
            ("22236123456", "MR", "+22236123456"),
            ("76 12 34 56", "ML", "+22376123456"),
            ("+223 76 12 34 56", "MR", "+22376123456"),
            ("96 12 34 56", "NE", "+22796123456"),
            ("77 123 45 67", "SN", "+221771234567"),
            ("+33 6 12 34 56 78", "MR", "+33612345678"),
        ],
    )
    def test_valid_numbers_are_normalised_to_e164(
        self, raw: str, country: Country, expected: str
    ) -> None:
        assert normalize_phone(raw, default_country=country) == expected
        assert check_phone(raw, default_country=country) == []

    @pytest.mark.parametrize(
        ("raw", "country", "code"),
        [
            ("56 12 34 56", "MR", "invalid_prefix"),  # Mauritanian numbers start 2, 3 or 4
            ("+222 16 12 34 56", "ML", "invalid_prefix"),
            ("36 12 34 5", "MR", "invalid_length"),
            ("+222 36 12 34 567", "MR", "invalid_length"),
            ("+223 7612345", "MR", "invalid_length"),
            ("+221 77 123 45 6", "MR", "invalid_length"),
            ("77 123 45 67", "MR", "invalid_length"),  # a Senegal number without its code
            ("36 12 34 5x", "MR", "invalid_characters"),
            ("+0 123 456 789", "MR", "invalid_format"),
            ("+1 234", "MR", "invalid_format"),
        ],
    )
    def test_invalid_numbers_say_why(self, raw: str, country: Country, code: str) -> None:
        assert normalize_phone(raw, default_country=country) is None
        [error] = check_phone(raw, default_country=country)
        assert (error.field, error.code) == ("phone", code)

    def test_message_names_the_plan(self) -> None:
        [error] = check_phone("+222 56 12 34 56", field="contacts.0.phone")
        assert error.field == "contacts.0.phone"
        assert error.message.render() == (
            "Phone numbers with country code +222 start with 2, 3, 4."
        )

    def test_blank_is_not_an_error(self) -> None:
        assert check_phone(None) == []
        assert check_phone("   ") == []


class TestNationalIds:
    def test_nni_has_ten_digits(self) -> None:
        assert normalize_nni("12 3456 7890") == "1234567890"
        assert check_nni("1234567890") == []
        assert check_nni(None) == []
        for bad in ("123456789", "12345678901", "12345678a0", "١٢٣٤٥٦٧٨٩٠"):
            assert normalize_nni(bad) is None
            [error] = check_nni(bad)
            assert (error.field, error.code) == ("nni", "invalid_format")

    @pytest.mark.parametrize("raw", ["123456", "123 456 789 012 345", "0000001"])
    def test_nss_with_6_to_15_digits(self, raw: str) -> None:
        assert check_nss(raw) == []

    @pytest.mark.parametrize("raw", ["12345", "1234567890123456", "12A456"])
    def test_nss_out_of_shape(self, raw: str) -> None:
        [error] = check_nss(raw)
        assert error.message.render() == "The social security number has 6 to 15 digits."


class TestSex:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("female", "female"),
            ("F", "female"),
            ("Femme", "female"),
            ("Féminin", "female"),
            ("أنثى", "female"),
            ("M", "male"),
            ("H", "male"),
            ("homme", "male"),
            ("Garçon", "male"),
            ("ذكر", "male"),
            ("autre", "other"),
            ("Inconnu", "unknown"),
            ("  male ", "male"),
        ],
    )
    def test_known_values(self, raw: str, expected: str) -> None:
        assert normalize_sex(raw) == expected
        assert check_sex(raw) == []

    @pytest.mark.parametrize("raw", ["x", "", "mâle et femelle", "2"])
    def test_unknown_values(self, raw: str) -> None:
        assert normalize_sex(raw) is None
        [error] = check_sex(raw)
        assert error.code == "invalid_choice"


class TestCompleteness:
    def test_points_add_up_to_100(self) -> None:
        assert sum(COMPLETENESS_POINTS.values()) == 100

    def test_complete_record(self) -> None:
        full = PersonTraits(
            given_names="Mohamed", family_name="Ould Ahmed", sex="male",
            birth_date=date(1980, 1, 2), phone_key="p", national_id_key="n",
            region="Trarza", district="Rosso",
        )  # fmt: skip
        assert completeness_score(full) == (100, ())

    def test_empty_record(self) -> None:
        score, missing = completeness_score(PersonTraits(sex="unknown"))
        assert score == 0
        assert missing == tuple(COMPLETENESS_POINTS)

    def test_birth_year_only_earns_part_of_the_date(self) -> None:
        named = PersonTraits(given_names="Awa", family_name="Diallo", sex="female")
        declared = completeness_score(replace(named, birth_year=1990))
        estimated = completeness_score(replace(named, birth_year=1990, birth_year_estimated=True))
        assert declared == (62, ("birth_date", "phone", "national_id", "region", "district"))
        assert estimated[0] == 58
        assert "birth_date" in estimated[1]
