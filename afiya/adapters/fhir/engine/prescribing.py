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

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from afiya.adapters.fhir.common import BASE_URI, instant, prune, reference
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
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
from afiya.domain.prescribing.orders import (
    Dispensing,
    DispensingStatus,
    LineKind,
    OrderLine,
    OrderStatus,
    Prescription,
    blocking,
)
from afiya.domain.prescribing.ports import FormularyEntry
from afiya.domain.shared.errors import NotFound
from afiya.domain.shared.i18n import N_, Message

ATC_SYSTEM = "http://www.whocc.no/atc"
LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
SNOMED_SYSTEM = "http://snomed.info/sct"
DICOM_SYSTEM = "http://dicom.nema.org/resources/ontology/DCM"
FORMULARY_SYSTEM = f"{BASE_URI}/CodeSystem/formulary"  # Afiya formulary product codes
PRESCRIPTION_SYSTEM = f"{BASE_URI}/sid/prescription"  # the order set (ordonnance) id
ROUTE_SYSTEM = f"{BASE_URI}/CodeSystem/route"
MODALITY_SYSTEM = f"{BASE_URI}/CodeSystem/imaging-modality"
CATEGORY_SYSTEM = f"{BASE_URI}/CodeSystem/service-category"
DISPENSE_REASON_SYSTEM = f"{BASE_URI}/CodeSystem/dispense-decision"

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_DICOM = frozenset({"US", "CT", "MR", "MG", "ECG"})  # Afiya's XR has no single DICOM code
_CATEGORY = {
    LineKind.LAB: ("laboratory", "108252007", "Laboratory procedure"),
    LineKind.IMAGING: ("imaging", "363679005", "Imaging"),
}

# Afiya units -> UCUM codes ("unit" is left as text: a count of tablets at the
# pharmacy, not an international unit).
UCUM = {
    "kg": "kg",
    "g": "g",
    "gram": "g",
    "mg": "mg",
    "mcg": "ug",
    "ug": "ug",
    "microgram": "ug",
    "ng": "ng",
    "l": "L",
    "ml": "mL",
    "iu": "[iU]",
    "ui": "[iU]",
    "mmol": "mmol",
    "mol": "mol",
    "d": "d",
}

MEDICATION_SPEC = SearchSpec(params={"code": ParamType.TOKEN})
REQUEST_SPEC = SearchSpec(params={"patient": ParamType.REFERENCE, "status": ParamType.TOKEN})
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


# -- mapping ----------------------------------------------------------------------------------


def _number(value: Decimal | float | None) -> int | float | None:
    if value is None:
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def quantity(value: Decimal | float | None, unit: str | None) -> dict[str, Any] | None:
    """A FHIR Quantity; UCUM system and code when Afiya knows the unit's UCUM form."""
    if value is None:
        return None
    out: dict[str, Any] = {"value": _number(value), "unit": unit}
    code = UCUM.get((unit or "").strip().casefold().replace("µ", "u").replace("μ", "u"))
    if code:
        out |= {"system": UCUM_SYSTEM, "code": code}
    return out


def medication_id(code: str) -> str:
    """The Medication id of a product: its code, or ``x-<hex>`` when the code is not a
    valid FHIR id (a local code with spaces or underscores)."""
    if _FHIR_ID.match(code):
        return code
    return "x-" + code.encode().hex()[:62]


def medication(entry: FormularyEntry) -> Resource:
    product = entry.product
    codings = [{"system": FORMULARY_SYSTEM, "code": product.code, "display": product.name}]
    if product.atc:
        codings.insert(0, {"system": ATC_SYSTEM, "code": product.atc})
    ingredients = []
    for i in product.ingredients:
        item = [{"system": FORMULARY_SYSTEM, "code": i.code, "display": i.inn}]
        if i.atc:
            item.insert(0, {"system": ATC_SYSTEM, "code": i.atc, "display": i.inn})
        strength = None
        if i.strength is not None:
            strength = {
                "numerator": quantity(i.strength.value, i.strength.unit),
                "denominator": quantity(i.strength.per_value, i.strength.per_unit),
            }
        ingredients.append(
            {
                "itemCodeableConcept": {"coding": item, "text": i.inn},
                "isActive": True,
                "strength": strength,
            }
        )
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "Medication",
            "id": medication_id(product.code),
            "code": {"coding": codings, "text": product.name},
            "status": "active" if entry.active else "inactive",
            "form": {"text": product.form},
            "ingredient": ingredients,
        }
    )


