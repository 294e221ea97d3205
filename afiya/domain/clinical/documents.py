"""Clinical documents as content: the hospitalisation report and the discharge letter.

The domain decides *what* a document says, from domain objects, as a tree of sections and
labelled lines whose labels are :class:`Message` values (translated when rendered) and
whose values are the patient's data. A renderer (``afiya.adapters.documents.pdf``) decides
*how* it looks, in French or Arabic. Dates are written day first (``25/03/2026 14:05``) in
the facility's time zone, with Western digits as Mauritanian and Malian records use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from uuid import UUID

from afiya.domain.clinical.common import Sex
from afiya.domain.clinical.diagnoses import Diagnosis, DiagnosisRank, check_ready_to_close
from afiya.domain.clinical.encounters import (
    DischargeMode,
    Encounter,
    EncounterKind,
    EncounterStatus,
)
from afiya.domain.clinical.errors import DocumentNotReady
from afiya.domain.clinical.icd10 import Icd10Catalogue
from afiya.domain.clinical.stays import length_of_stay
from afiya.domain.shared.i18n import N_, Message

RTL_LANGUAGES = frozenset({"ar"})


class DocumentKind(StrEnum):
    HOSPITALISATION_REPORT = "hospitalisation_report"  # compte rendu d'hospitalisation
    DISCHARGE_LETTER = "discharge_letter"  # lettre de sortie


@dataclass(frozen=True, slots=True)
class FacilityHeader:
    name: str
    name_ar: str | None = None
    address: str | None = None
    phone: str | None = None
    authority: str | None = None  # "Ministère de la Santé — République Islamique de Mauritanie"


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """What a document shows of the patient: names in both scripts, MRN, sex, birth."""

    mrn: str
    given_names: str
    family_name: str
    sex: Sex
    given_names_ar: str | None = None
    family_name_ar: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None

    @property
    def latin_name(self) -> str:
        return f"{self.given_names} {self.family_name.upper()}".strip()

    @property
    def arabic_name(self) -> str | None:
        parts = [p for p in (self.given_names_ar, self.family_name_ar) if p]
        return " ".join(parts) if parts else None


@dataclass(frozen=True, slots=True)
class Line:
    label: Message | None
    value: str | Message


@dataclass(frozen=True, slots=True)
class Section:
    heading: Message
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class DiagnosisLine:
    code: str
    label: str
    primary: bool


@dataclass(frozen=True, slots=True)
class ClinicalDocument:
    kind: DocumentKind
    language: str
    title: Message
    facility: FacilityHeader
    patient: PatientIdentity
    sections: tuple[Section, ...]
    diagnoses: tuple[DiagnosisLine, ...]
    issued_at: datetime
    author: str
    encounter_id: UUID
    signature: Message  # "Issued on ... by ...", in the facility's time zone
    reference: str  # footer line: patient, MRN, date
    notes: tuple[Message, ...] = ()

    @property
    def rtl(self) -> bool:
        return self.language in RTL_LANGUAGES


@dataclass(frozen=True, slots=True)
class FollowUp:
    instructions: str
    appointment: date | None = None
    with_whom: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentInput:
    """Everything a document is made from, gathered by the use case."""

    facility: FacilityHeader
    patient: PatientIdentity
    encounter: Encounter
    diagnoses: Sequence[Diagnosis]
    author: str
    issued_at: datetime
    tz: tzinfo  # the facility's time zone
    place_names: Mapping[UUID, str]  # departments and wards, by id, for display
    attending: str
    treatments: Sequence[str] = ()
    course: str | None = None  # évolution / clinical course
    key_results: Sequence[str] = ()
    follow_up: FollowUp | None = None
    addressee: str | None = None  # the doctor the letter is for


KIND_NAMES: Mapping[EncounterKind, str] = {
    EncounterKind.OUTPATIENT: N_("Outpatient consultation"),
    EncounterKind.EMERGENCY: N_("Emergency visit"),
    EncounterKind.INPATIENT: N_("Hospitalisation"),
}
MODE_NAMES: Mapping[DischargeMode, str] = {
    DischargeMode.HOME: N_("Home"),
    DischargeMode.TRANSFER: N_("Transfer to another facility"),
    DischargeMode.DEATH: N_("Death"),
    DischargeMode.LEFT_AGAINST_ADVICE: N_("Left against medical advice"),
    DischargeMode.ADMITTED: N_("Admitted to hospital"),
}
SEX_NAMES: Mapping[str, str] = {
    "female": N_("Female"),
    "male": N_("Male"),
    "other": N_("Other"),
    "unknown": N_("Unknown"),
}


def format_time(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def format_day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def diagnosis_lines(
    diagnoses: Sequence[Diagnosis], catalogue: Icd10Catalogue, language: str
) -> tuple[DiagnosisLine, ...]:
    """The diagnoses in force, primary first, with their ICD-10 titles in ``language``."""
    kept = sorted(
        (d for d in diagnoses if d.counts),
        key=lambda d: (d.rank is not DiagnosisRank.PRIMARY, d.recorded_at),
    )
    return tuple(
        DiagnosisLine(d.code, catalogue.label(d.code, language), d.rank is DiagnosisRank.PRIMARY)
        for d in kept
    )


def _patient_section(patient: PatientIdentity, rtl: bool) -> Section:
    names = [Line(Message(N_("Name")), patient.latin_name)]
    if patient.arabic_name:
        names.append(Line(Message(N_("Name in Arabic")), patient.arabic_name))
    if rtl:
        names.reverse()  # the Arabic name leads in an Arabic document
    lines = [*names, Line(Message(N_("Medical record number")), patient.mrn)]
    lines.append(Line(Message(N_("Sex")), Message(SEX_NAMES[patient.sex])))
    if patient.birth_date is not None:
        lines.append(Line(Message(N_("Date of birth")), format_day(patient.birth_date)))
    elif patient.birth_year is not None:
        lines.append(Line(Message(N_("Year of birth")), str(patient.birth_year)))
    return Section(Message(N_("Patient")), tuple(lines))


def _place(data: DocumentInput, movement_index: int) -> str:
    location = data.encounter.movements[movement_index].location
    names = [data.place_names.get(location.department_id)]
    if location.ward_id is not None:
        names.append(data.place_names.get(location.ward_id))
    if location.bed:
        names.append(location.bed)
    return ", ".join(n for n in names if n) or "?"


def _days(days: int) -> Message:
    if days == 0:
        return Message(N_("Same day"))
    if days == 1:
        return Message(N_("1 day"))
    return Message(N_("{days} days"), {"days": days})


def _encounter_section(data: DocumentInput, now: datetime) -> Section:
    encounter, tz = data.encounter, data.tz
    lines = [
        Line(Message(N_("Type of stay")), Message(KIND_NAMES[encounter.kind])),
        Line(Message(N_("Reason for admission")), encounter.reason),
        Line(Message(N_("Admitted on")), format_time(encounter.started_at, tz)),
    ]
    if encounter.movements:
        lines.append(Line(Message(N_("Department")), _place(data, 0)))
    for index, movement in enumerate(encounter.movements[1:], start=1):
        label = Message(N_("Transferred on {at} to"), {"at": format_time(movement.at, tz)})
        lines.append(Line(label, _place(data, index)))
    discharge = encounter.discharge
    if discharge is not None:
        lines.append(Line(Message(N_("Discharged on")), format_time(discharge.at, tz)))
        lines.append(Line(Message(N_("Discharge mode")), Message(MODE_NAMES[discharge.mode])))
        if discharge.destination:
            lines.append(Line(Message(N_("Transferred to")), discharge.destination))
        if discharge.death is not None:
            lines.append(
                Line(Message(N_("Date and time of death")), format_time(discharge.death.at, tz))
            )
    stay = length_of_stay(encounter, tz=tz, now=now)
    lines.append(Line(Message(N_("Length of stay")), _days(stay.days)))
    lines.append(Line(Message(N_("Attending practitioner")), data.attending))
    return Section(Message(N_("Stay")), tuple(lines))


def _diagnosis_section(
    lines: tuple[DiagnosisLine, ...],
    death_cause: str | None,
    catalogue: Icd10Catalogue,
    language: str,
) -> Section:
    shown = [
        Line(
            Message(N_("Primary diagnosis") if d.primary else N_("Secondary diagnosis")),
            f"{d.code} — {d.label}",
        )
        for d in lines
    ]
    if death_cause is not None:
        shown.append(
            Line(
                Message(N_("Underlying cause of death")),
                f"{death_cause} — {catalogue.label(death_cause, language)}",
            )
        )
    return Section(Message(N_("Diagnoses (ICD-10)")), tuple(shown))


def _list_section(heading: str, entries: Sequence[str]) -> Section | None:
    kept = [e.strip() for e in entries if e.strip()]
    return Section(Message(heading), tuple(Line(None, e) for e in kept)) if kept else None


def _common(
    data: DocumentInput, catalogue: Icd10Catalogue, language: str
) -> tuple[tuple[DiagnosisLine, ...], list[Section], tuple[Message, ...]]:
    if data.encounter.status is not EncounterStatus.FINISHED:
        raise DocumentNotReady(
            Message(
                N_("The encounter must be closed by a discharge before this document is written.")
            )
        )
    check_ready_to_close(data.diagnoses)
    lines = diagnosis_lines(data.diagnoses, catalogue, language)
    death = data.encounter.discharge.death if data.encounter.discharge else None
    sections = [
        _patient_section(data.patient, language in RTL_LANGUAGES),
        _encounter_section(data, data.issued_at),
        _diagnosis_section(lines, death.cause_code if death else None, catalogue, language),
    ]
    notes: tuple[Message, ...] = ()
    if not catalogue.has_labels(language):
        notes = (
            Message(
                N_(
                    "ICD-10 titles are given in English: the WHO titles in this language are "
                    "not available offline."
                )
            ),
        )
    return lines, sections, notes


def build_hospitalisation_report(
    data: DocumentInput, catalogue: Icd10Catalogue, language: str
) -> ClinicalDocument:
    """The compte rendu d'hospitalisation of a finished admission.

    Raises:
        DocumentNotReady: the encounter is not a finished admission, or has no single
            primary diagnosis.
    """
    if data.encounter.kind is not EncounterKind.INPATIENT:
        raise DocumentNotReady(
            Message(N_("A hospitalisation report is written for an admission only."))
        )
    lines, sections, notes = _common(data, catalogue, language)
    if data.course and data.course.strip():
        sections.append(Section(Message(N_("Clinical course")), (Line(None, data.course.strip()),)))
    for heading, entries in (
        (N_("Key results"), data.key_results),
        (N_("Treatments"), data.treatments),
    ):
        section = _list_section(heading, entries)
        if section is not None:
            sections.append(section)
    if data.follow_up is not None:
        sections.append(_follow_up_section(data.follow_up))
    return _document(
        DocumentKind.HOSPITALISATION_REPORT,
        N_("Hospitalisation report"),
        data,
        language,
        sections,
        lines,
        notes,
    )


def _follow_up_section(follow_up: FollowUp) -> Section:
    lines = [Line(Message(N_("Instructions")), follow_up.instructions)]
    if follow_up.appointment is not None:
        lines.append(Line(Message(N_("Next appointment")), format_day(follow_up.appointment)))
    if follow_up.with_whom:
        lines.append(Line(Message(N_("With")), follow_up.with_whom))
    return Section(Message(N_("Follow-up")), tuple(lines))


def build_discharge_letter(
    data: DocumentInput, catalogue: Icd10Catalogue, language: str
) -> ClinicalDocument:
    """The lettre de sortie: diagnoses, treatment at discharge and follow-up, for the
    doctor who takes over.

    Raises:
        DocumentNotReady: the encounter is not closed, or has no single primary diagnosis.
    """
    lines, sections, notes = _common(data, catalogue, language)
    if data.addressee:
        sections.insert(0, Section(Message(N_("Addressed to")), (Line(None, data.addressee),)))
    treatments = _list_section(N_("Treatment at discharge"), data.treatments)
    if treatments is not None:
        sections.append(treatments)
    if data.follow_up is not None:
        sections.append(_follow_up_section(data.follow_up))
    return _document(
        DocumentKind.DISCHARGE_LETTER,
        N_("Discharge letter"),
        data,
        language,
        sections,
        lines,
        notes,
    )


def _document(
    kind: DocumentKind,
    title: str,
    data: DocumentInput,
    language: str,
    sections: list[Section],
    lines: tuple[DiagnosisLine, ...],
    notes: tuple[Message, ...],
) -> ClinicalDocument:
    issued = format_time(data.issued_at, data.tz)
    return ClinicalDocument(
        kind=kind,
        language=language,
        title=Message(title),
        facility=data.facility,
        patient=data.patient,
        sections=tuple(sections),
        diagnoses=lines,
        issued_at=data.issued_at,
        author=data.author,
        encounter_id=data.encounter.id,
        signature=Message(N_("Issued on {at} by {author}"), {"at": issued, "author": data.author}),
        reference=f"{data.patient.latin_name} · {data.patient.mrn} · {issued}",
        notes=notes,
    )
