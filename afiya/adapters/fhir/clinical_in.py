"""Mapping FHIR Encounter, Observation, Condition and AllergyIntolerance INTO the clinical
record's commands (the way back is :mod:`afiya.adapters.fhir.clinical`).

Pure: no I/O. Each ``*_in`` function reads a validated resource and returns what the
record's use case needs, plus the FHIR paths of what Afiya does not keep
(``not_stored``: the ``X-Afiya-Not-Stored`` header). A resource Afiya cannot record
faithfully (a code system it does not use, a status it does not record) is refused with
a 422 naming the element, never stored half-way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from afiya.adapters.fhir import clinical as maps
from afiya.adapters.fhir.common import reference_id
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.domain.clinical.encounters import EncounterKind
from afiya.domain.clinical.observations import ObservationDefinition, definition
from afiya.domain.clinical.results import ResultStatus
from afiya.domain.shared.i18n import N_, Message

TRIAGE_SYSTEM = maps.TRIAGE_SYSTEM

# -- shared ---------------------------------------------------------------------------


def refuse(where: str, msgid: str, /, **params: Any) -> FhirError:
    """422 naming the FHIR element (``where``) Afiya cannot record as sent."""
    return FhirError(422, "business-rule", Message(msgid, params), expression=[where])


def unkept(resource: Mapping[str, Any], kind: str, kept: Iterable[str]) -> list[str]:
    """``Type.element`` for every top-level element Afiya does not keep."""
    ignored = {"resourceType", "id", "meta", "text", *kept}
    return [f"{kind}.{key}" for key in resource if key not in ignored]


def patient_of(resource: Mapping[str, Any], kind: str, element: str = "subject") -> UUID:
    """The Afiya patient a resource is about (``Patient/<id>``), or 422 on the element."""
    ident = reference_id(resource.get(element), "Patient")
    try:
        return UUID(str(ident))
    except ValueError:
        raise refuse(
            f"{kind}.{element}",
            N_("{element} must reference a patient of Afiya (Patient/<id>)."),
            element=element,
        ) from None


def uuid_ref(value: Any, target: str, path: str, *, required: bool = False) -> UUID | None:
    """``Target/<uuid>`` as a UUID; None when absent; 422 when it cannot be Afiya's."""
    if value is None and not required:
        return None
    try:
        return UUID(str(reference_id(value, target)))
    except ValueError:
        raise refuse(
            path, N_("{path} must reference an Afiya {type} (<type>/<id>)."), path=path, type=target
        ) from None


def moment(value: Any, path: str) -> datetime:
    """A FHIR dateTime as an aware time: a full date is 00:00 UTC that day; a year or a
    month alone is too vague for the record (422)."""
    text = str(value)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        if len(text) > 10:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    raise refuse(path, N_("{path} must be a full date or a date and time."), path=path)


def day(value: Any, path: str) -> date:
    return moment(value, path).date()


def codings(concept: Any) -> list[Mapping[str, Any]]:
    if not isinstance(concept, Mapping):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, Mapping)]


def code_of(concept: Any, system: str) -> tuple[int, Mapping[str, Any]] | None:
    """The first coding of ``system`` and its index."""
    for index, coding in enumerate(codings(concept)):
        if coding.get("system") == system and coding.get("code"):
            return index, coding
    return None


def other_codings(concept: Any, kept: int | None, path: str) -> list[str]:
    return [f"{path}.coding[{i}]" for i, _ in enumerate(codings(concept)) if i != kept]


def words(concept: Any) -> str | None:
    """The text of a CodeableConcept, else its first display."""
    if not isinstance(concept, Mapping):
        return None
    if concept.get("text"):
        return str(concept["text"])
    return next((str(c["display"]) for c in codings(concept) if c.get("display")), None)


def status_code(concept: Any) -> str | None:
    found = codings(concept)
    return str(found[0].get("code")) if found else None


# -- Encounter --------------------------------------------------------------------------

