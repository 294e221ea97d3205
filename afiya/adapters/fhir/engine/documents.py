"""FHIR DocumentReference (read, search, create) and Binary (read, create).

Documents Afiya holds: the letters and reports it issues, the files of imaging reports,
and documents received from other systems (filed through ``DocumentReference`` create,
their content in the blob store). Every access goes through a clinical use case:
``clinical:read`` / ``clinical:write`` against the patient's facility, audited with the
patient id; a Binary inherits the patient of its document. A ``Binary`` is read as FHIR
JSON with ``Accept: application/fhir+json``, as its raw bytes otherwise (the route does
that with :func:`binary_content`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from afiya.adapters.fhir import documents as maps
from afiya.adapters.fhir.engine import versions
from afiya.adapters.fhir.engine.clinical_search import record_ids, timeline_items
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.adapters.fhir.engine.registry import (
    EVERYTHING_SOURCES,
    Resource,
    ResourceType,
    SearchResult,
    WriteResult,
    register,
    uuid_of,
)
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import authorize, has_permission
from afiya.domain.clinical import use_cases
from afiya.domain.clinical.external_documents import (
    DocumentTooLarge,
    UnsupportedContentType,
    sha1_base64,
)
from afiya.domain.clinical.ports import StoredImage
from afiya.domain.clinical.results import ImagingReport
from afiya.domain.clinical.timeline import ItemType
from afiya.domain.clinical.use_cases import external_documents as received
from afiya.domain.fhir.search import (
    Criterion,
    DateValue,
    ParamType,
    SearchRequest,
    SearchSpec,
    TokenValue,
)
from afiya.domain.patients.errors import PatientNotFound
from afiya.domain.shared.errors import FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

# -- shared ------------------------------------------------------------------------


def _ports(ctx: FhirContext) -> dict[str, Any]:
    return {"principal": ctx.principal, "clinical": ctx.uow.clinical, "audit": ctx.uow.audit}


def _blobs(ctx: FhirContext) -> Any:
    if ctx.blobs is None:  # pragma: no cover - every HTTP context carries the store
        raise RuntimeError("this FHIR context has no blob store")
    return ctx.blobs


def _title(ctx: FhirContext, kind: str) -> str:
    msgid = maps.ISSUED_TITLES.get(kind, kind)
    return str(ctx.translate(msgid)) if ctx.translate else msgid


def _fhir_paths(exc: ValidationFailed, paths: Mapping[str, str]) -> ValidationFailed:
    """The same errors, located by FHIR path instead of use-case field names."""
    return ValidationFailed(
        [replace(e, field=paths.get(e.field, e.field)) for e in exc.errors],
        exc.message,
        code=exc.code,
    )


def _content_error(exc: Exception, paths: Mapping[str, str]) -> FhirError:
    if isinstance(exc, UnsupportedContentType):
        return FhirError(
            415, "not-supported", exc.message, expression=[paths["content_type"]], code=exc.code
        )
    assert isinstance(exc, DocumentTooLarge)
    return FhirError(413, "too-costly", exc.message, expression=[paths["data"]], code=exc.code)


async def _imaging_resource(
    ctx: FhirContext, report: ImagingReport, original: StoredImage, images: Sequence[StoredImage]
) -> Resource:
    """The original and its renditions, each hashed from the blob store (access to the
    report was checked and audited by the caller)."""
    files = [original, *(i for i in images if i.original_id == original.id)]
    hashed = [(f, sha1_base64(await _blobs(ctx).get(f.blob_key))) for f in files]
    return maps.imaging_file(report, original, hashed, ctx.base)


# -- DocumentReference read ---------------------------------------------------------


async def read_document(ctx: FhirContext, ident: str) -> Resource:
    key = uuid_of(ident)
    if await ctx.uow.clinical_documents.document(key) is not None:
        document, binary = await received.read_external_document(
            key, documents=ctx.uow.clinical_documents, **_ports(ctx)
        )
        return maps.external(document, binary, ctx.base)
    if await ctx.uow.clinical.document(key) is not None:
        stored, data = await use_cases.read_document(key, blobs=_blobs(ctx), **_ports(ctx))
        return maps.issued(stored, sha1_base64(data), _title(ctx, stored.kind), ctx.base)
    image = await ctx.uow.clinical_documents.imaging_file(key)
    if image is not None and image.role == "original":
        report, images = await use_cases.read_imaging_report(image.report_id, **_ports(ctx))
        return await _imaging_resource(ctx, report, image, images)
    raise NotFound(Message(N_("The resource was not found.")))


# -- DocumentReference search -------------------------------------------------------


def _patients(request: SearchRequest) -> list[UUID]:
    wanted = [v for c in request.values("patient") for v in c.values]
    if not wanted:
        raise FhirError(
            400,
            "required",
            Message(
                N_("Search {type} by patient (patient=Patient/<id>)."),
                {"type": "DocumentReference"},
            ),
            expression=["patient"],
        )
    if request.values("_lastUpdated"):
        raise FhirError(
            400,
            "not-supported",
            Message(
                N_("{interaction} is not supported on {type}."),
                {"interaction": "_lastUpdated", "type": "DocumentReference"},
            ),
            expression=["_lastUpdated"],
        )
    out = []
    for value in wanted:
        try:
            out.append(UUID(str(value)))
        except ValueError:
            continue  # not an Afiya id: no such patient
    return out


def _token_ok(request: SearchRequest, name: str, codings: list[tuple[str | None, str]]) -> bool:
    """AND across repeats, OR within one; a value's system must match when given."""
    for criterion in request.values(name):
        alternatives = [v for v in criterion.values if isinstance(v, TokenValue)]
        if not any(
            code == v.code and (v.system is None or v.system == (system or ""))
            for v in alternatives
            for system, code in codings
        ):
            return False
    return True


