"""Pure rules of the registry: whole-form validation, identifiers, payers, MRN sites,
references, merge choices and index keys."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from afiya.domain.patients.matching import PersonTraits
from afiya.domain.patients.merge import merged_identity
from afiya.domain.patients.model import (
    Address,
    EmergencyContact,
    Identifier,
    Patient,
    Payer,
    PayerKind,
    Phone,
)
from afiya.domain.patients.mrn import check_site_prefix, site_prefix_candidates
from afiya.domain.patients.references import (
    register_reference,
    registered_references,
    unregister_reference,
)
from afiya.domain.patients.use_cases import index_keys, name_search_keys
from afiya.domain.patients.validation import (
    check_identifier,
    check_identity,
    check_payer,
    completeness,
    normalized,
)

TODAY = date(2026, 1, 15)


def _patient(**values) -> Patient:
    base = dict(
        id=uuid4(),
        mrn="",
        unit_id=uuid4(),
        unit_path="/a/",
        given_names="Mohamed",
        family_name="Ould Ahmed",
        sex="male",
        birth_year=1980,
    )
    base.update(values)
    return Patient(**base)


class TestWholeFormValidation:
    def test_a_valid_identity_has_no_error(self) -> None:
        assert check_identity(_patient(phones=(Phone("36123456"),)), today=TODAY) == []

    def test_every_problem_is_reported_with_its_field(self) -> None:
        patient = _patient(
            given_names="",
            family_name=" ",
            sex="x",
            birth_year=None,
            birth_date=date(2030, 1, 1),
            nni="12",
            nss="1",
            language="klingon",
            phones=(Phone("36123456"), Phone("+222 36 12 34 56"), Phone("999")),
            contacts=(EmergencyContact(" ", phone="0"),),
        )
        fields = [e.field for e in check_identity(patient, today=TODAY)]
        assert fields == [
            "given_names",
            "family_name",
            "sex",
            "birth_date",
            "phones.1.number",
            "phones.2.number",
            "nni",
            "nss",
            "language",
            "contacts.0.name",
            "contacts.0.phone",
        ]

    def test_arabic_names_alone_are_enough(self) -> None:
        patient = _patient(
            given_names="", family_name="", given_names_ar="محمد", family_name_ar="أحمد"
        )
        assert check_identity(patient, today=TODAY) == []

    def test_birth_year_must_agree_with_the_date_and_one_is_needed(self) -> None:
        mismatch = _patient(birth_date=date(1981, 5, 1), birth_year=1980)
        assert [e.code for e in check_identity(mismatch, today=TODAY)] == ["mismatch"]
        neither = _patient(birth_year=None)
        assert [e.field for e in check_identity(neither, today=TODAY)] == ["birth_year"]
        too_old = _patient(birth_year=1890)
        assert [e.code for e in check_identity(too_old, today=TODAY)] == ["implausible_age"]

    def test_sms_consent_needs_a_phone(self) -> None:
        assert [e.field for e in check_identity(_patient(sms_consent=True), today=TODAY)] == [
            "sms_consent"
        ]

    def test_normalisation_gives_e164_digits_and_canonical_sex(self) -> None:
        patient = normalized(
            _patient(
                sex="Homme",
                nni="12 34 56 78 90",
                phones=(Phone("36 12 34 56"),),
                birth_date=date(1980, 2, 3),
                birth_year=None,
                given_names=" Sid  Ahmed ",
            )
        )
        assert (patient.sex, patient.nni, patient.phones[0].number) == (
            "male",
            "1234567890",
            "+22236123456",
        )
        assert patient.birth_year == 1980 and patient.given_names == "Sid Ahmed"


class TestIdentifiersAndPayers:
    @pytest.mark.parametrize(
        ("identifier", "codes"),
        [
            (Identifier("passport", "b1234567"), []),
            (Identifier("passport", "12"), ["invalid_format"]),
            (Identifier("nni", "1234567890"), ["reserved"]),
            (Identifier("Carte Vitale", "1"), ["invalid_format"]),
            (Identifier("village_register", "  "), ["required"]),
            (Identifier("village_register", "R-12", issuer="x" * 101), ["too_long"]),
        ],
    )
    def test_identifier_rules(self, identifier: Identifier, codes: list[str]) -> None:
        assert [e.code for e in check_identifier(identifier)] == codes

    def test_payer_rules(self) -> None:
        ok = Payer(
            PayerKind.CNAM, "CNAM", Decimal("80"), "P1", date(2025, 1, 1), date(2025, 12, 31)
        )
        assert check_payer(ok) == [] and ok.covers(date(2025, 6, 1)) and not ok.covers(TODAY)
        bad = Payer(
            PayerKind.EMPLOYER, " ", Decimal("120"), None, date(2025, 2, 1), date(2025, 1, 1)
        )
        assert [e.field for e in check_payer(bad)] == ["name", "coverage_rate", "valid_to"]


def test_completeness_counts_identity_fields() -> None:
    bare = completeness(_patient())
    full = completeness(
        _patient(
            birth_date=date(1980, 1, 2),
            nni="1234567890",
            phones=(Phone("+22236123456"),),
            address=Address("Nouakchott-Ouest", "Tevragh Zeina"),
        )
    )
    assert full.score == 100 and full.missing == ()
    assert bare.score < full.score and "phone" in bare.missing


def test_site_prefixes_come_from_the_facility_code_and_are_valid() -> None:
    candidates = site_prefix_candidates("CH-TZ", "aB3dE5fG7hI")
    assert candidates[0] == "CHTZ" and len(set(candidates)) == len(candidates) > 10
    assert all(check_site_prefix(c) == [] for c in candidates)
    assert site_prefix_candidates("CH-NEMA", "x")[0] == "CHNEM"
    assert all(check_site_prefix(c) == [] for c in site_prefix_candidates(None, "aB3dE5fG7hI"))


def test_modules_register_references_once_and_merges_see_them() -> None:
    keys = {r.key for r in registered_references()}
    assert {"patient_phone.patient_id", "patient_payer.patient_id"} <= keys
    register_reference("visit", "patient_id", module="visits")
    register_reference("visit", "patient_id", module="visits")  # idempotent
    try:
        assert "visit.patient_id" in {r.key for r in registered_references()}
        with pytest.raises(ValueError, match="already registered"):
            register_reference("visit", "patient_id", module="other")
    finally:
        unregister_reference("visit", "patient_id")


def test_merge_choices_take_field_groups_from_the_duplicate() -> None:
    survivor = _patient(language="fr", nni=None)
    duplicate = _patient(
        given_names="Mouhamed",
        birth_date=date(1980, 3, 4),
        birth_year=1980,
        birth_year_estimated=False,
        nni="1122334455",
        language="ar",
    )
    merged = merged_identity(survivor, duplicate, {"birth": "duplicate", "nni": "duplicate"})
    assert (merged.birth_date, merged.nni, merged.language, merged.given_names) == (
        date(1980, 3, 4),
        "1122334455",
        "fr",
        "Mohamed",
    )
    assert merged.id == survivor.id


def test_index_keys_add_one_key_per_name_and_every_phone() -> None:
    traits = PersonTraits(
        given_names="Mohamed", family_name="Ould Ahmed", sex="male", birth_year=1980
    )
    keys = index_keys(traits, frozenset({"aa", "bb"}))
    assert name_search_keys(traits) == {"t:MHMD", "t:AHMD"}
    assert {"t:MHMD", "t:AHMD", "ph:aa", "ph:bb"} <= keys
    assert any(k.startswith("nn:") for k in keys)