def _frequency(per_day: Decimal | None) -> dict[str, Any]:
    """``frequency`` per ``period`` days: 3/day -> 3 per 1 d; 0.5/day -> 1 per 2 d."""
    if per_day is None or per_day <= 0:
        return {}
    if per_day == per_day.to_integral_value():
        return {"frequency": int(per_day), "period": 1, "periodUnit": "d"}
    return {"frequency": 1, "period": _number(round(1 / per_day, 4)), "periodUnit": "d"}


def dosage(line: OrderLine) -> dict[str, Any]:
    med = line.medication
    assert med is not None
    repeat = _frequency(med.frequency_per_day)
    if med.duration_days is not None:
        repeat["boundsDuration"] = quantity(med.duration_days, "d")
    parts = [
        f"{_number(med.dose)} {med.dose_unit}" if med.dose is not None else None,
        med.route,
        f"{_number(med.frequency_per_day)}/d" if med.frequency_per_day is not None else None,
        f"{_number(med.duration_days)} d" if med.duration_days is not None else None,
        "if needed" if med.as_needed else None,
        med.instructions,
    ]
    return {
        "sequence": 1,
        "text": ", ".join(p for p in parts if p),
        "patientInstruction": med.instructions,
        "timing": {"repeat": repeat},
        "asNeededBoolean": med.as_needed,
        "route": {"coding": [{"system": ROUTE_SYSTEM, "code": med.route}], "text": med.route}
        if med.route
        else None,
        "doseAndRate": [{"doseQuantity": quantity(med.dose, med.dose_unit)}],
    }


def _request_common(p: Prescription) -> dict[str, Any]:
    return {
        "subject": reference("Patient", p.patient_id),
        "encounter": reference("Encounter", p.encounter_id) if p.encounter_id else None,
        "authoredOn": instant(p.written_at),
        "requester": reference("Practitioner", p.prescriber_id),
        "note": [{"text": p.note}] if p.note else None,
    }


def _ended_reason(p: Prescription) -> str | None:
    if not p.is_current:
        return "Replaced by a newer version of the prescription."
    return p.end_reason


def medication_request_status(p: Prescription) -> str:
    """Afiya prescription status -> MedicationRequest.status (an amended version is
    ``stopped``: the newer version is in force)."""
    return "stopped" if not p.is_current else p.status.value


def medication_request(p: Prescription, line: OrderLine) -> Resource:
    med = line.medication
    assert med is not None
    reason = _ended_reason(p)
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "MedicationRequest",
            "id": str(line.id),
            "status": medication_request_status(p),
            "statusReason": {"text": reason} if reason else None,
            "intent": "order",
            "medicationReference": reference(
                "Medication", medication_id(med.product_code), line.product_name
            ),
            "groupIdentifier": {"system": PRESCRIPTION_SYSTEM, "value": str(p.id)},
            "dosageInstruction": [dosage(line)],
            **_request_common(p),
        }
    )


def service_request_status(p: Prescription) -> str:
    """Afiya prescription status -> ServiceRequest.status. A prescription is
    ``completed`` when its medication lines are decided at the pharmacy, which says
    nothing of its tests: they stay ``active``. Stopped, cancelled and amended
    versions are ``revoked``."""
    if not p.is_current or p.status in (OrderStatus.CANCELLED, OrderStatus.STOPPED):
        return "revoked"
    return "draft" if p.status is OrderStatus.DRAFT else "active"


def _category(kind: LineKind) -> dict[str, Any]:
    code, snomed, display = _CATEGORY[kind]
    return {
        "coding": [
            {"system": SNOMED_SYSTEM, "code": snomed, "display": display},
            {"system": CATEGORY_SYSTEM, "code": code},
        ],
        "text": code,
    }


def service_request(p: Prescription, line: OrderLine) -> Resource:
    if line.lab is not None:
        code: dict[str, Any] = {
            "coding": [{"system": LOINC_SYSTEM, "code": line.lab.loinc, "display": line.lab.name}],
            "text": line.lab.name,
        }
        site = None
    else:
        assert line.imaging is not None
        modality = line.imaging.modality.value
        codings = [{"system": MODALITY_SYSTEM, "code": modality}]
        if modality in _DICOM:
            codings.insert(0, {"system": DICOM_SYSTEM, "code": modality})
        code = {"coding": codings, "text": f"{modality} {line.imaging.body_site}".strip()}
        site = [{"text": line.imaging.body_site}]
    reason = _ended_reason(p)
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "ServiceRequest",
            "id": str(line.id),
            "requisition": {"system": PRESCRIPTION_SYSTEM, "value": str(p.id)},
            "status": service_request_status(p),
            "intent": "order",
            "category": [_category(line.kind)],
            "code": code,
            "bodySite": site,
            **_request_common(p),
            "note": [{"text": t} for t in (p.note, reason) if t],
        }
    )


