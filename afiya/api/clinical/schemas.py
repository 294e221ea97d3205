"""Bodies of the clinical record routes (snake_case; decimals travel as strings)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec

from afiya.adapters.i18n import Translator
from afiya.domain.clinical.allergies import (
    Allergy,
    AllergyCategory,
    AllergyRecord,
    AllergyType,
    Criticality,
    NoKnownAllergies,
    Reaction,
    Severity,
    Substance,
    SubstanceSystem,
    Verification,
)
from afiya.domain.clinical.diagnoses import Certainty, Diagnosis, DiagnosisRank
from afiya.domain.clinical.documents import DocumentKind, FollowUp
from afiya.domain.clinical.encounters import DischargeMode, Encounter, EncounterKind, Location
from afiya.domain.clinical.measurements import Observation
from afiya.domain.clinical.notes import ClinicalNote, NoteKind, NoteSections
from afiya.domain.clinical.observations import definition
from afiya.domain.clinical.ports import StoredDocument
from afiya.domain.clinical.problems import Problem, ProblemKind
from afiya.domain.clinical.timeline import TimelineItem
from afiya.domain.shared.i18n import Message

Text = Annotated[str, msgspec.Meta(max_length=4000)]
LongText = Annotated[str, msgspec.Meta(max_length=20000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


def render(message: Message, translate: Translator) -> str:
    """A message in the caller's language; parameters that are messages are translated too."""
    params = {
        k: (v.render(translate) if isinstance(v, Message) else v) for k, v in message.params.items()
    }
    return Message(message.msgid, params).render(translate)


# -- encounters -------------------------------------------------------------------------


class LocationIn(msgspec.Struct, forbid_unknown_fields=True):
    department_id: UUID
    ward_id: UUID | None = None
    bed: Annotated[str, msgspec.Meta(max_length=32)] | None = None

    def domain(self) -> Location:
        return Location(self.department_id, self.ward_id, self.bed)


class LocationRead(msgspec.Struct):
    department_id: UUID
    ward_id: UUID | None
    bed: str | None

    @classmethod
    def of(cls, location: Location) -> LocationRead:
        return cls(location.department_id, location.ward_id, location.bed)


class EncounterCreate(msgspec.Struct, forbid_unknown_fields=True):
    patient_id: UUID
    kind: EncounterKind
    started_at: datetime
    reason: Text
    attending_id: UUID | None = None
    unit_id: UUID | None = None
    triage: int | None = None
    location: LocationIn | None = None
    id: UUID | None = None


class TransferIn(msgspec.Struct, forbid_unknown_fields=True):
    at: datetime
    to: LocationIn


class DeathIn(msgspec.Struct, forbid_unknown_fields=True):
    at: datetime | None = None
    cause_code: Code | None = None


class DischargeIn(msgspec.Struct, forbid_unknown_fields=True):
    at: datetime
    mode: DischargeMode
    destination: Short | None = None
    death: DeathIn | None = None
    note: Text | None = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


class MovementRead(msgspec.Struct):
    at: datetime
    location: LocationRead


class DeathRead(msgspec.Struct):
    at: datetime
    cause_code: str


class DischargeRead(msgspec.Struct):
    at: datetime
    mode: str
    destination: str | None
    death: DeathRead | None
    note: str | None


class DiagnosisRead(msgspec.Struct):
    id: UUID
    patient_id: UUID
    encounter_id: UUID
    code: str
    rank: str
    certainty: str
    recorded_at: datetime
    recorded_by: UUID
    note: str | None

    @classmethod
    def of(cls, d: Diagnosis) -> DiagnosisRead:
        return cls(
            d.id,
            d.patient_id,
            d.encounter_id,
            d.code,
            d.rank.value,
            d.certainty.value,
            d.recorded_at,
            d.recorded_by,
            d.note,
        )


class EncounterRead(msgspec.Struct):
    id: UUID
    patient_id: UUID
    unit_id: UUID
    kind: str
    status: str
    started_at: datetime
    reason: str
    attending_id: UUID
    triage: int | None
    location: LocationRead | None
    movements: list[MovementRead]
    discharge: DischargeRead | None
    cancel_reason: str | None
    diagnoses: list[DiagnosisRead]

    @classmethod
    def of(cls, e: Encounter, diagnoses: list[Diagnosis] | None = None) -> EncounterRead:
        d = e.discharge
        return cls(
            id=e.id,
            patient_id=e.patient_id,
            unit_id=e.unit_id,
            kind=e.kind.value,
            status=e.status.value,
            started_at=e.started_at,
            reason=e.reason,
            attending_id=e.attending_id,
            triage=int(e.triage) if e.triage is not None else None,
            location=LocationRead.of(e.location) if e.location else None,
            movements=[MovementRead(m.at, LocationRead.of(m.location)) for m in e.movements],
            discharge=DischargeRead(
                d.at,
                d.mode.value,
                d.destination,
                DeathRead(d.death.at, d.death.cause_code) if d.death else None,
                d.note,
            )
            if d
            else None,
            cancel_reason=e.cancel_reason,
            diagnoses=[DiagnosisRead.of(x) for x in diagnoses or []],
        )


class DiagnosisCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    rank: DiagnosisRank = DiagnosisRank.SECONDARY
    certainty: Certainty = Certainty.CONFIRMED
    note: Text | None = None


# -- observations -----------------------------------------------------------------------


class ReadingIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code  # LOINC or a catalogue key (temperature, pulse...)
    value: Annotated[str, msgspec.Meta(max_length=32)] | int | float
    unit: Annotated[str, msgspec.Meta(max_length=16)] | None = None


class VitalsIn(msgspec.Struct, forbid_unknown_fields=True):
    effective_at: datetime
    readings: Annotated[list[ReadingIn], msgspec.Meta(min_length=1, max_length=30)]
    encounter_id: UUID | None = None


class QuantityRead(msgspec.Struct):
    value: Decimal
    unit: str


class ObservationRead(msgspec.Struct):
    id: UUID
    patient_id: UUID
    encounter_id: UUID | None
    code: str
    name: str
    value: Decimal
    unit: str
    effective_at: datetime
    recorded_by: UUID
    entered: QuantityRead | None

    @classmethod
    def of(cls, o: Observation, translate: Translator) -> ObservationRead:
        spec = definition(o.code)
        return cls(
            o.id,
            o.patient_id,
            o.encounter_id,
            o.code,
            translate(spec.name) if spec else o.code,
            o.value,
            o.unit,
            o.effective_at,
            o.recorded_by,
            QuantityRead(o.entered.value, o.entered.unit) if o.entered else None,
        )


# -- problems ---------------------------------------------------------------------------


class ProblemCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: ProblemKind
    code: Code
    onset: date | None = None
    last_menstrual_period: date | None = None
    cycle_days: int = 28


class ProblemRead(msgspec.Struct):
    id: UUID
    patient_id: UUID
    kind: str
    code: str
    status: str
    recorded_at: datetime
    recorded_by: UUID
    onset: date | None
    last_menstrual_period: date | None
    expected_delivery: date | None
    resolved_on: date | None

    @classmethod
    def of(cls, p: Problem) -> ProblemRead:
        return cls(
            p.id,
            p.patient_id,
            p.kind.value,
            p.code,
            p.status.value,
            p.recorded_at,
            p.recorded_by,
            p.onset,
            p.pregnancy.last_menstrual_period if p.pregnancy else None,
            p.pregnancy.expected_delivery if p.pregnancy else None,
            p.resolved_on,
        )


# -- allergies --------------------------------------------------------------------------


class SubstanceIn(msgspec.Struct, forbid_unknown_fields=True):
    system: SubstanceSystem
    code: Annotated[str, msgspec.Meta(max_length=64)]
    display: Short


class ReactionIn(msgspec.Struct, forbid_unknown_fields=True):
    manifestation: Short
    severity: Severity


class AllergyCreate(msgspec.Struct, forbid_unknown_fields=True):
    type: AllergyType
    category: AllergyCategory
    substance: SubstanceIn
    criticality: Criticality
    verification: Verification  # mandatory: no default on purpose
    reactions: Annotated[list[ReactionIn], msgspec.Meta(max_length=20)] = []
    recorded_at: datetime | None = None

    def substance_value(self) -> Substance:
        return Substance(self.substance.system, self.substance.code, self.substance.display)

    def reaction_values(self) -> tuple[Reaction, ...]:
        return tuple(Reaction(r.manifestation, r.severity) for r in self.reactions)


class NoKnownAllergiesIn(msgspec.Struct, forbid_unknown_fields=True):
    supersedes: Annotated[list[UUID], msgspec.Meta(max_length=100)] = []


class AllergyRead(msgspec.Struct):
    id: UUID
    patient_id: UUID
    type: str
    category: str
    substance: dict[str, str]
    criticality: str
    verification: str
    reactions: list[dict[str, str]]
    recorded_at: datetime
    recorded_by: UUID
    high_risk: bool
    superseded_by: UUID | None

    @classmethod
    def of(cls, a: Allergy) -> AllergyRead:
        return cls(
            a.id,
            a.patient_id,
            a.type.value,
            a.category.value,
            {
                "system": a.substance.system.value,
                "code": a.substance.code,
                "display": a.substance.display,
            },
            a.criticality.value,
            a.verification.value,
            [{"manifestation": r.manifestation, "severity": r.severity.value} for r in a.reactions],
            a.recorded_at,
            a.recorded_by,
            a.high_risk,
            a.superseded_by,
        )


