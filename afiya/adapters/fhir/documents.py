"""Mapping documents to and from FHIR R4 DocumentReference and Binary.

Three kinds of documents are served: the letters and reports Afiya issues (discharge
letter, hospitalisation report), the files of imaging reports (the original, with its
thumbnail and WebP renditions as further contents), and documents received from other
systems (kept as sent: codes, identifiers, dates, title, language). The content is
always a ``Binary`` of this server; ``Attachment.hash`` is the base64 SHA-1 of the
bytes, as FHIR defines it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from afiya.adapters.fhir.common import BASE_URI, instant, meta, prune, reference
from afiya.adapters.fhir.common import reference_id as _reference_id
from afiya.domain.clinical.external_documents import (
    Coding,
    Concept,
    DocumentCodes,
    DocumentStatus,
    ExternalDocument,
    Identifier,
    StoredBinary,
    Upload,
)
from afiya.domain.clinical.ports import StoredDocument, StoredImage
from afiya.domain.clinical.results import ImagingReport
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

LOINC = "http://loinc.org"
KIND_SYSTEM = f"{BASE_URI}/CodeSystem/document-kind"
CATEGORY_SYSTEM = f"{BASE_URI}/CodeSystem/document-category"
CLINICAL_NOTE = "clinical-note"
IMAGING = "imaging"
EXTERNAL = "external"

ISSUED_TYPES: Mapping[str, tuple[str, str]] = {
    "discharge_letter": ("18842-5", "Discharge summary"),
    "hospitalisation_report": ("34105-7", "Hospital Discharge summary"),
}
ISSUED_TITLES: Mapping[str, str] = {
    "discharge_letter": N_("Discharge letter"),
    "hospitalisation_report": N_("Hospitalisation report"),
}
IMAGING_TYPE = ("18748-4", "Diagnostic imaging study")

_ATTACHMENT = "DocumentReference.content[0].attachment"
FIELD_PATHS: Mapping[str, str] = {
    "data": f"{_ATTACHMENT}.data",
    "content_type": f"{_ATTACHMENT}.contentType",
    "size": f"{_ATTACHMENT}.size",
    "hash": f"{_ATTACHMENT}.hash",
    "url": f"{_ATTACHMENT}.url",
    "encounter_id": "DocumentReference.context.encounter[0]",
    "patient_id": "DocumentReference.subject",
}
BINARY_PATHS: Mapping[str, str] = {"data": "Binary.data", "content_type": "Binary.contentType"}

_KEPT = {
    "resourceType",
    "id",
    "meta",
    "masterIdentifier",
    "identifier",
    "status",
    "docStatus",
    "type",
    "category",
    "subject",
    "date",
    "description",
    "content",
    "context",
}
_KEPT_ATTACHMENT = {"contentType", "language", "data", "url", "size", "hash", "title", "creation"}
_KEPT_CONTEXT = {"encounter", "event", "period", "facilityType", "practiceSetting"}


# -- FHIR -> Afiya ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incoming:
    """A DocumentReference as Afiya files it: the document, its content, what is lost."""

    document: ExternalDocument
    content: Upload | None
    not_stored: tuple[str, ...] = field(default_factory=tuple)


def moment(text: str | None) -> datetime | None:
    """A FHIR dateTime/instant as an aware time (a date alone: its start, UTC)."""
    if not text:
        return None
    if len(text) == 4:
        return datetime(int(text), 1, 1, tzinfo=UTC)
    if len(text) == 7:
        return datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=UTC)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _coding(data: Mapping[str, Any] | None) -> Coding | None:
    if not data:
        return None
    return Coding(data.get("system"), data.get("code"), data.get("display"))


def _concept(data: Mapping[str, Any] | None) -> Concept | None:
    if not data:
        return None
    codings = tuple(c for c in (_coding(x) for x in data.get("coding", [])) if c is not None)
    return Concept(codings, data.get("text"))


def _required(path: str) -> ValidationFailed:
    return ValidationFailed(
        [FieldError(path, Message(N_("This element is required to file a document.")), "required")]
    )


def _uuid(text: str | None, path: str) -> UUID:
    try:
        return UUID(str(text))
    except ValueError:
        msg = Message(N_("Only references to resources of this server are kept."))
        raise ValidationFailed([FieldError(path, msg, "unknown_reference")]) from None


def binary_id_of(url: str, base: str) -> str | None:
    """``Binary/<id>`` or ``<this server's base>/Binary/<id>`` → id; anything else None."""
    for prefix in ("Binary/", f"{base}/Binary/"):
        if url.startswith(prefix) and "/" not in url[len(prefix) :]:
            return url[len(prefix) :]
    return None


