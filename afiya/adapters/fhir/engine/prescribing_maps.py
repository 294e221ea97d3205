"""FHIR mapping of prescribing (Afiya -> FHIR): Medication, MedicationRequest,
MedicationDispense and ServiceRequest resources, code systems and UCUM units.

Split from :mod:`afiya.adapters.fhir.engine.prescribing` (the interactions), so that the
reads and the writes (:mod:`afiya.adapters.fhir.engine.prescribing_writes`) share it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from afiya.adapters.fhir.common import BASE_URI, instant, prune, reference
from afiya.adapters.fhir.engine.registry import Resource
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

# Afiya route codes -> SNOMED CT routes (http://hl7.org/fhir/ValueSet/route-codes).
SNOMED_ROUTE = {
    "oral": "26643006",
    "iv": "47625008",
    "im": "78421000",
    "sc": "34206005",
    "rectal": "37161004",
    "topical": "6064005",
    "sublingual": "37839007",
    "vaginal": "16857009",
    "ophthalmic": "54485002",
    "epidural": "404820008",
    "intrathecal": "72607000",
}
ROUTE_OF_SNOMED = {code: route for route, code in SNOMED_ROUTE.items()}


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
        "route": route_concept(med.route),
        "doseAndRate": [{"doseQuantity": quantity(med.dose, med.dose_unit)}],
    }


def route_concept(route: str | None) -> dict[str, Any] | None:
    """Afiya's route code, with its SNOMED CT route (FHIR's example value set) when known."""
    if not route:
        return None
    codings = [{"system": ROUTE_SYSTEM, "code": route}]
    snomed = SNOMED_ROUTE.get(route)
    if snomed:
        codings.append({"system": SNOMED_SYSTEM, "code": snomed})
    return {"coding": codings, "text": route}


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


def category_codings(kind: LineKind) -> list[tuple[str | None, str]]:
    code, snomed, _ = _CATEGORY[kind]
    return [(SNOMED_SYSTEM, snomed), (CATEGORY_SYSTEM, code)]


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