_KINDS = {
    "AMB": EncounterKind.OUTPATIENT,
    "EMER": EncounterKind.EMERGENCY,
    "IMP": EncounterKind.INPATIENT,
}


@dataclass(frozen=True, slots=True)
class EncounterIn:
    patient_id: UUID
    kind: EncounterKind
    started_at: datetime | None  # None: opened now
    reason: str
    attending_id: UUID | None
    unit_id: UUID | None
    location_id: UUID | None  # a department or a ward
    triage: int | None
    not_stored: list[str] = field(default_factory=list)


def encounter_in(resource: Mapping[str, Any]) -> EncounterIn:
    """An encounter as it starts: Afiya records encounters as they happen (``in-progress``);
    closing one needs its primary diagnosis and goes through the discharge."""
    e = "Encounter"
    if resource.get("status") != "in-progress":
        raise refuse(
            f"{e}.status",
            N_(
                "Afiya records an encounter when it starts (status in-progress); it is "
                "closed by its discharge, with its primary diagnosis."
            ),
        )
    klass = resource.get("class") or {}
    kind = _KINDS.get(str(klass.get("code"))) if klass.get("system") == maps.ACT_CODE else None
    if kind is None:
        raise refuse(
            f"{e}.class",
            N_("Afiya records ambulatory (AMB), emergency (EMER) and inpatient (IMP) encounters."),
        )
    not_stored = unkept(
        resource,
        e,
        (
            "status",
            "class",
            "subject",
            "period",
            "reasonCode",
            "participant",
            "serviceProvider",
            "location",
            "priority",
        ),
    )
    period = resource.get("period") or {}
    started = moment(period["start"], f"{e}.period.start") if period.get("start") else None
    if period.get("end"):
        not_stored.append(f"{e}.period.end")
    reasons = resource.get("reasonCode") or []
    texts = [t for t in (words(r) for r in reasons) if t]
    for index, reason in enumerate(reasons):
        not_stored += [
            f"{e}.reasonCode[{index}].coding[{i}]" for i, _ in enumerate(codings(reason))
        ]
    attending = None
    for index, participant in enumerate(resource.get("participant") or []):
        individual = participant.get("individual")
        ident = reference_id(individual, "Practitioner")
        if attending is None and ident is not None and not participant.get("type"):
            try:
                attending = UUID(ident)
                continue
            except ValueError:
                pass
        not_stored.append(f"{e}.participant[{index}]")
    locations = resource.get("location") or []
    location_id = None
    if locations:
        location_id = uuid_ref(
            locations[0].get("location"), "Location", f"{e}.location[0].location"
        )
        not_stored += [f"{e}.location[{i}]" for i in range(1, len(locations))]
    triage = None
    priority = resource.get("priority")
    found = code_of(priority, TRIAGE_SYSTEM)
    if found is not None and str(found[1]["code"]).isdigit():
        triage = int(found[1]["code"])
    elif priority is not None:
        not_stored.append(f"{e}.priority")
    return EncounterIn(
        patient_id=patient_of(resource, e),
        kind=kind,
        started_at=started,
        reason="; ".join(texts),
        attending_id=attending,
        unit_id=uuid_ref(resource.get("serviceProvider"), "Organization", f"{e}.serviceProvider"),
        location_id=location_id,
        triage=triage,
        not_stored=not_stored,
    )


ENCOUNTER_PATHS = {
    "started_at": "Encounter.period.start",
    "reason": "Encounter.reasonCode",
    "triage": "Encounter.priority",
    "location": "Encounter.location",
    "unit_id": "Encounter.serviceProvider",
}


# -- Observation ------------------------------------------------------------------------

