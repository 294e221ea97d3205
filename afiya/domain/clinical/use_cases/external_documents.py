"""Use cases of documents received from other systems (a lab's PDF report, a scanned
referral letter): files in the blob store, their description in the clinical record.

Access is that of every clinical write and read: ``clinical:write`` (``clinical:read``)
against the *patient's* facility, and an audit event carrying the patient id. A file
uploaded before its document names no patient yet: only its uploader may read or claim
it until a document is filed with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.clinical.common import field_error, raise_if
from afiya.domain.clinical.external_documents import (
    ExternalDocument,
    ExternalDocumentRepository,
    StoredBinary,
    Upload,
    base_type,
    check_content_type,
    check_size,
    content_errors,
    sha1_base64,
)
from afiya.domain.clinical.ports import ClinicalRepository
from afiya.domain.clinical.use_cases.access import (
    ClinicalRecordNotFound,
    audit_record,
    check_encounter_of,
    load_patient,
)
from afiya.domain.platform.blobs import BlobStore
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.i18n import N_
from afiya.domain.shared.ids import uuid7

_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tif",
    "text/plain": "txt",
}


async def _store(
    upload: Upload,
    patient_id: UUID | None,
    *,
    principal: Principal,
    documents: ExternalDocumentRepository,
    blobs: BlobStore,
    clock: Clock,
    max_bytes: int,
) -> StoredBinary:
    check_content_type(upload.content_type)
    check_size(len(upload.data), max_bytes)
    raise_if(content_errors(upload))
    now = clock.now()
    kind = base_type(upload.content_type)
    key = f"clinical/external/{now:%Y}/{now:%m}/{uuid7()}.{_EXTENSIONS.get(kind, 'bin')}"
    blob = await blobs.put(key, upload.data, upload.content_type)
    binary = StoredBinary(
        id=uuid7(),
        content_type=upload.content_type,
        size=len(upload.data),
        sha1=sha1_base64(upload.data),
        sha256=blob.sha256 or hashlib.sha256(upload.data).hexdigest(),
        blob_key=blob.key,
        created_by=principal.user_id,
        patient_id=patient_id,
        created_at=now,
    )
    await documents.add_binary(binary)
    return binary


async def upload_binary(
    upload: Upload,
    patient_id: UUID | None,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    documents: ExternalDocumentRepository,
    blobs: BlobStore,
    audit: AuditLog,
    clock: Clock,
    max_bytes: int,
) -> StoredBinary:
    """Store a file that a document will point at. With ``patient_id`` (FHIR
    ``securityContext``), ``clinical:write`` in that patient's facility; without, the
    caller needs ``clinical:write`` somewhere and the file stays theirs alone until a
    document claims it.

    Raises:
        UnsupportedContentType: not PDF, JPEG, PNG, TIFF or plain text.
        DocumentTooLarge: above ``max_bytes``.
        ValidationFailed: the bytes are not of the declared type.
    """
    if patient_id is not None:
        await load_patient(patient_id, principal, Permission.CLINICAL_WRITE, clinical, write=True)
    else:
        authorize(principal, Permission.CLINICAL_WRITE)
    binary = await _store(
        upload,
        patient_id,
        principal=principal,
        documents=documents,
        blobs=blobs,
        clock=clock,
        max_bytes=max_bytes,
    )
    await audit.record(
        AuditRecord(
            "clinical.binary.create",
            "binary",
            str(binary.id),
            patient_id,
            details={"content_type": binary.content_type, "size": binary.size},
        )
    )
    return binary


async def file_external_document(
    document: ExternalDocument,
    content: Upload | None,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    documents: ExternalDocumentRepository,
    blobs: BlobStore,
    audit: AuditLog,
    clock: Clock,
    max_bytes: int,
) -> tuple[ExternalDocument, StoredBinary]:
    """File a document received from another system in the patient's record.

    The content is either ``content`` (stored now) or the binary ``document.binary_id``
    uploaded before: that binary must exist, be unclaimed or the same patient's, and
    have been uploaded by the caller (or for this patient); a size or SHA-1 declared in
    ``content`` (with empty data) is then checked against it. The encounter, if any,
    must be the patient's. ``clinical:write`` in the patient's facility; audited.
    """
    patient = await load_patient(
        document.patient_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    await check_encounter_of(document.encounter_id, patient.id, clinical)
    if content is not None and content.data:
        binary = await _store(
            content,
            patient.id,
            principal=principal,
            documents=documents,
            blobs=blobs,
            clock=clock,
            max_bytes=max_bytes,
        )
    else:
        binary = await _claimable(document.binary_id, patient.id, principal, documents)
        errors = []
        if (
            content is not None
            and content.content_type
            and base_type(content.content_type) != base_type(binary.content_type)
        ):
            errors.append(
                field_error(
                    "content_type",
                    "content_type_mismatch",
                    N_("The declared content type is not that of the stored file."),
                )
            )
        if content is not None and content.declared_size not in (None, binary.size):
            errors.append(
                field_error(
                    "size",
                    "size_mismatch",
                    N_("The declared size is not that of the stored file."),
                )
            )
        if content is not None and content.declared_sha1 not in (None, binary.sha1):
            errors.append(
                field_error(
                    "hash",
                    "hash_mismatch",
                    N_("The declared SHA-1 hash is not that of the stored file."),
                )
            )
        raise_if(errors)
        await documents.claim_binary(binary.id, patient.id)
        binary = replace(binary, patient_id=patient.id)
    filed = replace(document, binary_id=binary.id, date=document.date or clock.now())
    await documents.add_document(filed)
    await audit.record(
        audit_record(
            "clinical.external_document.create",
            "external_document",
            filed.id,
            patient.id,
            binary_id=str(binary.id),
            content_type=binary.content_type,
            size=binary.size,
        )
    )
    return filed, binary


async def _claimable(
    binary_id: UUID | None,
    patient_id: UUID,
    principal: Principal,
    documents: ExternalDocumentRepository,
) -> StoredBinary:
    if binary_id is None:
        raise_if(
            [field_error("data", "required", N_("Send the document's content or a Binary id."))]
        )
        raise AssertionError  # unreachable
    binary = await documents.binary(binary_id)
    mine = binary is not None and (
        binary.created_by == principal.user_id or binary.patient_id == patient_id
    )
    if binary is None or not mine:
        raise_if([field_error("url", "unknown_binary", N_("No stored file has this Binary id."))])
    assert binary is not None
    taken = await documents.document_of_binary(binary.id)
    if taken is not None or (binary.patient_id not in (None, patient_id)):
        raise_if(
            [
                field_error(
                    "url",
                    "binary_taken",
                    N_("This file already belongs to another document or patient."),
                )
            ]
        )
    return binary


async def read_external_document(
    document_id: UUID,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    documents: ExternalDocumentRepository,
    audit: AuditLog,
) -> tuple[ExternalDocument, StoredBinary]:
    """A filed document and the description of its file. ``clinical:read``; audited."""
    found = await documents.document(document_id)
    if found is None:
        raise ClinicalRecordNotFound()
    await load_patient(found.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False)
    binary = await documents.binary(found.binary_id) if found.binary_id else None
    if binary is None:  # pragma: no cover - a foreign key keeps it
        raise ClinicalRecordNotFound()
    await audit.record(
        audit_record(
            "clinical.external_document.read", "external_document", found.id, found.patient_id
        )
    )
    return found, binary


async def list_external_documents(
    patient_id: UUID,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    documents: ExternalDocumentRepository,
    audit: AuditLog,
) -> list[tuple[ExternalDocument, StoredBinary]]:
    """The patient's filed documents, newest first. ``clinical:read``; one audit event."""
    await load_patient(patient_id, principal, Permission.CLINICAL_READ, clinical, write=False)
    found: Sequence[ExternalDocument] = await documents.patient_documents(patient_id)
    out = []
    for document in found:
        binary = await documents.binary(document.binary_id) if document.binary_id else None
        if binary is not None:
            out.append((document, binary))
    await audit.record(
        audit_record(
            "clinical.external_document.list",
            "external_document",
            None,
            patient_id,
            results=len(out),
        )
    )
    return out


async def read_binary(
    binary_id: UUID,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    documents: ExternalDocumentRepository,
    blobs: BlobStore,
    audit: AuditLog,
) -> tuple[StoredBinary, UUID | None, bytes]:
    """A received file, its document id (None before one is filed) and its bytes.

    The file inherits its patient: ``clinical:read`` in the patient's facility. A file no
    document has claimed and uploaded for no patient is its uploader's alone (anyone
    else: not found). Audited with the patient id.
    """
    binary = await documents.binary(binary_id)
    if binary is None:
        raise ClinicalRecordNotFound()
    if binary.patient_id is not None:
        await load_patient(
            binary.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False
        )
    elif binary.created_by != principal.user_id:
        raise ClinicalRecordNotFound()
    data = await blobs.get(binary.blob_key)
    document_id = await documents.document_of_binary(binary.id)
    await audit.record(
        AuditRecord(
            "clinical.binary.read",
            "binary",
            str(binary.id),
            binary.patient_id,
            details={"document_id": str(document_id) if document_id else None},
        )
    )
    return binary, document_id, data
