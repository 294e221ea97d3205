"""Patient identity entities and value objects (plain values: encryption is the adapter's job)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from afiya.domain.patients.matching import MatchResult, PersonTraits, Sex

LANGUAGES = frozenset(
    {
        "fr",
        "ar",
        "en",
        "mey",  # Hassaniya
        "ff",  # Pulaar / Fula
        "snk",  # Soninké
        "wo",  # Wolof
        "bm",  # Bambara
        "ha",  # Hausa
        "dje",  # Zarma
        "son",  # Songhay
        "tmh",  # Tamasheq
    }
)
"""Preferred languages: fr, ar, en and national languages as ISO 639 codes."""


class PatientStatus(StrEnum):
    ACTIVE = "active"
    MERGED = "merged"  # kept for history and unmerge; points at its survivor


class PayerKind(StrEnum):
    CNAM = "cnam"  # national health-insurance fund
    PRIVATE_INSURER = "private_insurer"
    EMPLOYER = "employer"
    INDIGENT_PROGRAMME = "indigent_programme"
    MUTUAL = "mutual"  # mutuelle de santé
    NGO = "ngo"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone number in E.164 form; ``shared`` when a family uses one phone."""

    number: str
    shared: bool = False
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    region: str | None = None  # wilaya
    district: str | None = None  # moughataa, cercle
    commune: str | None = None
    locality: str | None = None  # free text: quartier, village, landmark


@dataclass(frozen=True, slots=True)
class EmergencyContact:
    name: str
    relationship: str | None = None
    phone: str | None = None
    id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Identifier:
    """Another identifier than NNI/NSS: a type (``passport``, ``unhcr``...) and issuer."""

    type: str
    value: str
    issuer: str | None = None
    id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Payer:
    """A third party paying part of the bill (tiers payant)."""

    kind: PayerKind
    name: str
    coverage_rate: Decimal  # percent, 0 to 100
    policy_number: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    id: UUID | None = None

    def covers(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True, slots=True)
class Patient:
    id: UUID
    mrn: str
    unit_id: UUID  # registering facility
    unit_path: str  # its org-unit path: the scope the record is visible in
    given_names: str
    family_name: str
    sex: Sex
    given_names_ar: str | None = None
    family_name_ar: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    birth_year_estimated: bool = False
    nni: str | None = None
    nss: str | None = None
    phones: tuple[Phone, ...] = ()
    address: Address = Address()
    language: str | None = None
    sms_consent: bool = False
    contacts: tuple[EmergencyContact, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    payers: tuple[Payer, ...] = ()
    status: PatientStatus = PatientStatus.ACTIVE
    merged_into_id: UUID | None = None
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewPatient:
    """What a registration form supplies. ``id`` may come from an offline client: a
    retried registration with the same id returns the first one instead of a copy."""

    unit_id: UUID
    given_names: str
    family_name: str
    sex: str
    given_names_ar: str | None = None
    family_name_ar: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    birth_year_estimated: bool = False
    nni: str | None = None
    nss: str | None = None
    phones: tuple[Phone, ...] = ()
    address: Address = Address()
    language: str | None = None
    sms_consent: bool = False
    contacts: tuple[EmergencyContact, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    payers: tuple[Payer, ...] = ()
    id: UUID | None = None
    confirm_new_person: bool = False
    confirm_reason: str | None = None


PATIENT_FIELDS = (
    "given_names",
    "family_name",
    "given_names_ar",
    "family_name_ar",
    "sex",
    "birth_date",
    "birth_year",
    "birth_year_estimated",
    "nni",
    "nss",
    "phones",
    "address",
    "language",
    "sms_consent",
    "contacts",
)
"""Fields a caller may change with :class:`PatientChanges`."""

MERGE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "names": ("given_names", "family_name"),
    "arabic_names": ("given_names_ar", "family_name_ar"),
    "sex": ("sex",),
    "birth": ("birth_date", "birth_year", "birth_year_estimated"),
    "nni": ("nni",),
    "nss": ("nss",),
    "address": ("address",),
    "language": ("language",),
    "sms_consent": ("sms_consent",),
}
"""Field groups a merge chooses one side for (a birth date goes with its year and flag)."""


@dataclass(frozen=True, slots=True)
class PatientChanges:
    """Changed fields only (``values`` keys from :data:`PATIENT_FIELDS`)."""

    values: Mapping[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class MatchProfile:
    """What the registry knows about a candidate for matching: keyed traits, no plaintext."""

    patient_id: UUID
    unit_path: str
    traits: PersonTraits
    phone_keys: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible duplicate: the record, and how likely it is the same person, and why."""

    patient: Patient
    result: MatchResult
    in_scope: bool = True


@dataclass(frozen=True, slots=True)
class Completeness:
    score: int
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """A probable duplicate pair found by the registry scan, for review."""

    id: UUID
    patient_a_id: UUID
    patient_b_id: UUID
    score: float
    decision: str
    reasons: tuple[Mapping[str, Any], ...]
    status: str = "open"  # open | distinct | merged
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """A merge, with what it needs to be undone exactly.

    ``before`` and ``after`` are opaque row snapshots kept by the repository (ciphertexts
    stay encrypted); ``moved`` lists, per reference ``table.column``, the rows that were
    re-pointed from the duplicate to the survivor.
    """

    id: UUID
    survivor_id: UUID
    duplicate_id: UUID
    choices: Mapping[str, str]
    changed_columns: tuple[str, ...]
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    moved: Mapping[str, list[str]]
    reason: str
    merged_at: datetime
    merged_by: UUID | None
    unmerged_at: datetime | None = None
    unmerged_by: UUID | None = None
    unmerge_reason: str | None = None
    kept_on_unmerge: tuple[str, ...] = field(default=())