def _statement(alerts: Iterable[Any], translate: Any) -> str:
    return "; ".join(a.message.render(translate) for a in alerts)


def medication_dispense(d: Dispensing, translate: Any = None) -> Resource:
    """Dispensed -> ``completed``; refused by the safety engine or rejected by the
    pharmacist -> ``declined`` with the reason (the blocking alerts, or the
    pharmacist's words)."""
    status_reason = None
    note = None
    if d.status is DispensingStatus.REFUSED:
        status_reason = {
            "coding": [{"system": DISPENSE_REASON_SYSTEM, "code": "contraindicated"}],
            "text": _statement(blocking(d.alerts) or d.alerts, translate) or "contraindicated",
        }
    elif d.status is DispensingStatus.REJECTED:
        status_reason = {
            "coding": [{"system": DISPENSE_REASON_SYSTEM, "code": "rejected"}],
            "text": d.reason or "rejected",
        }
    elif d.override_of is not None:
        note = [{"text": f"Dispensed despite a contraindication: {d.reason or ''}".strip()}]
    dispensed = d.status is DispensingStatus.DISPENSED
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "MedicationDispense",
            "id": str(d.id),
            "status": "completed" if dispensed else "declined",
            "statusReasonCodeableConcept": status_reason,
            "medicationReference": reference("Medication", medication_id(d.product_code)),
            "subject": reference("Patient", d.patient_id),
            "performer": [{"actor": reference("Practitioner", d.dispenser_id)}],
            "authorizingPrescription": [reference("MedicationRequest", d.line_id)],
            "quantity": quantity(d.quantity, d.quantity_unit) if dispensed else None,
            "whenHandedOver": instant(d.at) if dispensed else None,
            "note": note,
        }
    )


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
    for p in await _prescriptions_for(ctx, request):
        for line in p.medication_lines:
            resource = medication_request(p, line)
            if _all_match(request, "status", [(None, resource["status"])]):
                out.append(resource)
    return _page(out, request)


async def read_service_request(ctx: FhirContext, ident: str) -> Resource:
    prescription, line, _ = await _of_line(ctx, ident)
    if line.kind is LineKind.MEDICATION:
        raise NotFound()
    return service_request(prescription, line)


def _category_codings(kind: LineKind) -> list[tuple[str | None, str]]:
    code, snomed, _ = _CATEGORY[kind]
    return [(SNOMED_SYSTEM, snomed), (CATEGORY_SYSTEM, code)]


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
                request, "category", _category_codings(line.kind)
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
register(
    ResourceType(
        name="MedicationRequest",
        read_permission=Permission.CLINICAL_READ,
        search_spec=REQUEST_SPEC,
        read=read_medication_request,
        search=search_medication_requests,
        patient_data=True,
        param_docs={
            "patient": "required (or _id): Patient/{id}",
            "status": "draft, active, completed, cancelled, stopped",
        },
        documentation=(
            "One per medication line of a prescription (id = line id; groupIdentifier = "
            "the prescription). Every version is served: an amended version is stopped. "
            "dosageInstruction: dose (UCUM), route, frequency per day, duration, as needed, "
            "instructions. Prescribing goes through /api/v1/prescriptions (safety checks)."
        ),
    )
)
register(
    ResourceType(
        name="MedicationDispense",
        read_permission=Permission.CLINICAL_READ,
        search_spec=DISPENSE_SPEC,
        read=read_medication_dispense,
        search=search_medication_dispenses,
        patient_data=True,
        param_docs={
            "patient": "Patient/{id} (patient, prescription or _id is required)",
            "prescription": "MedicationRequest/{id} or the prescription id",
        },
        documentation=(
            "Every decision at the pharmacy: dispensed (completed), refused by the safety "
            "engine or rejected by the pharmacist (declined, with statusReason). "
            "Dispensing goes through /api/v1/dispensings."
        ),
    )
)
register(
    ResourceType(
        name="ServiceRequest",
        read_permission=Permission.CLINICAL_READ,
        search_spec=SERVICE_SPEC,
        read=read_service_request,
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
            "prescription does not notify)."
        ),
    )
)