_RESULT_STATUS = {"final": ResultStatus.FINAL, "preliminary": ResultStatus.PRELIMINARY}
_VALUES = ("valueQuantity", "valueString", "valueCodeableConcept")
_OBSERVATION_KEPT = (
    "status", "category", "code", "subject", "encounter", "effectiveDateTime",
    "effectivePeriod", "effectiveInstant", "issued", *_VALUES, "referenceRange", "note",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ObservationIn:
    patient_id: UUID
    encounter_id: UUID | None
    vital: bool  # a vital sign in its canonical unit: the vitals chart; else a lab result
    code: str  # LOINC
    name: str
    status: ResultStatus
    effective: datetime | None
    effective_path: str
    issued: datetime | None
    value: Decimal | None = None
    unit: str | None = None
    text: str | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    range_unit: str | None = None
    not_stored: list[str] = field(default_factory=list)


def _decimal(value: Any, path: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise refuse(path, N_("{path} must be a number."), path=path) from None


def _unit(quantity: Mapping[str, Any], path: str, not_stored: list[str]) -> str | None:
    """The unit Afiya keeps: the UCUM code when the system is UCUM, else the unit text."""
    if quantity.get("system") == maps.UCUM and quantity.get("code"):
        code = str(quantity["code"])
        if quantity.get("unit") and quantity["unit"] != code:
            not_stored.append(f"{path}.unit")
        return code
    if quantity.get("system") or quantity.get("code"):
        not_stored += [f"{path}.{k}" for k in ("system", "code") if quantity.get(k)]
    return str(quantity["unit"]) if quantity.get("unit") else None


def _fits(spec: ObservationDefinition, value: Decimal) -> bool:
    """The value is stored as sent: the code's precision keeps it unchanged."""
    return value == value.quantize(Decimal(1).scaleb(-spec.decimals))


def observation_in(resource: Mapping[str, Any]) -> ObservationIn:
    """A vital sign Afiya knows, in its canonical UCUM unit, stored as sent and without a
    reference range, goes to the vitals; anything else coded in LOINC to the lab results,
    which keep the sender's unit, value and reference range."""
    o = "Observation"
    status = _RESULT_STATUS.get(str(resource.get("status")))
    if status is None:
        raise refuse(
            f"{o}.status",
            N_("Afiya records preliminary and final observations; corrections go through /api/v1."),
        )
    if resource.get("component"):
        raise refuse(
            f"{o}.component",
            N_(
                "Observations with components (a blood pressure panel) are not accepted over "
                "FHIR: record a blood pressure through /api/v1."
            ),
        )
    found = code_of(resource.get("code"), maps.LOINC)
    if found is None:
        raise refuse(
            f"{o}.code", N_("Afiya records observations coded in LOINC (http://loinc.org).")
        )
    index, coding = found
    code = str(coding["code"])
    not_stored = unkept(resource, o, _OBSERVATION_KEPT)
    not_stored += other_codings(resource.get("code"), index, f"{o}.code")
    value_keys = [k for k in resource if k.startswith("value")]
    if any(k not in _VALUES for k in value_keys) or not value_keys:
        raise refuse(
            f"{o}.value[x]",
            N_(
                "Afiya records a quantity, a text or a coded value (valueQuantity, "
                "valueString, valueCodeableConcept)."
            ),
        )
    value = unit = text = None
    quantity = resource.get("valueQuantity")
    if quantity is not None:
        if quantity.get("comparator"):
            raise refuse(f"{o}.valueQuantity.comparator", N_("Afiya records exact values only."))
        if quantity.get("value") is None:
            raise refuse(f"{o}.valueQuantity.value", N_("Give the value."))
        value = _decimal(quantity["value"], f"{o}.valueQuantity.value")
        unit = _unit(quantity, f"{o}.valueQuantity", not_stored)
    elif resource.get("valueString") is not None:
        text = str(resource["valueString"])
    else:
        concept = resource.get("valueCodeableConcept")
        text = words(concept)
        not_stored += other_codings(concept, None, f"{o}.valueCodeableConcept")
        if text is None:
            raise refuse(f"{o}.valueCodeableConcept", N_("Give the coded value's text or display."))
    effective, effective_path = None, f"{o}.effective[x]"
    for key in ("effectiveDateTime", "effectiveInstant"):
        if resource.get(key):
            effective, effective_path = moment(resource[key], f"{o}.{key}"), f"{o}.{key}"
    period = resource.get("effectivePeriod")
    if period:
        effective_path = f"{o}.effectivePeriod.start"
        if not period.get("start"):
            raise refuse(effective_path, N_("Give the start of the observation period."))
        effective = moment(period["start"], effective_path)
        if period.get("end"):
            not_stored.append(f"{o}.effectivePeriod.end")
    if resource.get("effectiveTiming"):
        raise refuse(f"{o}.effectiveTiming", N_("Give the time of the observation as a dateTime."))
    issued = moment(resource["issued"], f"{o}.issued") if resource.get("issued") else None
    low = high = range_unit = None
    ranges = resource.get("referenceRange") or []
    if ranges:
        first = ranges[0]
        units = set()
        for bound in ("low", "high"):
            if first.get(bound):
                q = first[bound]
                path = f"{o}.referenceRange[0].{bound}"
                number = _decimal(q.get("value"), f"{path}.value")
                low, high = (number, high) if bound == "low" else (low, number)
                units.add(_unit(q, path, not_stored))
        if len(units) > 1:
            raise refuse(f"{o}.referenceRange[0]", N_("Give both limits in the same unit."))
        range_unit = units.pop() if units else None
        not_stored += [f"{o}.referenceRange[0].{k}" for k in first if k not in ("low", "high")]
        not_stored += [f"{o}.referenceRange[{i}]" for i in range(1, len(ranges))]
    notes = resource.get("note") or []
    if notes and value is not None:
        text = notes[0].get("text")
        not_stored += [f"{o}.note[{i}]" for i in range(1, len(notes))]
    elif notes:
        not_stored.append(f"{o}.note")
    spec = definition(code)
    vital = (
        spec is not None
        and spec.loinc == code
        and value is not None
        and unit == spec.unit
        and _fits(spec, value)
        and not ranges
        and status is ResultStatus.FINAL
    )
    if vital and notes:
        not_stored.append(f"{o}.note")
    if vital and issued is not None:
        not_stored.append(f"{o}.issued")
    category = maps.observation_category(code)
    for i, concept in enumerate(resource.get("category") or []):
        sent = {(c.get("system"), c.get("code")) for c in codings(concept)}
        if sent != {(maps.OBSERVATION_CATEGORY, category)}:
            not_stored.append(f"{o}.category[{i}]")
    text_name = (resource.get("code") or {}).get("text")
    name = text_name or coding.get("display") or (spec.name if spec else code)
    return ObservationIn(
        patient_id=patient_of(resource, o),
        encounter_id=uuid_ref(resource.get("encounter"), "Encounter", f"{o}.encounter"),
        vital=vital,
        code=code,
        name=str(name),
        status=status,
        effective=effective,
        effective_path=effective_path,
        issued=issued,
        value=value,
        unit=unit,
        text=text,
        low=low,
        high=high,
        range_unit=range_unit,
        not_stored=not_stored,
    )


def observation_paths(m: ObservationIn) -> dict[str, str]:
    o = "Observation"
    value = f"{o}.valueQuantity" if m.value is not None else f"{o}.value[x]"
    return {
        "effective_at": m.effective_path,
        "observed_at": m.effective_path,
        "reported_at": f"{o}.issued",
        "readings.0.value": f"{value}.value",
        "readings.0.unit": f"{value}.code",
        "readings.0.code": f"{o}.code",
        "readings": f"{o}.code",
        "value": value,
        "unit": f"{value}.unit",
        "reference": f"{o}.referenceRange[0]",
        "reference.unit": f"{o}.referenceRange[0]",
        "encounter_id": f"{o}.encounter",
        "responsible_id": f"{o}.encounter",
    }