class StatementRead(msgspec.Struct):
    id: UUID
    stated_at: datetime
    stated_by: UUID
    in_force: bool
    superseded_by: UUID | None
    superseded_at: datetime | None

    @classmethod
    def of(cls, s: NoKnownAllergies) -> StatementRead:
        return cls(s.id, s.stated_at, s.stated_by, s.in_force, s.superseded_by, s.superseded_at)


class AllergyRecordRead(msgspec.Struct):
    patient_id: UUID
    status: str  # unknown, no_known_allergies, has_allergies
    allergies: list[AllergyRead]
    statements: list[StatementRead]

    @classmethod
    def of(cls, record: AllergyRecord) -> AllergyRecordRead:
        return cls(
            record.patient_id,
            record.status.value,
            [AllergyRead.of(a) for a in record.allergies],
            [StatementRead.of(s) for s in record.statements],
        )


# -- notes ------------------------------------------------------------------------------


class SectionsIn(msgspec.Struct, forbid_unknown_fields=True):
    anamnesis: LongText | None = None
    examination: LongText | None = None
    assessment: LongText | None = None
    plan: LongText | None = None

    def domain(self) -> NoteSections:
        return NoteSections(self.anamnesis, self.examination, self.assessment, self.plan)


class NoteCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: NoteKind
    sections: SectionsIn
    encounter_id: UUID | None = None
    written_at: datetime | None = None


class NoteAmend(msgspec.Struct, forbid_unknown_fields=True):
    based_on_version: int
    sections: SectionsIn
    reason: Text


class NoteVersionRead(msgspec.Struct):
    id: UUID
    series_id: UUID
    version: int
    patient_id: UUID
    encounter_id: UUID | None
    kind: str
    anamnesis: str | None
    examination: str | None
    assessment: str | None
    plan: str | None
    author_id: UUID
    written_at: datetime
    previous_id: UUID | None
    amendment_reason: str | None

    @classmethod
    def of(cls, n: ClinicalNote) -> NoteVersionRead:
        s = n.sections
        return cls(
            n.id,
            n.series_id,
            n.version,
            n.patient_id,
            n.encounter_id,
            n.kind.value,
            s.anamnesis,
            s.examination,
            s.assessment,
            s.plan,
            n.author_id,
            n.written_at,
            n.previous_id,
            n.amendment_reason,
        )


class NoteRead(msgspec.Struct):
    note: NoteVersionRead
    latest_version: int
    history: list[NoteVersionRead]  # first to latest


# -- documents --------------------------------------------------------------------------


class FollowUpIn(msgspec.Struct, forbid_unknown_fields=True):
    instructions: Text
    appointment: date | None = None
    with_whom: Short | None = None


class DocumentCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: DocumentKind
    language: Annotated[str, msgspec.Meta(max_length=8)]
    addressee: Short | None = None
    course: LongText | None = None
    treatments: Annotated[list[Text], msgspec.Meta(max_length=50)] = []
    key_results: Annotated[list[Text], msgspec.Meta(max_length=50)] = []
    follow_up: FollowUpIn | None = None

    def follow_up_value(self) -> FollowUp | None:
        f = self.follow_up
        return FollowUp(f.instructions, f.appointment, f.with_whom) if f else None


class DocumentRead(msgspec.Struct):
    id: UUID
    patient_id: UUID
    encounter_id: UUID
    kind: str
    language: str
    content_type: str
    size: int
    sha256: str
    issued_at: datetime
    issued_by: UUID
    file: str

    @classmethod
    def of(cls, d: StoredDocument) -> DocumentRead:
        return cls(
            d.id,
            d.patient_id,
            d.encounter_id,
            d.kind,
            d.language,
            d.content_type,
            d.size,
            d.sha256,
            d.issued_at,
            d.issued_by,
            f"/api/v1/documents/{d.id}/file",
        )


# -- timeline and notifications ----------------------------------------------------------


class TimelineItemRead(msgspec.Struct):
    id: UUID
    type: str
    at: datetime
    summary: str
    link: str

    @classmethod
    def of(cls, entry: TimelineItem, translate: Translator) -> TimelineItemRead:
        return cls(
            entry.id, entry.type.value, entry.at, render(entry.summary, translate), entry.link
        )