def _codings(concepts: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None) -> list[Any]:
    if concepts is None:
        return []
    if isinstance(concepts, Mapping):
        concepts = [concepts]
    return [(c.get("system"), c.get("code")) for cc in concepts for c in cc.get("coding", [])]


def _matches(request: SearchRequest, resource: Resource) -> bool:
    identifiers = [resource.get("masterIdentifier") or {}, *resource.get("identifier", [])]
    if not (
        _token_ok(request, "_id", [(None, resource["id"])])
        and _token_ok(request, "type", _codings(resource.get("type")))
        and _token_ok(request, "category", _codings(resource.get("category")))
        and _token_ok(
            request, "identifier", [(i.get("system"), i["value"]) for i in identifiers if i]
        )
    ):
        return False
    moment = maps.moment(resource.get("date"))
    return all(
        moment is not None and any(isinstance(v, DateValue) and v.matches(moment) for v in c.values)
        for c in request.values("date")
    )


async def _documents_of(ctx: FhirContext, patient_id: UUID) -> list[Resource]:
    try:
        filed = await received.list_external_documents(
            patient_id, documents=ctx.uow.clinical_documents, **_ports(ctx)
        )
    except PatientNotFound:
        return []
    out = [maps.external(d, b, ctx.base) for d, b in filed]
    # issued documents and imaging reports (access check and audit by the timeline use case)
    items = await timeline_items(
        ctx, patient_id, {ItemType.DOCUMENT, ItemType.IMAGING}, missing_ok=False
    )
    for ident in record_ids(items, ItemType.DOCUMENT):
        stored = await ctx.uow.clinical.document(ident)
        if stored is not None:
            sha1 = sha1_base64(await _blobs(ctx).get(stored.blob_key))
            out.append(maps.issued(stored, sha1, _title(ctx, stored.kind), ctx.base))
    for ident in record_ids(items, ItemType.IMAGING):
        report = await ctx.uow.clinical.imaging_report(ident)
        if report is None:
            continue
        images = await ctx.uow.clinical.images(report.id)
        for image in images:
            if image.role == "original":
                out.append(await _imaging_resource(ctx, report, image, images))
    return out


