"""Validation of whole registration forms, identifiers and payers (every error at once)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from afiya.domain.patients.matching import PersonTraits
from afiya.domain.patients.model import (
    LANGUAGES,
    Completeness,
    EmergencyContact,
    Identifier,
    Patient,
    Payer,
    Phone,
)
from afiya.domain.patients.rules import (
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
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

_TYPE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


@dataclass(frozen=True, slots=True)
class IdentifierType:
    """A kind of identifier: its code, the shape of its value, whether one value is one person."""

    code: str
    pattern: str | None = None  # full-match regular expression on the value as stored
    unique_person: bool = False


IDENTIFIER_TYPES: Mapping[str, IdentifierType] = MappingProxyType(
    {
        "passport": IdentifierType("passport", r"[A-Z0-9]{6,12}", unique_person=True),
        "birth_certificate": IdentifierType("birth_certificate", r"[A-Za-z0-9/\-]{3,30}"),
        "unhcr": IdentifierType("unhcr", r"[A-Z0-9\-]{6,20}", unique_person=True),
        "cnam_card": IdentifierType("cnam_card", r"[0-9A-Z\-]{4,20}"),
        "voter_card": IdentifierType("voter_card", r"[0-9A-Z]{4,20}"),
        "ml_nina": IdentifierType("ml_nina", r"[0-9A-Z]{15}", unique_person=True),
        "ne_nin": IdentifierType("ne_nin", r"[0-9]{8,14}", unique_person=True),
        "other": IdentifierType("other"),
    }
)
"""Known identifier types; any other lowercase code is accepted without a format check.
NNI and NSS are fields of the patient itself (they are matched and searched)."""

RESERVED_IDENTIFIER_TYPES = frozenset({"nni", "nss", "mrn"})


def _err(field: str, code: str, msgid: str, /, **params: object) -> FieldError:
    return FieldError(field, Message(msgid, params), code)


def normalize_identifier_value(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def check_identifier(identifier: Identifier, *, prefix: str = "") -> list[FieldError]:
    """Type code, value shape (for known types) and issuer length."""
    errors: list[FieldError] = []
    if identifier.type in RESERVED_IDENTIFIER_TYPES:
        msgid = N_("Use the patient's own {type} field for this identifier.")
        errors.append(_err(prefix + "type", "reserved", msgid, type=identifier.type))
    elif not _TYPE_CODE.match(identifier.type):
        msgid = N_("An identifier type is a lowercase code of 2 to 32 letters, digits or _.")
        errors.append(_err(prefix + "type", "invalid_format", msgid))
    value = normalize_identifier_value(identifier.value)
    known = IDENTIFIER_TYPES.get(identifier.type)
    if not value:
        errors.append(_err(prefix + "value", "required", N_("The identifier value is required.")))
    elif known and known.pattern and not re.fullmatch(known.pattern, value):
        msgid = N_("This value is not a valid {type} number.")
        errors.append(_err(prefix + "value", "invalid_format", msgid, type=identifier.type))
    if identifier.issuer is not None and len(identifier.issuer) > 100:
        msgid = N_("The issuer is at most {max} characters long.")
        errors.append(_err(prefix + "issuer", "too_long", msgid, max=100))
    return errors


def check_payer(payer: Payer, *, prefix: str = "") -> list[FieldError]:
    """A payer has a name, a coverage rate between 0 and 100 % and coherent dates."""
    errors: list[FieldError] = []
    if not payer.name.strip():
        errors.append(_err(prefix + "name", "required", N_("The payer's name is required.")))
    if not Decimal(0) <= payer.coverage_rate <= Decimal(100):
        msgid = N_("The coverage rate is a percentage between 0 and 100.")
        errors.append(_err(prefix + "coverage_rate", "out_of_range", msgid))
    if payer.valid_from and payer.valid_to and payer.valid_to < payer.valid_from:
        msgid = N_("The end of validity comes before its start.")
        errors.append(_err(prefix + "valid_to", "before_start", msgid))
    return errors


def _check_phones(phones: tuple[Phone, ...], country: Country) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, phone in enumerate(phones):
        found = check_phone(phone.number, default_country=country, field=f"phones.{i}.number")
        errors += found
        number = normalize_phone(phone.number, default_country=country)
        if not found and number in seen:
            msgid = N_("This phone number is listed twice.")
            errors.append(_err(f"phones.{i}.number", "duplicate", msgid))
        seen.add(number or "")
    return errors


def _check_contacts(contacts: tuple[EmergencyContact, ...], country: Country) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, contact in enumerate(contacts):
        if not contact.name.strip():
            msgid = N_("The contact's name is required.")
            errors.append(_err(f"contacts.{i}.name", "required", msgid))
        errors += check_phone(contact.phone, default_country=country, field=f"contacts.{i}.phone")
    return errors


def check_identity(patient: Patient, *, today: date, country: Country = "MR") -> list[FieldError]:
    """Every data-quality problem of a patient's identity fields, not only the first.

    Rules: a Latin or Arabic given name and family name; a valid sex; a date of birth
    (not in the future, age at most 120) or a birth year, coherent with each other; phone
    numbers valid for the country (E.164 after normalisation), not listed twice; NNI of 10
    digits, NSS of 6 to 15; a known preferred language; each emergency contact named.
    """
    errors: list[FieldError] = []
    if not (patient.given_names.strip() or (patient.given_names_ar or "").strip()):
        errors.append(_err("given_names", "required", N_("The given name is required.")))
    if not (patient.family_name.strip() or (patient.family_name_ar or "").strip()):
        errors.append(_err("family_name", "required", N_("The family name is required.")))
    errors += check_sex(patient.sex)
    errors += check_birth_date(patient.birth_date, today=today)
    errors += check_estimated_birth_year(patient.birth_year, today=today)
    if patient.birth_date is None and patient.birth_year is None:
        msgid = N_("Give the date of birth or, if it is not known, an estimated birth year.")
        errors.append(_err("birth_year", "required", msgid))
    if patient.birth_date and patient.birth_year and patient.birth_date.year != patient.birth_year:
        msgid = N_("The birth year does not match the date of birth.")
        errors.append(_err("birth_year", "mismatch", msgid))
    errors += _check_phones(patient.phones, country)
    errors += check_nni(patient.nni)
    errors += check_nss(patient.nss)
    if patient.language is not None and patient.language not in LANGUAGES:
        msgid = N_("Unknown language code: {value}.")
        errors.append(_err("language", "invalid_choice", msgid, value=patient.language))
    if patient.sms_consent and not patient.phones:
        msgid = N_("SMS reminders need a phone number.")
        errors.append(_err("sms_consent", "needs_phone", msgid))
    errors += _check_contacts(patient.contacts, country)
    return errors


def normalized(patient: Patient, *, country: Country = "MR") -> Patient:
    """The patient with phones in E.164, NNI digits only, names trimmed (after validation)."""
    phones = tuple(
        replace(p, number=normalize_phone(p.number, default_country=country) or p.number)
        for p in patient.phones
    )
    contacts = tuple(
        replace(c, name=c.name.strip(), phone=normalize_phone(c.phone, default_country=country))
        if c.phone
        else replace(c, name=c.name.strip())
        for c in patient.contacts
    )
    year = patient.birth_date.year if patient.birth_date else patient.birth_year
    return replace(
        patient,
        given_names=" ".join(patient.given_names.split()),
        family_name=" ".join(patient.family_name.split()),
        given_names_ar=" ".join((patient.given_names_ar or "").split()) or None,
        family_name_ar=" ".join((patient.family_name_ar or "").split()) or None,
        sex=normalize_sex(patient.sex) or patient.sex,
        birth_year=year,
        nni=normalize_nni(patient.nni) if patient.nni else None,
        nss="".join(ch for ch in patient.nss if ch.isdigit()) if patient.nss else None,
        phones=phones,
        contacts=contacts,
    )


def plain_traits(patient: Patient) -> PersonTraits:
    """Matching traits with plain values (for completeness; matching uses keyed ones)."""
    return PersonTraits(
        given_names=patient.given_names or patient.given_names_ar or "",
        family_name=patient.family_name or patient.family_name_ar or "",
        sex=patient.sex if patient.sex in ("female", "male", "other", "unknown") else None,
        birth_date=patient.birth_date,
        birth_year=patient.birth_year,
        birth_year_estimated=patient.birth_year_estimated,
        phone_key=patient.phones[0].number if patient.phones else None,
        phone_shared=bool(patient.phones and patient.phones[0].shared),
        national_id_key=patient.nni,
        region=patient.address.region,
        district=patient.address.district,
    )


def completeness(patient: Patient) -> Completeness:
    """Completeness from 0 to 100 and the missing fields (see ``rules.completeness_score``)."""
    score, missing = completeness_score(plain_traits(patient))
    return Completeness(score, missing)
