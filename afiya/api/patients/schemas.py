"""Bodies of the patient routes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from afiya.adapters.i18n import Translator
from afiya.domain.patients.matching import MatchResult
from afiya.domain.patients.model import (
    Address,
    Candidate,
    DuplicatePair,
    EmergencyContact,
    Identifier,
    MergeRecord,
    Patient,
    Payer,
    PayerKind,
    Phone,
)
from afiya.domain.patients.validation import completeness
from afiya.domain.shared.i18n import Message

Name = Annotated[str, msgspec.Meta(max_length=200)]
Short = Annotated[str, msgspec.Meta(max_length=100)]
PhoneText = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Reason = Annotated[str, msgspec.Meta(max_length=1000)]
Rate = Decimal  # 0 to 100: checked by the domain with the other fields


class PhoneIn(msgspec.Struct, forbid_unknown_fields=True):
    number: PhoneText
    shared: bool = False
    label: Annotated[str, msgspec.Meta(max_length=50)] | None = None

    def domain(self) -> Phone:
        return Phone(self.number, self.shared, self.label)


class AddressIn(msgspec.Struct, forbid_unknown_fields=True):
    region: Short | None = None
    district: Short | None = None
    commune: Short | None = None
    locality: Annotated[str, msgspec.Meta(max_length=200)] | None = None

    def domain(self) -> Address:
        return Address(self.region, self.district, self.commune, self.locality)


class ContactIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    relationship: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    phone: PhoneText | None = None

    def domain(self) -> EmergencyContact:
        return EmergencyContact(self.name, self.relationship, self.phone)


class IdentifierIn(msgspec.Struct, forbid_unknown_fields=True):
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    issuer: Short | None = None

    def domain(self) -> Identifier:
        return Identifier(self.type, self.value, self.issuer)


class PayerIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: PayerKind
    name: Name
    coverage_rate: Rate
    policy_number: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    valid_from: date | None = None
    valid_to: date | None = None

    def domain(self, payer_id: UUID | None = None) -> Payer:
        return Payer(
            self.kind,
            self.name,
            self.coverage_rate,
            self.policy_number,
            self.valid_from,
            self.valid_to,
            payer_id,
        )


class PatientCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A registration. Send ``confirm_new_person`` and ``confirm_reason`` after a 409
    ``probable_duplicate`` when the clerk has checked that this is another person."""

    unit_id: UUID
    given_names: Name
    family_name: Name
    sex: Annotated[str, msgspec.Meta(max_length=16)]
    given_names_ar: Name | None = None
    family_name_ar: Name | None = None
    birth_date: date | None = None
    birth_year: Annotated[int, msgspec.Meta(ge=1800, le=2200)] | None = None
    birth_year_estimated: bool = False
    nni: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    nss: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    phones: Annotated[list[PhoneIn], msgspec.Meta(max_length=5)] = []
    address: AddressIn | None = None
    language: Annotated[str, msgspec.Meta(max_length=8)] | None = None
    sms_consent: bool = False
    contacts: Annotated[list[ContactIn], msgspec.Meta(max_length=5)] = []
    identifiers: Annotated[list[IdentifierIn], msgspec.Meta(max_length=10)] = []
    payers: Annotated[list[PayerIn], msgspec.Meta(max_length=5)] = []
    id: UUID | None = None
    confirm_new_person: bool = False
    confirm_reason: Reason | None = None


class PatientUpdate(msgspec.Struct, forbid_unknown_fields=True):
    given_names: Name | UnsetType = UNSET
    family_name: Name | UnsetType = UNSET
    given_names_ar: Name | UnsetType | None = UNSET
    family_name_ar: Name | UnsetType | None = UNSET
    sex: Annotated[str, msgspec.Meta(max_length=16)] | UnsetType = UNSET
    birth_date: date | UnsetType | None = UNSET
    birth_year: Annotated[int, msgspec.Meta(ge=1800, le=2200)] | UnsetType | None = UNSET
    birth_year_estimated: bool | UnsetType = UNSET
    nni: Annotated[str, msgspec.Meta(max_length=20)] | UnsetType | None = UNSET
    nss: Annotated[str, msgspec.Meta(max_length=20)] | UnsetType | None = UNSET
    phones: Annotated[list[PhoneIn], msgspec.Meta(max_length=5)] | UnsetType = UNSET
    address: AddressIn | UnsetType = UNSET
    language: Annotated[str, msgspec.Meta(max_length=8)] | UnsetType | None = UNSET
    sms_consent: bool | UnsetType = UNSET
    contacts: Annotated[list[ContactIn], msgspec.Meta(max_length=5)] | UnsetType = UNSET
    version: int | UnsetType = UNSET

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if name == "version" or value is UNSET:
                continue
            if name in ("phones", "contacts"):
                value = tuple(item.domain() for item in value)
            elif name == "address":
                value = value.domain()
            out[name] = value
        return out


class ReasonRead(msgspec.Struct):
    code: str
    message: str
    weight: float


def reasons_of(result: MatchResult, translate: Translator) -> list[ReasonRead]:
    return [ReasonRead(r.code, r.message.render(translate), r.weight) for r in result.reasons]


class PhoneRead(msgspec.Struct):
    number: str
    shared: bool
    label: str | None


class ContactRead(msgspec.Struct):
    id: UUID | None
    name: str
    relationship: str | None
    phone: str | None


class IdentifierRead(msgspec.Struct):
    id: UUID | None
    type: str
    value: str
    issuer: str | None


