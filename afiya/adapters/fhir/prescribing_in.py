"""FHIR MedicationRequest -> what Afiya's prescribing use case takes (one medication line).

Pure mapping: no database. The medication is resolved against the formulary by the
engine (:mod:`afiya.adapters.fhir.engine.prescribing_writes`); here it is only read out of
``medicationCodeableConcept``, ``medicationReference`` (``Medication/<id>``) or a contained
Medication (``#id``).

What Afiya keeps: subject, encounter, status (``draft``/``active``), intent ``order``,
the medication (as a formulary product), one dosage (dose quantity and unit, route,
frequency from ``timing.repeat``, duration from ``boundsDuration``, as needed, the
patient instruction or the text), the first note. What it refuses (422 naming the
element): an unknown status or intent, ``doNotPerform``, several dosages, a dose range,
a route or a timing it cannot express. Everything else is listed as not stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from afiya.adapters.fhir.common import reference_id
from afiya.adapters.fhir.engine.prescribing_maps import (
    ROUTE_OF_SNOMED,
    ROUTE_SYSTEM,
    SNOMED_ROUTE,
    SNOMED_SYSTEM,
)
from afiya.domain.prescribing.orders import OrderStatus
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

R = "MedicationRequest"
D = f"{R}.dosageInstruction[0]"

KEPT = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "status",
        "intent",
        "medicationCodeableConcept",
        "medicationReference",
        "subject",
        "encounter",
        "requester",
        "authoredOn",
        "note",
        "dosageInstruction",
        "contained",
        "doNotPerform",
    }
)
_DOSAGE_KEPT = frozenset(
    {"sequence", "text", "patientInstruction", "timing", "asNeededBoolean", "route", "doseAndRate"}
)
_REPEAT_KEPT = frozenset({"frequency", "period", "periodUnit", "boundsDuration"})
_HOURS = {"h": Decimal(1), "d": Decimal(24), "wk": Decimal(24 * 7)}
_DAYS = {"d": Decimal(1), "wk": Decimal(7)}
STATUS = {"active": OrderStatus.ACTIVE, "draft": OrderStatus.DRAFT}


@dataclass(frozen=True, slots=True)
class MedicationNamed:
    """How the request names its medication (resolved against the formulary later)."""

    path: str  # the element to name when it cannot be resolved
    codings: tuple[tuple[str, str], ...] = ()  # (system, code)
    product_id: str | None = None  # Medication/<id>: a formulary product
    text: str | None = None


@dataclass(slots=True)
class RequestFields:
    patient_id: UUID | None = None
    encounter_id: UUID | None = None
    requester_id: UUID | None = None
    status: OrderStatus = OrderStatus.ACTIVE
    medication: MedicationNamed = field(default_factory=lambda: MedicationNamed(R))
    dose: Decimal | None = None
    dose_unit: str | None = None
    route: str | None = None
    frequency_per_day: Decimal | None = None
    duration_days: Decimal | None = None
    as_needed: bool = False
    instructions: str | None = None
    note: str | None = None
    authored_on: str | None = None
    not_stored: list[str] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)

    def refuse(self, path: str, msgid: str, code: str = "invalid", **params: object) -> None:
        self.errors.append(FieldError(path, Message(msgid, params), code))


def _uuid(value: Any, kind: str) -> UUID | None:
    ident = reference_id(value, kind)
    try:
        return UUID(ident) if ident else None
    except ValueError:
        return None


def _codings(concept: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(concept, Mapping):
        return ()
    return tuple(
        (str(c.get("system") or ""), str(c["code"]))
        for c in concept.get("coding") or []
        if isinstance(c, Mapping) and c.get("code")
    )


def _medication(resource: Mapping[str, Any], out: RequestFields) -> set[str]:
    """Fill ``out.medication``; return the ids of contained resources it used."""
    used: set[str] = set()
    if "medicationCodeableConcept" in resource:
        concept = resource["medicationCodeableConcept"]
        out.medication = MedicationNamed(
            f"{R}.medicationCodeableConcept", _codings(concept), None, concept.get("text")
        )
        return used
    ref = (resource.get("medicationReference") or {}).get("reference") or ""
    path = f"{R}.medicationReference"
    if ref.startswith("#"):
        contained = [
            c
            for c in resource.get("contained") or []
            if c.get("resourceType") == "Medication" and c.get("id") == ref[1:]
        ]
        if contained:
            used.add(ref[1:])
            code = contained[0].get("code") or {}
            out.medication = MedicationNamed(path, _codings(code), None, code.get("text"))
            return used
    out.medication = MedicationNamed(
        path, (), reference_id(resource["medicationReference"], "Medication")
    )
    return used


def _route(concept: Any, out: RequestFields) -> None:
    if not isinstance(concept, Mapping):
        return
    for system, code in _codings(concept):
        if system == ROUTE_SYSTEM:
            out.route = code.strip().lower()
            return
        if system == SNOMED_SYSTEM and code in ROUTE_OF_SNOMED:
            out.route = ROUTE_OF_SNOMED[code]
            return
    text = str(concept.get("text") or "").strip().lower()
    if text in SNOMED_ROUTE:
        out.route = text
        return
    out.refuse(
        f"{D}.route",
        N_("Afiya does not know this route: code it with SNOMED CT or {system}."),
        system=ROUTE_SYSTEM,
    )


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _timing(timing: Any, out: RequestFields) -> None:
    if not isinstance(timing, Mapping):
        return
    for key in timing:
        if key != "repeat":
            out.not_stored.append(f"{D}.timing.{key}")
    repeat = timing.get("repeat") or {}
    for key in repeat:
        if key not in _REPEAT_KEPT:
            out.not_stored.append(f"{D}.timing.repeat.{key}")
    frequency = _decimal(repeat.get("frequency", 1 if "period" in repeat else None))
    period = _decimal(repeat.get("period"))
    unit = repeat.get("periodUnit")
    if frequency is not None and period is not None:
        if unit not in _HOURS or period <= 0:
            out.refuse(
                f"{D}.timing.repeat.periodUnit",
                N_("Afiya keeps a frequency per hour, day or week (periodUnit h, d or wk)."),
            )
        else:
            out.frequency_per_day = frequency * Decimal(24) / (period * _HOURS[unit])
    bounds = repeat.get("boundsDuration")
    if isinstance(bounds, Mapping):
        days = _DAYS.get(str(bounds.get("code") or bounds.get("unit") or ""))
        value = _decimal(bounds.get("value"))
        if days is None or value is None:
            out.refuse(
                f"{D}.timing.repeat.boundsDuration",
                N_("Afiya keeps a duration in days or weeks (d or wk)."),
            )
        else:
            out.duration_days = value * days


def _dose(items: Sequence[Any], out: RequestFields) -> None:
    if len(items) > 1:
        out.refuse(f"{D}.doseAndRate[1]", N_("Afiya keeps one dose per line."))
    if not items:
        return
    first = items[0]
    if "doseRange" in first:
        out.refuse(
            f"{D}.doseAndRate[0].doseRange",
            N_("Afiya keeps a single dose (doseQuantity), not a range: write the range in text."),
        )
    for key in first:
        if key not in ("doseQuantity", "doseRange", "type"):
            out.not_stored.append(f"{D}.doseAndRate[0].{key}")
    if "type" in first:
        out.not_stored.append(f"{D}.doseAndRate[0].type")
    dose = first.get("doseQuantity")
    if isinstance(dose, Mapping):
        out.dose = _decimal(dose.get("value"))
        out.dose_unit = dose.get("unit") or dose.get("code")


def _dosage(resource: Mapping[str, Any], out: RequestFields) -> None:
    dosages = resource.get("dosageInstruction") or []
    if len(dosages) > 1:
        out.refuse(
            f"{R}.dosageInstruction[1]",
            N_("Afiya keeps one dosage per line: prescribe each dosage as its own request."),
        )
    if not dosages:
        return
    d = dosages[0]
    for key in d:
        if key not in _DOSAGE_KEPT and key != "asNeededCodeableConcept":
            out.not_stored.append(f"{D}.{key}")
    if "asNeededCodeableConcept" in d:
        out.as_needed = True
        out.not_stored.append(f"{D}.asNeededCodeableConcept")
    else:
        out.as_needed = bool(d.get("asNeededBoolean", False))
    out.instructions = d.get("patientInstruction") or d.get("text")
    if d.get("patientInstruction") and d.get("text"):
        out.not_stored.append(f"{D}.text")  # Afiya writes the text from what it keeps
    _route(d.get("route"), out)
    _timing(d.get("timing"), out)
    _dose(d.get("doseAndRate") or [], out)


def from_fhir(resource: Mapping[str, Any]) -> RequestFields:
    """Map a (validated) MedicationRequest; ``errors`` lists what Afiya refuses."""
    out = RequestFields()
    status = resource.get("status")
    if status not in STATUS:
        out.refuse(
            f"{R}.status",
            N_("A new MedicationRequest is draft or active, not {value}."),
            value=status,
        )
    else:
        out.status = STATUS[status]
    if resource.get("intent") != "order":
        out.refuse(
            f"{R}.intent",
            N_("Afiya takes prescriptions (intent order), not {value}."),
            value=resource.get("intent"),
        )
    if resource.get("doNotPerform"):
        out.refuse(
            f"{R}.doNotPerform",
            N_("Afiya does not record orders not to give a medication."),
        )
    out.patient_id = _uuid(resource.get("subject"), "Patient")
    if out.patient_id is None:
        out.refuse(f"{R}.subject", N_("The subject must be an Afiya Patient/<id>."), "required")
    if "encounter" in resource:
        out.encounter_id = _uuid(resource["encounter"], "Encounter")
        if out.encounter_id is None:
            out.refuse(f"{R}.encounter", N_("The encounter must be an Afiya Encounter/<id>."))
    if "requester" in resource:
        out.requester_id = _uuid(resource["requester"], "Practitioner")
        if out.requester_id is None:
            out.refuse(f"{R}.requester", N_("The requester must be an Afiya Practitioner/<id>."))
    out.authored_on = resource.get("authoredOn")
    notes = [n.get("text") for n in resource.get("note") or [] if n.get("text")]
    out.note = notes[0] if notes else None
    out.not_stored += [f"{R}.note[{n}]" for n in range(1, len(notes))]
    used = _medication(resource, out)
    for n, c in enumerate(resource.get("contained") or []):
        if c.get("id") not in used:
            out.not_stored.append(f"{R}.contained[{n}]")
    _dosage(resource, out)
    out.not_stored += [f"{R}.{key}" for key in resource if key not in KEPT]
    return out