def _not_stored(resource: Mapping[str, Any]) -> list[str]:
    lost = [f"DocumentReference.{k}" for k in resource if k not in _KEPT]
    for index, content in enumerate(resource.get("content") or []):
        if index > 0:
            lost.append(f"DocumentReference.content[{index}]")
            continue
        lost += [
            f"DocumentReference.content[0].{k}"
            for k in content
            if k not in ("attachment", "format")
        ]
        lost += [
            f"{_ATTACHMENT}.{k}"
            for k in content.get("attachment") or {}
            if k not in _KEPT_ATTACHMENT
        ]
    context = resource.get("context") or {}
    lost += [f"DocumentReference.context.{k}" for k in context if k not in _KEPT_CONTEXT]
    lost += [
        f"DocumentReference.context.encounter[{i}]"
        for i in range(1, len(context.get("encounter") or []))
    ]
    for index, identifier in enumerate(resource.get("identifier") or []):
        lost += [
            f"DocumentReference.identifier[{index}].{k}"
            for k in identifier
            if k not in ("system", "value")
        ]
    master = resource.get("masterIdentifier") or {}
    lost += [
        f"DocumentReference.masterIdentifier.{k}" for k in master if k not in ("system", "value")
    ]
    return lost


def from_fhir(resource: Mapping[str, Any], base: str) -> Incoming:
    """The document to file (ids assigned here) and its inline content, if any.

    Raises:
        ValidationFailed: no subject, no content, a reference that is not this server's,
            or an attachment without data and without a Binary of this server.
    """
    subject = _reference_id(resource.get("subject"), "Patient")
    if subject is None:
        raise _required("DocumentReference.subject")
    patient_id = _uuid(subject, "DocumentReference.subject")
    contents = resource.get("content") or []
    if not contents:
        raise _required("DocumentReference.content")
    attachment = contents[0].get("attachment") or {}
    context = resource.get("context") or {}
    encounters = context.get("encounter") or []
    encounter_id = None
    if encounters:
        ref = _reference_id(encounters[0], "Encounter")
        encounter_id = _uuid(ref, "DocumentReference.context.encounter[0]")
    data = attachment.get("data")
    binary_id = None
    if data is None:
        url = attachment.get("url")
        found = binary_id_of(url, base) if isinstance(url, str) else None
        if found is None:
            msg = Message(N_("Send the content as data, or as the url of a Binary of this server."))
            raise ValidationFailed([FieldError(f"{_ATTACHMENT}.url", msg, "unknown_binary")])
        binary_id = _uuid(found, f"{_ATTACHMENT}.url")
    content = Upload(
        content_type=attachment.get("contentType") or "",
        data=base64.b64decode(data) if data is not None else b"",
        declared_size=attachment.get("size"),
        declared_sha1=attachment.get("hash"),
    )
    if data is not None and not content.content_type:
        raise _required(f"{_ATTACHMENT}.contentType")
    period = context.get("period") or {}
    identifiers = []
    master = resource.get("masterIdentifier")
    if master and master.get("value"):
        identifiers.append(Identifier(master.get("system"), master["value"], master=True))
    identifiers += [
        Identifier(i.get("system"), i["value"])
        for i in resource.get("identifier") or []
        if i.get("value")
    ]
    document = ExternalDocument(
        id=uuid7(),
        patient_id=patient_id,
        binary_id=binary_id,
        status=DocumentStatus(resource.get("status", "current")),
        date=moment(resource.get("date")),
        codes=DocumentCodes(
            type=_concept(resource.get("type")),
            categories=tuple(c for c in map(_concept, resource.get("category") or []) if c),
            events=tuple(c for c in map(_concept, context.get("event") or []) if c),
            facility_type=_concept(context.get("facilityType")),
            practice_setting=_concept(context.get("practiceSetting")),
            format=_coding(contents[0].get("format")),
        ),
        doc_status=resource.get("docStatus"),
        description=resource.get("description"),
        title=attachment.get("title"),
        language=attachment.get("language"),
        creation=moment(attachment.get("creation")),
        encounter_id=encounter_id,
        period_start=moment(period.get("start")),
        period_end=moment(period.get("end")),
        identifiers=tuple(identifiers),
    )
    return Incoming(document, content, tuple(_not_stored(resource)))


def binary_upload(resource: Mapping[str, Any]) -> tuple[Upload, UUID | None]:
    """A FHIR Binary as an upload, with the patient its ``securityContext`` names."""
    patient = _reference_id(resource.get("securityContext"), "Patient")
    data = resource.get("data")
    if not data:
        raise _required("Binary.data")
    upload = Upload(resource.get("contentType") or "", base64.b64decode(data))
    return upload, _uuid(patient, "Binary.securityContext") if patient else None


# -- Afiya -> FHIR ---------------------------------------------------------------------


def _coding_out(c: Coding | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"system": c.system, "code": c.code, "display": c.display}


def _concept_out(c: Concept | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"coding": [_coding_out(x) for x in c.codings], "text": c.text}