class PayerRead(msgspec.Struct):
    id: UUID | None
    kind: PayerKind
    name: str
    coverage_rate: Decimal
    policy_number: str | None
    valid_from: date | None
    valid_to: date | None

    @classmethod
    def of(cls, p: Payer) -> PayerRead:
        return cls(p.id, p.kind, p.name, p.coverage_rate, p.policy_number, p.valid_from, p.valid_to)


class CompletenessRead(msgspec.Struct):
    score: int
    missing: list[str]


class PatientRead(msgspec.Struct):
    id: UUID
    mrn: str
    unit_id: UUID
    given_names: str
    family_name: str
    given_names_ar: str | None
    family_name_ar: str | None
    sex: str
    birth_date: date | None
    birth_year: int | None
    birth_year_estimated: bool
    nni: str | None
    nss: str | None
    phones: list[PhoneRead]
    address: dict[str, str | None]
    language: str | None
    sms_consent: bool
    contacts: list[ContactRead]
    identifiers: list[IdentifierRead]
    payers: list[PayerRead]
    status: str
    merged_into_id: UUID | None
    completeness: CompletenessRead
    version: int
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, p: Patient) -> PatientRead:
        c = completeness(p)
        a = p.address
        return cls(
            id=p.id,
            mrn=p.mrn,
            unit_id=p.unit_id,
            given_names=p.given_names,
            family_name=p.family_name,
            given_names_ar=p.given_names_ar,
            family_name_ar=p.family_name_ar,
            sex=p.sex,
            birth_date=p.birth_date,
            birth_year=p.birth_year,
            birth_year_estimated=p.birth_year_estimated,
            nni=p.nni,
            nss=p.nss,
            phones=[PhoneRead(x.number, x.shared, x.label) for x in p.phones],
            address={
                "region": a.region,
                "district": a.district,
                "commune": a.commune,
                "locality": a.locality,
            },
            language=p.language,
            sms_consent=p.sms_consent,
            contacts=[ContactRead(x.id, x.name, x.relationship, x.phone) for x in p.contacts],
            identifiers=[IdentifierRead(x.id, x.type, x.value, x.issuer) for x in p.identifiers],
            payers=[PayerRead.of(x) for x in p.payers],
            status=p.status.value,
            merged_into_id=p.merged_into_id,
            completeness=CompletenessRead(c.score, list(c.missing)),
            version=p.version,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


class PatientListItem(msgspec.Struct):
    id: UUID
    mrn: str
    unit_id: UUID
    given_names: str
    family_name: str
    given_names_ar: str | None
    family_name_ar: str | None
    sex: str
    birth_date: date | None
    birth_year: int | None
    birth_year_estimated: bool
    score: float | None = None
    reasons: list[ReasonRead] | None = None

    @classmethod
    def of(cls, p: Patient, result: MatchResult | None, translate: Translator) -> PatientListItem:
        return cls(
            p.id,
            p.mrn,
            p.unit_id,
            p.given_names,
            p.family_name,
            p.given_names_ar,
            p.family_name_ar,
            p.sex,
            p.birth_date,
            p.birth_year,
            p.birth_year_estimated,
            round(result.score, 4) if result else None,
            reasons_of(result, translate) if result else None,
        )


def candidate_json(c: Candidate, translate: Translator) -> dict[str, Any]:
    """A candidate for the clerk; outside the caller's facilities only the score shows."""
    base: dict[str, Any] = {
        "in_scope": c.in_scope,
        "score": round(c.result.score, 4),
        "decision": c.result.decision.value,
        "certain": c.result.certain,
    }
    if not c.in_scope:
        return base | {"patient_id": None, "facility_id": str(c.patient.unit_id), "reasons": []}
    item = PatientListItem.of(c.patient, c.result, translate)
    shown: dict[str, Any] = msgspec.to_builtins(item)
    return base | shown | {"patient_id": str(c.patient.id)}


class MergeCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Merge ``duplicate_id`` into the record of the path. ``choices`` names, per field
    group (names, arabic_names, sex, birth, nni, nss, address, language, sms_consent),
    the side to keep: ``survivor`` (default) or ``duplicate``."""

    duplicate_id: UUID
    reason: Reason
    choices: dict[str, str] = {}


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class MergeRead(msgspec.Struct):
    id: UUID
    survivor_id: UUID
    duplicate_id: UUID
    choices: dict[str, str]
    changed_columns: list[str]
    moved: dict[str, int]
    reason: str
    merged_at: datetime
    merged_by: UUID | None
    unmerged_at: datetime | None
    unmerge_reason: str | None
    kept_on_unmerge: list[str]

    @classmethod
    def of(cls, r: MergeRecord) -> MergeRead:
        return cls(
            r.id,
            r.survivor_id,
            r.duplicate_id,
            dict(r.choices),
            list(r.changed_columns),
            {k: len(v) for k, v in r.moved.items()},
            r.reason,
            r.merged_at,
            r.merged_by,
            r.unmerged_at,
            r.unmerge_reason,
            list(r.kept_on_unmerge),
        )


class DuplicatePairRead(msgspec.Struct):
    id: UUID
    patient_a_id: UUID
    patient_b_id: UUID
    score: float
    decision: str
    status: str
    reasons: list[ReasonRead]

    @classmethod
    def of(cls, p: DuplicatePair, translate: Translator) -> DuplicatePairRead:
        reasons = [
            ReasonRead(
                r["code"], Message(r["msgid"], r.get("params", {})).render(translate), r["weight"]
            )
            for r in p.reasons
        ]
        return cls(
            p.id, p.patient_a_id, p.patient_b_id, round(p.score, 4), p.decision, p.status, reasons
        )


class DismissPair(msgspec.Struct, forbid_unknown_fields=True):
    note: Reason


class ScanStarted(msgspec.Struct):
    job_id: UUID
