"""FHIR Medication, MedicationRequest, MedicationDispense and ServiceRequest (read, search).

Prescriptions are written, amended and dispensed through ``/api/v1`` (the safety engine,
overrides, versions); FHIR reads them. Reads go through the prescribing use cases
(``read_prescription``, ``list_prescriptions``, ``read_dispensing``), so the permission
(``clinical:read``), the facility check on the patient and the audit event with its
``patient_id`` are those of ``/api/v1``.

A prescription (order set) is not one FHIR resource: each medication line is a
MedicationRequest, each laboratory or imaging line a ServiceRequest (the line id is the
resource id), and the prescription id is their ``groupIdentifier``/``requisition``.
Every dispensing decision is a MedicationDispense, a refusal by the safety engine or a
pharmacist's rejection as ``declined`` with its reason. Medication is a formulary
product; its id is the product code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from afiya.adapters.fhir.engine import prescribing_writes as writes
from afiya.adapters.fhir.engine import versions
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.adapters.fhir.engine.prescribing_maps import (
    ATC_SYSTEM,
    CATEGORY_SYSTEM,
    DICOM_SYSTEM,
    DISPENSE_REASON_SYSTEM,
    FORMULARY_SYSTEM,
    LOINC_SYSTEM,
    MODALITY_SYSTEM,
    PRESCRIPTION_SYSTEM,
    ROUTE_SYSTEM,
    SNOMED_SYSTEM,
    UCUM,
    UCUM_SYSTEM,
    category_codings,
    dosage,
    medication,
    medication_dispense,
    medication_id,
    medication_request,
    medication_request_status,
    quantity,
    service_request,
    service_request_status,
)
from afiya.adapters.fhir.engine.registry import (
    EVERYTHING_SOURCES,
    Resource,
    ResourceType,
    SearchResult,
    register,
    uuid_of,
)
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import authorize, has_permission, in_scope
from afiya.domain.audit.model import AuditRecord
from afiya.domain.fhir.search import ParamType, SearchRequest, SearchSpec, TokenValue
from afiya.domain.prescribing import dispensing, use_cases
from afiya.domain.prescribing.orders import Dispensing, LineKind, OrderLine, Prescription
from afiya.domain.prescribing.ports import FormularyEntry
from afiya.domain.shared.errors import NotFound
from afiya.domain.shared.i18n import N_, Message

# The mapping lives in prescribing_maps; these names stay importable from here.
__all__ = [
    "ATC_SYSTEM",
    "CATEGORY_SYSTEM",
    "DICOM_SYSTEM",
    "DISPENSE_REASON_SYSTEM",
    "FORMULARY_SYSTEM",
    "LOINC_SYSTEM",
    "MODALITY_SYSTEM",
    "PRESCRIPTION_SYSTEM",
    "ROUTE_SYSTEM",
    "SNOMED_SYSTEM",
    "UCUM",
    "UCUM_SYSTEM",
    "dosage",
    "medication",
    "medication_dispense",
    "medication_id",
    "medication_request",
    "medication_request_status",
    "quantity",
    "service_request",
    "service_request_status",
]

MEDICATION_SPEC = SearchSpec(params={"code": ParamType.TOKEN})
REQUEST_SPEC = SearchSpec(
    params={"patient": ParamType.REFERENCE, "status": ParamType.TOKEN, "code": ParamType.TOKEN}
)
DISPENSE_SPEC = SearchSpec(
    params={"patient": ParamType.REFERENCE, "prescription": ParamType.REFERENCE}
)
SERVICE_SPEC = SearchSpec(
    params={
        "patient": ParamType.REFERENCE,
        "status": ParamType.TOKEN,
        "category": ParamType.TOKEN,
    }
)


class _ContextAudit:
    """The use cases' audit port through the FHIR context: silent while a subscription's
    criteria are evaluated (nothing leaves the server then)."""

    def __init__(self, ctx: FhirContext) -> None:
        self._ctx = ctx

    async def record(self, record: AuditRecord) -> None:
        await self._ctx.record(record)


# -- loading through the use cases ------------------------------------------------------------


async def _prescription(ctx: FhirContext, prescription_id: UUID) -> tuple[Prescription, list[Any]]:
    return await use_cases.read_prescription(
        prescription_id,
        principal=ctx.principal,
        clinical=ctx.uow.clinical,
        prescribing=ctx.uow.prescribing,
        audit=_ContextAudit(ctx),
    )


async def _of_line(ctx: FhirContext, ident: str) -> tuple[Prescription, OrderLine, list[Any]]:
    line_id = uuid_of(ident)
    found = await ctx.uow.prescribing.prescription_of_line(line_id)
    if found is None:
        raise NotFound()
    prescription, dispensings = await _prescription(ctx, found.id)
    line = prescription.line(line_id)
    assert line is not None
    return prescription, line, dispensings


async def _patient_prescriptions(ctx: FhirContext, patient_id: UUID) -> list[Prescription]:
    """Every version of the patient's prescriptions; none outside the caller's scope (a
    search filters by facility, it does not answer 403)."""
    patient = await ctx.uow.clinical.patient(patient_id)
    if patient is None or not in_scope(ctx.principal, patient.unit_path):
        return []
    return await use_cases.list_prescriptions(
        patient_id,
        current_only=False,
        principal=ctx.principal,
        clinical=ctx.uow.clinical,
        prescribing=ctx.uow.prescribing,
        audit=_ContextAudit(ctx),
    )


def _ids(values: Iterable[object]) -> set[UUID]:
    out = set()
    for v in values:
        try:
            out.add(UUID(str(v.code if isinstance(v, TokenValue) else v)))
        except ValueError:
            continue  # not an Afiya id: matches nothing
    return out


def _restricted(request: SearchRequest, name: str) -> set[UUID] | None:
    """The ids every ``name`` criterion allows (AND across criteria), None if absent."""
    found: set[UUID] | None = None
    for c in request.values(name):
        ids = _ids(c.values)
        found = ids if found is None else found & ids
    return found


def _check_criteria(request: SearchRequest, type_name: str, needed: tuple[str, ...]) -> None:
    if request.values("_lastUpdated"):
        raise FhirError(
            400,
            "not-supported",
            Message(
                N_("{interaction} is not supported on {type}."),
                {"interaction": "_lastUpdated", "type": type_name},
            ),
            expression=["_lastUpdated"],
        )
    if not any(request.values(n) for n in needed):
        raise FhirError(
            400,
            "required",
            Message(
                N_("Search {type} by patient (patient=Patient/<id>)."),
                {"type": type_name},
            ),
            expression=["patient"],
        )


async def _prescriptions_for(ctx: FhirContext, request: SearchRequest) -> list[Prescription]:
    """The prescriptions a line search looks at: those of the ``patient`` criteria, or
    those holding the ``_id`` lines (the subscription matcher asks by ``_id``)."""
    found: dict[UUID, Prescription] = {}
    patients = _restricted(request, "patient")
    if patients is not None:
        for pid in sorted(patients):
            for p in await _patient_prescriptions(ctx, pid):
                found[p.id] = p
    else:
        for line_id in sorted(_restricted(request, "_id") or ()):
            holder = await ctx.uow.prescribing.prescription_of_line(line_id)
            if holder is not None and in_scope(ctx.principal, holder.unit_path):
                p, _ = await _prescription(ctx, holder.id)
                found[p.id] = p
    return sorted(found.values(), key=lambda p: (p.written_at, p.id), reverse=True)


def _token_matches(codings: Iterable[tuple[str | None, str]], wanted: TokenValue) -> bool:
    for system, code in codings:
        if code != wanted.code:
            continue
        if wanted.system is None or wanted.system == (system or ""):
            return True
    return False


def _all_match(
    request: SearchRequest, name: str, codings: Iterable[tuple[str | None, str]]
) -> bool:
    """Every ``name`` criterion holds (OR within one criterion's values)."""
    known = list(codings)
    return all(
        any(_token_matches(known, v) for v in c.values if isinstance(v, TokenValue))
        for c in request.values(name)
    )


def _page(resources: list[Resource], request: SearchRequest) -> SearchResult:
    ids = _restricted(request, "_id")
    if ids is not None:
        resources = [r for r in resources if UUID(r["id"]) in ids]
    return SearchResult(resources[request.offset : request.offset + request.count], len(resources))


# -- Medication -------------------------------------------------------------------------------


async def _formulary(ctx: FhirContext, text: str | None) -> list[FormularyEntry]:
    return await ctx.uow.prescribing.search_products(text, 10_000)


async def read_medication(ctx: FhirContext, ident: str) -> Resource:
    authorize(ctx.principal, Permission.CLINICAL_READ)
    for entry in await _formulary(ctx, ident):  # the id is the code (narrowed by LIKE)
        if entry.product.code == ident:
            return medication(entry)
    if ident.startswith("x-"):  # a code that is not a FHIR id: compare the derived ids
        for entry in await _formulary(ctx, None):
            if medication_id(entry.product.code) == ident:
                return medication(entry)
    raise NotFound()


async def search_medications(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Formulary products (not patient data); ``code`` is the ATC code
    (http://www.whocc.no/atc) or the Afiya product code."""
    authorize(ctx.principal, Permission.CLINICAL_READ)
    wanted = [v for c in request.values("code") for v in c.values]
    narrowed = wanted[0].code if len(wanted) == 1 and isinstance(wanted[0], TokenValue) else None
    entries = await _formulary(ctx, narrowed)
    ids = {str(v.code) for c in request.values("_id") for v in c.values}  # type: ignore[attr-defined]
    out = []
    for entry in entries:
        p = entry.product
        codings = [(FORMULARY_SYSTEM, p.code)] + ([(ATC_SYSTEM, p.atc)] if p.atc else [])
        if not _all_match(request, "code", codings):
            continue
        if request.values("_id") and medication_id(p.code) not in ids:
            continue
        out.append(medication(entry))
    out.sort(key=lambda r: r["id"])
    return SearchResult(out[request.offset : request.offset + request.count], len(out))


# -- MedicationRequest and ServiceRequest ------------------------------------------------------


async def read_medication_request(ctx: FhirContext, ident: str) -> Resource:
    prescription, line, _ = await _of_line(ctx, ident)
    if line.kind is not LineKind.MEDICATION:
        raise NotFound()
    return medication_request(prescription, line)


async def search_medication_requests(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Medication lines of the patient's prescriptions (every version, newest first)."""
    authorize(ctx.principal, Permission.CLINICAL_READ)
    _check_criteria(request, "MedicationRequest", ("patient", "_id"))
    out = []
    prescriptions = await _prescriptions_for(ctx, request)
    codes = await _line_codes(ctx, request, prescriptions)
    for p in prescriptions:
        for line in p.medication_lines:
            resource = medication_request(p, line)
            if _all_match(request, "status", [(None, resource["status"])]) and _all_match(
                request, "code", codes.get(line.id, [])
            ):
                out.append(resource)
    return _page(out, request)


async def _line_codes(
    ctx: FhirContext, request: SearchRequest, prescriptions: list[Prescription]
) -> dict[UUID, list[tuple[str | None, str]]]:
    """The codes ``code`` matches per medication line: the formulary product code and,
    when the product has one, its ATC code (only looked up when ``code`` is asked)."""
    if not request.values("code"):
        return {}
    lines = [line for p in prescriptions for line in p.medication_lines if line.medication]
    products = await ctx.uow.prescribing.products({line.medication.product_code for line in lines})  # type: ignore[union-attr]
    out: dict[UUID, list[tuple[str | None, str]]] = {}
    for line in lines:
        code = line.medication.product_code  # type: ignore[union-attr]
        found = products.get(code)
        out[line.id] = [(FORMULARY_SYSTEM, code)]
        if found is not None and found.atc:
            out[line.id].append((ATC_SYSTEM, found.atc))
    return out


async def read_service_request(ctx: FhirContext, ident: str) -> Resource:
    prescription, line, _ = await _of_line(ctx, ident)
    if line.kind is LineKind.MEDICATION:
        raise NotFound()
    return service_request(prescription, line)


async def search_service_requests(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Laboratory (LOINC) and imaging lines of the patient's prescriptions."""
    authorize(ctx.principal, Permission.CLINICAL_READ)
    _check_criteria(request, "ServiceRequest", ("patient", "_id"))
    out = []
    for p in await _prescriptions_for(ctx, request):
        for line in p.lines:
            if line.kind is LineKind.MEDICATION:
                continue
            resource = service_request(p, line)
            if _all_match(request, "status", [(None, resource["status"])]) and _all_match(
                request, "category", category_codings(line.kind)
            ):
                out.append(resource)
    return _page(out, request)


# -- MedicationDispense -----------------------------------------------------------------------


async def read_medication_dispense(ctx: FhirContext, ident: str) -> Resource:
    found = await dispensing.read_dispensing(
        uuid_of(ident),
        principal=ctx.principal,
        clinical=ctx.uow.clinical,
        prescribing=ctx.uow.prescribing,
        audit=_ContextAudit(ctx),
    )
    return medication_dispense(found, ctx.translate)


async def search_medication_dispenses(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Dispensing decisions (dispensed, refused, rejected) of a patient or of a
    prescription: ``prescription`` is a MedicationRequest (a line) or the prescription
    id of its ``groupIdentifier``."""
    authorize(ctx.principal, Permission.CLINICAL_READ)
    _check_criteria(request, "MedicationDispense", ("patient", "prescription", "_id"))
    prescriptions: dict[UUID, Prescription] = {}
    dispensings: list[Dispensing] = []
    lines = _restricted(request, "prescription")
    patients = _restricted(request, "patient")
    if patients is not None:
        for pid in sorted(patients):
            for p in await _patient_prescriptions(ctx, pid):
                prescriptions[p.id] = p
        for p in prescriptions.values():
            dispensings += await ctx.uow.prescribing.dispensings(p.id)
    elif lines is not None:
        for ident in sorted(lines):
            holder = await ctx.uow.prescribing.prescription_of_line(ident)
            holder = holder or await ctx.uow.prescribing.prescription(ident)
            if holder is None or holder.id in prescriptions:
                continue
            if in_scope(ctx.principal, holder.unit_path):
                p, found = await _prescription(ctx, holder.id)
                prescriptions[p.id] = p
                dispensings += found
    else:
        for ident in sorted(_restricted(request, "_id") or ()):
            d = await ctx.uow.prescribing.dispensing(ident)
            if d is not None and in_scope(ctx.principal, d.unit_path):
                dispensings.append(await _read_dispensing(ctx, d.id))
    if lines is not None:
        dispensings = [d for d in dispensings if d.line_id in lines or d.prescription_id in lines]
    dispensings.sort(key=lambda d: (d.at, d.id), reverse=True)
    return _page([medication_dispense(d, ctx.translate) for d in dispensings], request)


async def _read_dispensing(ctx: FhirContext, ident: UUID) -> Dispensing:
    return await dispensing.read_dispensing(
        ident,
        principal=ctx.principal,
        clinical=ctx.uow.clinical,
        prescribing=ctx.uow.prescribing,
        audit=_ContextAudit(ctx),
    )


# -- $everything ------------------------------------------------------------------------------


async def prescribing_of(ctx: FhirContext, patient_id: UUID) -> list[Resource]:
    """$everything: the patient's medication and service requests and dispensings."""
    if not has_permission(ctx.principal, Permission.CLINICAL_READ):
        return []
    out: list[Resource] = []
    dispensed: list[Resource] = []
    for p in await _patient_prescriptions(ctx, patient_id):
        for line in p.lines:
            make: Callable[[Prescription, OrderLine], Resource] = (
                medication_request if line.kind is LineKind.MEDICATION else service_request
            )
            out.append(make(p, line))
        dispensed += [
            medication_dispense(d, ctx.translate)
            for d in await ctx.uow.prescribing.dispensings(p.id)
        ]
    return out + dispensed


EVERYTHING_SOURCES.append(prescribing_of)


register(
    ResourceType(
        name="Medication",
        read_permission=Permission.CLINICAL_READ,
        search_spec=MEDICATION_SPEC,
        read=read_medication,
        search=search_medications,
        param_docs={
            "code": f"{ATC_SYSTEM}|<ATC code> or {FORMULARY_SYSTEM}|<product code> (exact)"
        },
        documentation=(
            "Formulary products (WHO EML seed and pharmacists' products): id = product "
            "code (x-<hex> for a code that is not a FHIR id), ATC code, form, ingredients "
            "with strengths (UCUM where known). Products are added through /api/v1/formulary."
        ),
    )
)
_LINE_VERSIONS = (
    " vread and _history come from the change log (the same read, permission and audit, "
    "plus one <type>.vread or <type>.history event with the patient id). A line is not "
    "rewritten; its versions are its prescription's (status, end, supersession by an "
    "amendment): a past version shows the line with the prescription as it was then."
)
register(
    ResourceType(
        name="MedicationRequest",
        read_permission=Permission.CLINICAL_READ,
        search_spec=REQUEST_SPEC,
        read=read_medication_request,
        **versions.interactions("MedicationRequest", read_medication_request, versions.LINE),
        search=search_medication_requests,
        write_permission=Permission.PRESCRIPTIONS_WRITE,
        create=writes.create_medication_request,
        conditional_create=True,
        patient_data=True,
        param_docs={
            "patient": "required (or _id): Patient/{id}",
            "status": "draft, active, completed, cancelled, stopped",
            "code": f"{ATC_SYSTEM}|<ATC code> or {FORMULARY_SYSTEM}|<product code>",
        },
        documentation=writes.DOCUMENTATION + _LINE_VERSIONS,
    )
)
register(
    ResourceType(
        name="MedicationDispense",
        read_permission=Permission.CLINICAL_READ,
        search_spec=DISPENSE_SPEC,
        read=read_medication_dispense,
        **versions.interactions(
            "MedicationDispense", read_medication_dispense, versions.DISPENSING
        ),
        search=search_medication_dispenses,
        patient_data=True,
        param_docs={
            "patient": "Patient/{id} (patient, prescription or _id is required)",
            "prescription": "MedicationRequest/{id} or the prescription id",
        },
        documentation=(
            "Every decision at the pharmacy: dispensed (completed), refused by the safety "
            "engine or rejected by the pharmacist (declined, with statusReason). "
            "Dispensing goes through /api/v1/dispensings. vread and _history come from "
            "the change log (the same read, permission and audit, plus one "
            "medication_dispense.vread or .history event with the patient id); a decision "
            "is not rewritten: one version (another if a patient merge moved it)."
        ),
    )
)
register(
    ResourceType(
        name="ServiceRequest",
        read_permission=Permission.CLINICAL_READ,
        search_spec=SERVICE_SPEC,
        read=read_service_request,
        **versions.interactions("ServiceRequest", read_service_request, versions.LINE),
        search=search_service_requests,
        entities=("prescription_line",),
        subscribable=True,
        patient_data=True,
        param_docs={
            "patient": "required (or _id): Patient/{id}",
            "status": "draft, active, revoked",
            "category": "laboratory or imaging (or SNOMED 108252007, 363679005)",
        },
        documentation=(
            "Laboratory (LOINC) and imaging lines of prescriptions (id = line id; "
            "requisition = the prescription). Status follows the prescription; a completed "
            "prescription's tests stay active; stopped, cancelled and amended are revoked. "
            "Subscribable: a new line notifies, e.g. criteria ServiceRequest?category="
            "laboratory for a lab of the subscriber's facilities (a status change of the "
            "prescription does not notify)." + _LINE_VERSIONS
        ),
    )
)
