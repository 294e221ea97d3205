"""The prescription document (ordonnance) as content, and the use case that renders it.

The content reuses the clinical documents' building blocks (letterhead, labelled lines,
sections, signature); the layout is the documents adapter's, in French, Arabic (right to
left) or English. Numbers and dates are written with Western digits, day first, in the
facility's time zone, as clinical documents are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.clinical.documents import (
    RTL_LANGUAGES,
    FacilityHeader,
    Line,
    PatientIdentity,
    Section,
    format_day,
    format_time,
)
from afiya.domain.clinical.ports import ClinicalRepository
from afiya.domain.clinical.use_cases.access import load_patient
from afiya.domain.orgunits.ports import OrgUnitRepository
from afiya.domain.prescribing.orders import OrderStatus, Prescription
from afiya.domain.prescribing.ports import PrescribingRepository
from afiya.domain.shared.errors import Conflict, NotFound
from afiya.domain.shared.i18n import N_, Message

DOCUMENT_LANGUAGES = ("fr", "ar", "en")


@dataclass(frozen=True, slots=True)
class PrescriptionDocument:
    language: str
    title: Message
    facility: FacilityHeader
    patient: PatientIdentity
    sections: tuple[Section, ...]
    issued_at: datetime
    author: str
    signature: Message
    reference: str
    notes: tuple[Message, ...] = ()

    @property
    def rtl(self) -> bool:
        return self.language in RTL_LANGUAGES


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def _dosage(
    dose: Decimal | None, unit: str | None, freq: Decimal | None, days: Decimal | None
) -> Message | str | None:
    params = {
        "dose": _number(dose),
        "unit": unit or "",
        "frequency": _number(freq),
        "days": _number(days),
    }
    if dose is not None and freq is not None and days is not None:
        return Message(N_("{dose} {unit}, {frequency} times a day, for {days} days"), params)
    if dose is not None and freq is not None:
        return Message(N_("{dose} {unit}, {frequency} times a day"), params)
    if dose is not None:
        return f"{params['dose']} {params['unit']}".strip()
    if freq is not None:
        return Message(N_("{frequency} times a day"), params)
    return None


def build_prescription_document(
    prescription: Prescription,
    *,
    patient: PatientIdentity,
    facility: FacilityHeader,
    prescriber: str,
    language: str,
    tz: tzinfo,
) -> PrescriptionDocument:
    """What the ordonnance says: the patient, then medicines, tests and imaging."""
    who = [
        Line(Message(N_("Patient")), patient.latin_name),
    ]
    if patient.arabic_name:
        who.append(Line(Message(N_("Name in Arabic")), patient.arabic_name))
    who.append(Line(Message(N_("Medical record number")), patient.mrn))
    if patient.birth_date is not None:
        who.append(Line(Message(N_("Date of birth")), format_day(patient.birth_date)))
    elif patient.birth_year is not None:
        who.append(Line(Message(N_("Year of birth")), str(patient.birth_year)))
    sections = [Section(Message(N_("Patient")), tuple(who))]
    medicines: list[Line] = []
    tests: list[Line] = []
    imaging: list[Line] = []
    n = 0
    for line in prescription.lines:
        if line.medication is not None:
            n += 1
            med = line.medication
            medicines.append(
                Line(
                    Message(N_("Medicine {n}"), {"n": n}),
                    line.product_name or med.product_code,
                )
            )
            dosage = _dosage(med.dose, med.dose_unit, med.frequency_per_day, med.duration_days)
            if dosage is not None:
                medicines.append(Line(Message(N_("Dosage")), dosage))
            if med.route:
                medicines.append(Line(Message(N_("Route")), med.route.upper()))
            if med.as_needed:
                medicines.append(Line(None, Message(N_("If needed"))))
            if med.instructions:
                medicines.append(Line(Message(N_("Instructions")), med.instructions))
        elif line.lab is not None:
            tests.append(Line(None, f"{line.lab.name} (LOINC {line.lab.loinc})"))
        elif line.imaging is not None:
            imaging.append(Line(None, f"{line.imaging.modality.value} · {line.imaging.body_site}"))
    if medicines:
        sections.append(Section(Message(N_("Medicines")), tuple(medicines)))
    if tests:
        sections.append(Section(Message(N_("Laboratory tests")), tuple(tests)))
    if imaging:
        sections.append(Section(Message(N_("Imaging")), tuple(imaging)))
    if prescription.note:
        sections.append(Section(Message(N_("Note")), (Line(None, prescription.note),)))
    written = format_time(prescription.written_at, tz)
    return PrescriptionDocument(
        language=language,
        title=Message(N_("Prescription")),
        facility=facility,
        patient=patient,
        sections=tuple(sections),
        issued_at=prescription.written_at,
        author=prescriber,
        signature=Message(
            N_("Prescribed on {date} by {prescriber}"), {"date": written, "prescriber": prescriber}
        ),
        reference=f"{patient.latin_name} · {patient.mrn} · {written}",
    )


class PrescriptionDocumentError(Conflict):
    code = "prescription_not_printable"
    default_message = N_("A cancelled prescription or a draft cannot be printed.")


async def prescription_document(
    prescription_id: UUID,
    *,
    language: str,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    units: OrgUnitRepository,
    user_names: Callable[[Sequence[UUID]], Awaitable[dict[UUID, str]]],
    audit: AuditLog,
) -> PrescriptionDocument:
    """The content of the ordonnance of an active, completed or stopped prescription in
    ``language`` (fr, ar, en), for the caller to render (a PDF takes about 0.4 s: render
    it off the event loop). Audited."""
    found = await prescribing.prescription(prescription_id)
    if found is None:
        raise NotFound(
            Message(N_("This prescription was not found.")), code="prescription_not_found"
        )
    patient = await load_patient(
        found.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False
    )
    if found.status in (OrderStatus.DRAFT, OrderStatus.CANCELLED):
        raise PrescriptionDocumentError()
    unit = await units.get(patient.unit_id)
    try:
        tz: tzinfo = ZoneInfo(unit.timezone if unit and unit.timezone else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    names = await user_names([found.prescriber_id])
    document = build_prescription_document(
        found,
        patient=PatientIdentity(
            mrn=patient.mrn,
            given_names=patient.given_names,
            family_name=patient.family_name,
            sex=patient.sex if patient.sex in ("female", "male", "other") else "unknown",  # type: ignore[arg-type]
            given_names_ar=patient.given_names_ar,
            family_name_ar=patient.family_name_ar,
            birth_date=patient.birth_date,
            birth_year=patient.birth_year,
        ),
        facility=FacilityHeader(name=unit.name if unit else ""),
        prescriber=names.get(found.prescriber_id, "?"),
        language=language if language in DOCUMENT_LANGUAGES else "fr",
        tz=tz,
    )
    await audit.record(
        AuditRecord(
            "prescribing.prescription.document",
            "prescription",
            str(found.id),
            patient.id,
            details={"language": language},
        )
    )
    return document