def attachment(
    base: str,
    binary_id: UUID,
    content_type: str,
    size: int,
    sha1: str,
    *,
    title: str | None = None,
    language: str | None = None,
    creation: datetime | None = None,
) -> dict[str, Any]:
    return {
        "contentType": content_type,
        "language": language,
        "url": f"{base}/Binary/{binary_id}",
        "size": size,
        "hash": sha1,
        "title": title,
        "creation": instant(creation),
    }


def external(document: ExternalDocument, binary: StoredBinary, base: str) -> dict[str, Any]:
    codes = document.codes
    master = next((i for i in document.identifiers if i.master), None)
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "DocumentReference",
            "id": str(document.id),
            "meta": meta(document.version, document.updated_at),
            "masterIdentifier": {"system": master.system, "value": master.value}
            if master
            else None,
            "identifier": [
                {"system": i.system, "value": i.value} for i in document.identifiers if not i.master
            ],
            "status": document.status.value,
            "docStatus": document.doc_status,
            "type": _concept_out(codes.type),
            "category": [_concept_out(c) for c in codes.categories],
            "subject": reference("Patient", document.patient_id),
            "date": instant(document.date),
            "description": document.description,
            "content": [
                {
                    "attachment": attachment(
                        base,
                        binary.id,
                        binary.content_type,
                        binary.size,
                        binary.sha1,
                        title=document.title,
                        language=document.language,
                        creation=document.creation,
                    ),
                    "format": _coding_out(codes.format),
                }
            ],
            "context": {
                "encounter": [reference("Encounter", document.encounter_id)]
                if document.encounter_id
                else [],
                "event": [_concept_out(c) for c in codes.events],
                "period": {
                    "start": instant(document.period_start),
                    "end": instant(document.period_end),
                },
                "facilityType": _concept_out(codes.facility_type),
                "practiceSetting": _concept_out(codes.practice_setting),
            },
        }
    )


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY_SYSTEM, "code": code, "display": display}]}]


def issued(document: StoredDocument, sha1: str, title: str, base: str) -> dict[str, Any]:
    """A discharge letter or hospitalisation report Afiya issued (PDF)."""
    loinc, display = ISSUED_TYPES.get(document.kind, ("", ""))
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "DocumentReference",
            "id": str(document.id),
            "status": "current",
            "docStatus": "final",
            "type": {
                "coding": [
                    {"system": LOINC, "code": loinc, "display": display} if loinc else None,
                    {"system": KIND_SYSTEM, "code": document.kind},
                ]
            },
            "category": _category(CLINICAL_NOTE, "Clinical note"),
            "subject": reference("Patient", document.patient_id),
            "date": instant(document.issued_at),
            "author": [reference("Practitioner", document.issued_by)],
            "content": [
                {
                    "attachment": attachment(
                        base,
                        document.id,
                        document.content_type,
                        document.size,
                        sha1,
                        title=title,
                        language=document.language,
                        creation=document.issued_at,
                    )
                }
            ],
            "context": {"encounter": [reference("Encounter", document.encounter_id)]},
        }
    )


def imaging_file(
    report: ImagingReport,
    original: StoredImage,
    files: Sequence[tuple[StoredImage, str]],
    base: str,
) -> dict[str, Any]:
    """An imaging file: the original first, then its renditions (each with its SHA-1)."""
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "DocumentReference",
            "id": str(original.id),
            "status": "current",
            "docStatus": "final",
            "type": {
                "coding": [
                    {"system": LOINC, "code": IMAGING_TYPE[0], "display": IMAGING_TYPE[1]},
                    {"system": KIND_SYSTEM, "code": "imaging_file"},
                ]
            },
            "category": _category(IMAGING, "Imaging"),
            "subject": reference("Patient", report.patient_id),
            "date": instant(report.reported_at),
            "author": [reference("Practitioner", report.reported_by)],
            "description": f"{report.modality.value} {report.body_site}",
            "content": [
                {
                    "attachment": attachment(
                        base,
                        f.id,
                        f.content_type,
                        f.size,
                        sha1,
                        title=f.filename if f.role == "original" else f"{f.role}",
                        creation=report.reported_at,
                    )
                }
                for f, sha1 in files
            ],
            "context": {
                "encounter": [reference("Encounter", report.encounter_id)]
                if report.encounter_id
                else [],
                "related": [reference("DiagnosticReport", report.id)],
            },
        }
    )


def binary(
    ident: UUID, content_type: str, data: bytes, security_context: str | None
) -> dict[str, Any]:
    """The FHIR Binary of a file; ``security_context`` is ``Type/id`` (its document)."""
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "Binary",
            "id": str(ident),
            "contentType": content_type,
            "securityContext": {"reference": security_context} if security_context else None,
            "data": base64.b64encode(data).decode("ascii"),
        }
    )