async def search_documents(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Newest first (by DocumentReference.date); exact total."""
    found: list[Resource] = []
    for patient_id in _patients(request):
        found += [r for r in await _documents_of(ctx, patient_id) if _matches(request, r)]
    floor = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda r: (maps.moment(r.get("date")) or floor, r["id"]), reverse=True)
    return SearchResult(found[request.offset : request.offset + request.count], len(found))


async def documents_of(ctx: FhirContext, patient_id: UUID) -> list[Resource]:
    """$everything: the patient's documents, for callers with clinical:read."""
    if not has_permission(ctx.principal, Permission.CLINICAL_READ):
        return []
    request = SearchRequest(
        "DocumentReference", (Criterion("patient", None, (str(patient_id),)),), count=10_000
    )
    return (await search_documents(ctx, request)).resources


EVERYTHING_SOURCES.append(documents_of)


# -- DocumentReference create -------------------------------------------------------


async def create_document(ctx: FhirContext, resource: Resource) -> WriteResult:
    """File a document sent by another system (content inline or a Binary created first)."""
    incoming = maps.from_fhir(resource, ctx.base)
    try:
        document, binary = await received.file_external_document(
            incoming.document,
            incoming.content,
            documents=ctx.uow.clinical_documents,
            blobs=_blobs(ctx),
            clock=ctx.clock,
            max_bytes=ctx.document_max_bytes,
            **_ports(ctx),
        )
    except (UnsupportedContentType, DocumentTooLarge) as exc:
        raise _content_error(exc, maps.FIELD_PATHS) from exc
    except ValidationFailed as exc:
        raise _fhir_paths(exc, maps.FIELD_PATHS) from exc
    except PatientNotFound as exc:
        raise ValidationFailed(
            [FieldError("DocumentReference.subject", exc.message, "unknown_patient")]
        ) from exc
    stored = await ctx.uow.clinical_documents.document(document.id)
    assert stored is not None
    return WriteResult(maps.external(stored, binary, ctx.base), True, incoming.not_stored)


# -- Binary ---------------------------------------------------------------------------


async def binary_content(ctx: FhirContext, ident: str) -> tuple[str, bytes, str | None]:
    """A Binary's content type, bytes and security context (``DocumentReference/<id>``),
    through the use case of the document it belongs to (access checked, audited)."""
    authorize(ctx.principal, Permission.CLINICAL_READ)
    key = uuid_of(ident)
    if await ctx.uow.clinical_documents.binary(key) is not None:
        binary, document_id, data = await received.read_binary(
            key, documents=ctx.uow.clinical_documents, blobs=_blobs(ctx), **_ports(ctx)
        )
        context = f"DocumentReference/{document_id}" if document_id else None
        if context is None and binary.patient_id is not None:
            context = f"Patient/{binary.patient_id}"
        return binary.content_type, data, context
    if await ctx.uow.clinical.document(key) is not None:
        stored, data = await use_cases.read_document(key, blobs=_blobs(ctx), **_ports(ctx))
        return stored.content_type, data, f"DocumentReference/{stored.id}"
    image = await ctx.uow.clinical_documents.imaging_file(key)
    if image is not None:
        found, data = await use_cases.read_image(
            image.report_id, image.id, blobs=_blobs(ctx), **_ports(ctx)
        )
        return found.content_type, data, f"DocumentReference/{found.original_id or found.id}"
    raise NotFound(Message(N_("The resource was not found.")))


async def read_binary(ctx: FhirContext, ident: str) -> Resource:
    content_type, data, context = await binary_content(ctx, ident)
    return maps.binary(uuid_of(ident), content_type, data, context)


async def search_binaries(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Binary by ``_id`` only (a file is found through its DocumentReference)."""
    wanted = [v.code for c in request.values("_id") for v in c.values if isinstance(v, TokenValue)]
    if not wanted:
        raise FhirError(
            400,
            "required",
            Message(N_("Search Binary by _id; find files through DocumentReference.")),
            expression=["_id"],
        )
    found = []
    for ident in dict.fromkeys(wanted):
        try:
            found.append(await read_binary(ctx, ident))
        except NotFound:
            continue
    return SearchResult(found[request.offset : request.offset + request.count], len(found))


async def create_binary(ctx: FhirContext, resource: Resource) -> WriteResult:
    """Store a file for a DocumentReference to come (raw body or FHIR JSON Binary)."""
    upload, patient_id = maps.binary_upload(resource)
    try:
        binary = await received.upload_binary(
            upload,
            patient_id,
            documents=ctx.uow.clinical_documents,
            blobs=_blobs(ctx),
            clock=ctx.clock,
            max_bytes=ctx.document_max_bytes,
            **_ports(ctx),
        )
    except (UnsupportedContentType, DocumentTooLarge) as exc:
        raise _content_error(exc, maps.BINARY_PATHS) from exc
    except ValidationFailed as exc:
        raise _fhir_paths(exc, maps.BINARY_PATHS) from exc
    except PatientNotFound as exc:
        raise ValidationFailed(
            [FieldError("Binary.securityContext", exc.message, "unknown_patient")]
        ) from exc
    context = f"Patient/{patient_id}" if patient_id else None
    body = maps.binary(binary.id, binary.content_type, b"", context)
    return WriteResult(body, True)


# -- registry -------------------------------------------------------------------------

_KEPT_DOC = (
    "Read and search (patient required) over the documents Afiya holds: the discharge "
    "letters and hospitalisation reports it issues (PDF; LOINC 18842-5 / 34105-7), the "
    "files of imaging reports (LOINC 18748-4; the original, then its thumbnail and WebP "
    "renditions as further contents) and documents filed by other systems. Create files "
    "a document from another system: content as attachment.data (base64) or attachment.url "
    "= Binary/<id> created first; PDF, JPEG, PNG, TIFF or plain text only (415), at most "
    "the configured size (413, default 20 MB); the bytes must be of the declared type and "
    "match a declared size or SHA-1 hash (422). Kept: masterIdentifier and identifier "
    "(system, value), status, docStatus, type and category (every coding: system, code, "
    "display; text), subject (a Patient of this server, required), date, description, "
    "the first content (attachment contentType, language, title, creation; format), "
    "context.encounter (the first, an Encounter of the patient), context.event, period, "
    "facilityType, practiceSetting. Not kept: text, contained, author, authenticator, "
    "custodian, relatesTo, securityLabel (Afiya's own access rules apply), further "
    "contents, context.sourcePatientInfo and related, extensions, identifier use/type/"
    "period/assigner, coding version/userSelected; a create lists what it did not store "
    "in X-Afiya-Not-Stored. Attachment url, size and hash are the server's. clinical:read "
    "/ clinical:write in the patient's facility; every read and each patient searched is "
    "audited."
)

register(
    ResourceType(
        name="DocumentReference",
        read_permission=Permission.CLINICAL_READ,
        write_permission=Permission.CLINICAL_WRITE,
        search_spec=SearchSpec(
            params={
                "patient": ParamType.REFERENCE,
                "type": ParamType.TOKEN,
                "date": ParamType.DATE,
                "category": ParamType.TOKEN,
                "identifier": ParamType.TOKEN,
            }
        ),
        read=read_document,
        **versions.interactions("DocumentReference", read_document, versions.DOCUMENT),
        search=search_documents,
        create=create_document,
        conditional_create=True,
        patient_data=True,
        param_docs={
            "patient": "required: Patient/{id}",
            "type": f"a type coding ({maps.LOINC}|18842-5), or {maps.KIND_SYSTEM}|discharge_letter",
            "date": "DocumentReference.date (issued, reported or sent), with prefixes",
            "category": f"{maps.CATEGORY_SYSTEM}|clinical-note or imaging, or the sender's",
            "identifier": "masterIdentifier or identifier of a filed document (system|value)",
        },
        documentation=_KEPT_DOC
        + " vread and _history come from the change log (the same read, permission and "
        "audit, plus one document_reference.vread or .history event with the patient id). "
        "Issued documents, imaging files and filed documents are not rewritten: one "
        "version each (another if a patient merge moved it); the content (Binary) is "
        "the same bytes in every version.",
    )
)
register(
    ResourceType(
        name="Binary",
        read_permission=Permission.CLINICAL_READ,
        write_permission=Permission.CLINICAL_WRITE,
        search_spec=SearchSpec(params={}),
        read=read_binary,
        search=search_binaries,
        create=create_binary,
        patient_data=True,
        param_docs={"_id": "required: the Binary id (from DocumentReference.content)"},
        documentation=(
            "The content of a DocumentReference. Read with Accept: application/fhir+json: "
            "the FHIR Binary (contentType, data in base64, securityContext = its "
            "DocumentReference); with any other Accept: the raw bytes with their "
            "Content-Type. Create with the raw body and its Content-Type, or a FHIR JSON "
            "Binary with data (securityContext may name the Patient); the answer carries no "
            "data. A file no DocumentReference has claimed is readable by its uploader "
            "only (and by the patient's clinicians when securityContext named the patient). "
            "Same permission and audit as the document it belongs to."
        ),
    )
)
