"""Use cases of clinical documents: discharge letters and hospitalisation reports as PDF
in the blob store."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal
from afiya.domain.audit.ports import AuditLog
from afiya.domain.clinical.common import field_error, raise_if
from afiya.domain.clinical.documents import (
    DocumentInput,
    DocumentKind,
    FacilityHeader,
    FollowUp,
    PatientIdentity,
    build_discharge_letter,
    build_hospitalisation_report,
)
from afiya.domain.clinical.icd10 import Icd10Catalogue
from afiya.domain.clinical.ports import (
    ClinicalRepository,
    DocumentRenderer,
    StoredDocument,
)
from afiya.domain.clinical.use_cases.access import (
    DOCUMENT_LANGUAGES,
    ClinicalRecordNotFound,
    audit_record,
    blob_key,
    load_encounter,
    load_facility,
    load_patient,
)
from afiya.domain.orgunits.ports import OrgUnitRepository
from afiya.domain.platform.blobs import BlobStore
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.i18n import N_
from afiya.domain.shared.ids import uuid7


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    encounter_id: UUID
    kind: DocumentKind
    language: str
    addressee: str | None = None
    course: str | None = None
    treatments: tuple[str, ...] = ()
    key_results: tuple[str, ...] = ()
    follow_up: FollowUp | None = None


async def issue_document(
    request: DocumentRequest,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    units: OrgUnitRepository,
    user_names: Callable[[Sequence[UUID]], Any],
    catalogue: Icd10Catalogue,
    renderer: DocumentRenderer,
    translator: Callable[[str], Callable[[str], str]],
    blobs: BlobStore,
    audit: AuditLog,
    clock: Clock,
) -> StoredDocument:
    """Generate the discharge letter or hospitalisation report of a closed encounter as a
    PDF in French or Arabic (or English), store it in the blob store and list it on the
    timeline. Rules in :mod:`afiya.domain.clinical.documents` (closed encounter, exactly
    one primary diagnosis; a report for admissions only).

    ``user_names`` maps user ids to display names (an awaitable of a dict).
    """
    if request.language not in DOCUMENT_LANGUAGES:
        raise_if(
            [
                field_error(
                    "language",
                    "unsupported_language",
                    N_("Documents are written in French, Arabic or English."),
                )
            ]
        )
    encounter, patient = await load_encounter(
        request.encounter_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    facility = await load_facility(encounter.unit_id, units)
    place_ids = {m.location.department_id for m in encounter.movements} | {
        m.location.ward_id for m in encounter.movements if m.location.ward_id
    }
    places: dict[UUID, str] = {}
    for place_id in place_ids:
        unit = await units.get(place_id)
        if unit is not None:
            places[place_id] = unit.name
    names: dict[UUID, str] = await user_names([principal.user_id, encounter.attending_id])
    try:
        tz = ZoneInfo(facility.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    now = clock.now()
    data = DocumentInput(
        facility=FacilityHeader(name=facility.name),
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
        encounter=encounter,
        diagnoses=await clinical.encounter_diagnoses(encounter.id),
        author=names.get(principal.user_id, principal.username),
        issued_at=now,
        tz=tz,
        place_names=places,
        attending=names.get(encounter.attending_id, "?"),
        treatments=request.treatments,
        course=request.course,
        key_results=request.key_results,
        follow_up=request.follow_up,
        addressee=request.addressee,
    )
    build = (
        build_discharge_letter
        if request.kind is DocumentKind.DISCHARGE_LETTER
        else build_hospitalisation_report
    )
    document = build(data, catalogue, request.language)
    pdf = await asyncio.to_thread(renderer.render, document, translator(request.language))
    blob = await blobs.put(
        blob_key("documents", now, renderer.media_type), pdf, renderer.media_type
    )
    stored = StoredDocument(
        id=uuid7(),
        patient_id=patient.id,
        encounter_id=encounter.id,
        kind=request.kind.value,
        language=request.language,
        blob_key=blob.key,
        content_type=renderer.media_type,
        size=blob.size,
        sha256=blob.sha256 or hashlib.sha256(pdf).hexdigest(),
        issued_at=now,
        issued_by=principal.user_id,
    )
    await clinical.add_document(stored)
    await audit.record(
        audit_record(
            "clinical.document.create", "document", stored.id, patient.id, kind=stored.kind
        )
    )
    return stored


async def read_document(
    document_id: UUID,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    blobs: BlobStore,
    audit: AuditLog,
) -> tuple[StoredDocument, bytes]:
    """A stored document and its file. Audited."""
    found = await clinical.document(document_id)
    if found is None:
        raise ClinicalRecordNotFound()
    await load_patient(found.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False)
    data = await blobs.get(found.blob_key)
    await audit.record(
        audit_record("clinical.document.read", "document", found.id, found.patient_id)
    )
    return found, data
