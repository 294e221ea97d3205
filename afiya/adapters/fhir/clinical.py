"""Mapping the clinical record to FHIR R4: Encounter, Observation, Condition,
AllergyIntolerance, DiagnosticReport (the way in is :mod:`afiya.adapters.fhir.clinical_in`).

Codes: LOINC for measurements and lab results, UCUM for the canonical units of vital
signs, WHO ICD-10 for diagnoses and problems, SNOMED CT ``716186003`` for the explicit
"no known allergies" statement, ATC for drug classes, DICOM modality codes for imaging.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from afiya.adapters.fhir.common import BASE_URI, instant, reference
from afiya.adapters.fhir.common import prune as _prune
from afiya.domain.clinical.allergies import (
    Allergy,
    NoKnownAllergies,
    SubstanceSystem,
)
from afiya.domain.clinical.diagnoses import Certainty, Diagnosis, DiagnosisRank
from afiya.domain.clinical.encounters import Encounter, EncounterKind, EncounterStatus
from afiya.domain.clinical.measurements import Observation
from afiya.domain.clinical.observations import DEFINITIONS, definition
from afiya.domain.clinical.problems import Problem, ProblemStatus
from afiya.domain.clinical.results import ImagingReport, LabResult

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
INN_SYSTEM = f"{BASE_URI}/CodeSystem/inn"  # active ingredients by INN, lower case
NKA_CODE = "716186003"  # SNOMED CT: No known allergy (situation)
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"
OBSERVATION_CATEGORY = f"{_TERMINOLOGY}/observation-category"
CONDITION_CATEGORY = f"{_TERMINOLOGY}/condition-category"
CONDITION_CLINICAL = f"{_TERMINOLOGY}/condition-clinical"
CONDITION_VERIFICATION = f"{_TERMINOLOGY}/condition-ver-status"
ALLERGY_CLINICAL = f"{_TERMINOLOGY}/allergyintolerance-clinical"
ALLERGY_VERIFICATION = f"{_TERMINOLOGY}/allergyintolerance-verification"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
REPORT_SECTION = f"{_TERMINOLOGY}/v2-0074"
INTERPRETATION = f"{_TERMINOLOGY}/v3-ObservationInterpretation"
DISCHARGE_DISPOSITION = f"{_TERMINOLOGY}/discharge-disposition"
TRIAGE_SYSTEM = f"{BASE_URI}/CodeSystem/triage"  # Afiya's triage level, 1 (red) to 5 (blue)

VITAL_SIGNS = "vital-signs"
LABORATORY = "laboratory"

UCUM_UNITS = frozenset(
    {unit for d in DEFINITIONS for unit in (d.unit, *d.units)}
    | {
        "%", "g/L", "g/dL", "mg/dL", "mg/L", "ug/L", "ng/mL", "pg/mL", "mmol/L", "umol/L",
        "nmol/L", "pmol/L", "mol/L", "meq/L", "[iU]/L", "m[iU]/mL", "U/L", "10*3/uL",
        "10*6/uL", "10*9/L", "10*12/L", "/uL", "fL", "pg", "s", "min", "h", "mm/h", "mL/min",
        "mL/min/{1.73_m2}", "[pH]", "mm[Hg]", "kPa", "kg", "g", "[lb_av]", "cm", "m", "Cel",
    }
)  # fmt: skip
"""Lab units given with the UCUM system on the way out: the vital signs' units and the
usual UCUM codes of lab results. Another unit is the lab's text (no system claimed)."""

_CLASS = {
    EncounterKind.OUTPATIENT: ("AMB", "ambulatory"),
    EncounterKind.EMERGENCY: ("EMER", "emergency"),
    EncounterKind.INPATIENT: ("IMP", "inpatient encounter"),
}
ENCOUNTER_STATUS = {
    EncounterStatus.IN_PROGRESS: "in-progress",
    EncounterStatus.FINISHED: "finished",
    EncounterStatus.CANCELLED: "cancelled",
}
_DISPOSITION = {
    "home": "home",
    "transfer": "other-hcf",
    "death": "exp",
    "left_against_advice": "aadvice",
}
_CONDITION_VERIFICATION = {
    Certainty.PROVISIONAL: "provisional",
    Certainty.CONFIRMED: "confirmed",
    Certainty.ENTERED_IN_ERROR: "entered-in-error",
}


def prune(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource without its empty elements."""
    out: dict[str, Any] = _prune(resource)
    return out


def number(value: Decimal) -> int | float:
    """A JSON number (FHIR decimals are numbers; msgspec writes a Decimal as a string)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"system": system, "code": code, "display": display}


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [_coding(system, code, display)], "text": display}


def _quantity(value: Decimal, unit: str, *, ucum: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"value": number(value), "unit": unit}
    if ucum:
        out |= {"system": UCUM, "code": unit}
    return out


def _category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [_coding(OBSERVATION_CATEGORY, code)]}]


def encounter(e: Encounter, diagnoses: list[Diagnosis]) -> dict[str, Any]:
    """The encounter with its ward movements and its (counted) diagnoses."""
    code, display = _CLASS[e.kind]
    discharge = e.discharge
    disposition = None
    if discharge is not None:
        mapped = _DISPOSITION.get(discharge.mode.value)
        disposition = (
            {"coding": [_coding(DISCHARGE_DISPOSITION, mapped)], "text": discharge.mode.value}
            if mapped
            else {"text": discharge.mode.value}
        )
    movements = []
    for i, m in enumerate(e.movements):
        end = e.movements[i + 1].at if i + 1 < len(e.movements) else e.ended_at
        place = m.location.ward_id or m.location.department_id
        movements.append(
            {
                "location": reference("Location", place),
                "status": "completed" if end else "active",
                "period": {"start": instant(m.at), "end": instant(end)},
            }
        )
    return prune(
        {
            "resourceType": "Encounter",
            "id": str(e.id),
            "status": ENCOUNTER_STATUS[e.status],
            "class": _coding(ACT_CODE, code, display),
            "priority": _concept(TRIAGE_SYSTEM, str(e.triage.value), e.triage.colour)
            if e.triage is not None
            else None,
            "subject": reference("Patient", e.patient_id),
            "participant": [{"individual": reference("Practitioner", e.attending_id)}],
            "period": {"start": instant(e.started_at), "end": instant(e.ended_at)},
            "reasonCode": [{"text": e.reason}],
            "diagnosis": [
                {
                    "condition": reference("Condition", d.id),
                    "rank": 1 if d.rank is DiagnosisRank.PRIMARY else 2,
                }
                for d in diagnoses
                if d.counts
            ],
            "hospitalization": {"dischargeDisposition": disposition},
            "location": movements,
            "serviceProvider": reference("Organization", e.unit_id),
        }
    )


def vital_sign(o: Observation) -> dict[str, Any]:
    """A measurement, in its code's canonical UCUM unit (what was typed is not repeated)."""
    spec = definition(o.code)
    return prune(
        {
            "resourceType": "Observation",
            "id": str(o.id),
            "status": "final",
            "category": _category(VITAL_SIGNS),
            "code": _concept(LOINC, o.code, spec.name if spec else None),
            "subject": reference("Patient", o.patient_id),
            "encounter": reference("Encounter", o.encounter_id) if o.encounter_id else None,
            "effectiveDateTime": instant(o.effective_at),
            "performer": [reference("Practitioner", o.recorded_by)],
            "valueQuantity": _quantity(o.value, o.unit, ucum=True),
            "derivedFrom": [reference("Observation", i) for i in o.derived_from],
        }
    )


def observation_category(code: str) -> str:
    """``vital-signs`` for a code of the vital-signs catalogue, else ``laboratory``."""
    spec = definition(code)
    return VITAL_SIGNS if spec is not None and spec.loinc == code else LABORATORY


def lab_observation(r: LabResult) -> dict[str, Any]:
    """A lab result: a value with the unit the lab gave (with the UCUM system when it is
    one of :data:`UCUM_UNITS`, else as text) and its reference range and flag, or a text
    result. A vital sign's code sent in another unit (a weight in pounds) is a lab result
    of the ``vital-signs`` category, value and unit as sent."""
    ref = r.reference
    ranges = []
    if ref is not None and (ref.low is not None or ref.high is not None):
        ucum = ref.unit in UCUM_UNITS
        ranges.append(
            {
                "low": _quantity(ref.low, ref.unit, ucum=ucum) if ref.low is not None else None,
                "high": _quantity(ref.high, ref.unit, ucum=ucum) if ref.high is not None else None,
            }
        )
    numeric = r.value is not None and r.unit
    return prune(
        {
            "resourceType": "Observation",
            "id": str(r.id),
            "status": r.status.value,
            "category": _category(observation_category(r.code)),
            "code": _concept(LOINC, r.code, r.name),
            "subject": reference("Patient", r.patient_id),
            "encounter": reference("Encounter", r.encounter_id) if r.encounter_id else None,
            "effectiveDateTime": instant(r.observed_at),
            "issued": instant(r.reported_at),
            "valueQuantity": _quantity(r.value, r.unit, ucum=r.unit in UCUM_UNITS)  # type: ignore[arg-type]
            if numeric
            else None,
            "valueString": None if numeric else r.text,
            "note": [{"text": r.text}] if numeric and r.text else None,
            "interpretation": [{"coding": [_coding(INTERPRETATION, r.flag.value)]}]
            if r.flag
            else None,
            "referenceRange": ranges,
        }
    )


def lab_report(r: LabResult) -> dict[str, Any]:
    """A lab result as a report of one result (same id as its Observation)."""
    return prune(
        {
            "resourceType": "DiagnosticReport",
            "id": str(r.id),
            "status": r.status.value,
            "category": [{"coding": [_coding(REPORT_SECTION, "LAB", "Laboratory")]}],
            "code": _concept(LOINC, r.code, r.name),
            "subject": reference("Patient", r.patient_id),
            "encounter": reference("Encounter", r.encounter_id) if r.encounter_id else None,
            "effectiveDateTime": instant(r.observed_at),
            "issued": instant(r.reported_at),
            "result": [reference("Observation", r.id)],
        }
    )


def imaging_report(r: ImagingReport) -> dict[str, Any]:
    """An imaging report: the modality (DICOM) and site, the findings as a text
    attachment, the conclusion (with the urgent finding, when there is one)."""
    conclusion = r.conclusion
    if r.urgent_finding:
        conclusion = f"{conclusion}\n{r.urgent_finding}"
    return prune(
        {
            "resourceType": "DiagnosticReport",
            "id": str(r.id),
            "status": "final",
            "category": [{"coding": [_coding(REPORT_SECTION, "RAD", "Radiology")]}],
            "code": {
                "coding": [_coding(DICOM, r.modality.value)],
                "text": f"{r.modality.value} {r.body_site}",
            },
            "subject": reference("Patient", r.patient_id),
            "encounter": reference("Encounter", r.encounter_id) if r.encounter_id else None,
            "effectiveDateTime": instant(r.reported_at),
            "issued": instant(r.reported_at),
            "performer": [reference("Practitioner", r.reported_by)],
            "resultsInterpreter": [reference("Practitioner", r.reported_by)],
            "conclusion": conclusion,
            "presentedForm": [
                {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(r.findings.encode()).decode(),
                    "title": "findings",
                }
            ]
            if r.findings
            else [],
        }
    )


def diagnosis(d: Diagnosis) -> dict[str, Any]:
    """An encounter diagnosis. Its clinical status is not recorded by Afiya, so none is
    given (FHIR allows that for encounter diagnoses)."""
    return prune(
        {
            "resourceType": "Condition",
            "id": str(d.id),
            "verificationStatus": _concept(
                CONDITION_VERIFICATION, _CONDITION_VERIFICATION[d.certainty]
            ),
            "category": [{"coding": [_coding(CONDITION_CATEGORY, "encounter-diagnosis")]}],
            "code": _concept(ICD10, d.code),
            "subject": reference("Patient", d.patient_id),
            "encounter": reference("Encounter", d.encounter_id),
            "recordedDate": instant(d.recorded_at),
            "recorder": reference("Practitioner", d.recorded_by),
            "note": [{"text": d.note}] if d.note else None,
        }
    )


def problem(p: Problem) -> dict[str, Any]:
    """An entry of the problem list (chronic condition, pregnancy) with its status."""
    in_error = p.status is ProblemStatus.ENTERED_IN_ERROR
    return prune(
        {
            "resourceType": "Condition",
            "id": str(p.id),
            "clinicalStatus": None if in_error else _concept(CONDITION_CLINICAL, p.status.value),
            "verificationStatus": _concept(
                CONDITION_VERIFICATION, "entered-in-error" if in_error else "confirmed"
            ),
            "category": [{"coding": [_coding(CONDITION_CATEGORY, "problem-list-item")]}],
            "code": _concept(ICD10, p.code),
            "subject": reference("Patient", p.patient_id),
            "onsetDateTime": p.onset.isoformat() if p.onset else None,
            "abatementDateTime": p.resolved_on.isoformat() if p.resolved_on else None,
            "recordedDate": instant(p.recorded_at),
            "recorder": reference("Practitioner", p.recorded_by),
        }
    )


def problem_clinical_status(p: Problem) -> str | None:
    return None if p.status is ProblemStatus.ENTERED_IN_ERROR else p.status.value


_SUBSTANCE_SYSTEM = {SubstanceSystem.INGREDIENT: INN_SYSTEM, SubstanceSystem.DRUG_CLASS: ATC}


def allergy(a: Allergy) -> dict[str, Any]:
    """An allergy or intolerance; one refuted by a later "no known allergies" statement
    is inactive."""
    system = _SUBSTANCE_SYSTEM.get(a.substance.system)
    token = a.substance.code.split("|", 1) if "|" in a.substance.code else None
    if system:
        code = _concept(system, a.substance.code, a.substance.display)
    elif token and ":" in token[0]:  # "<system URI>|<code>", as sent over FHIR
        code = _concept(token[0], token[1], a.substance.display)
    else:
        code = {"text": a.substance.display}
    return prune(
        {
            "resourceType": "AllergyIntolerance",
            "id": str(a.id),
            "clinicalStatus": _concept(
                ALLERGY_CLINICAL, "inactive" if a.superseded_by else "active"
            ),
            "verificationStatus": _concept(ALLERGY_VERIFICATION, a.verification.value),
            "type": a.type.value,
            "category": [a.category.value],
            "criticality": a.criticality.value.replace("_", "-"),
            "code": code,
            "patient": reference("Patient", a.patient_id),
            "recordedDate": instant(a.recorded_at),
            "recorder": reference("Practitioner", a.recorded_by),
            "reaction": [
                {"manifestation": [{"text": r.manifestation}], "severity": r.severity.value}
                for r in a.reactions
            ],
        }
    )


def no_known_allergies(s: NoKnownAllergies) -> dict[str, Any]:
    """The explicit statement, as the standard SNOMED CT "no known allergy" code."""
    return prune(
        {
            "resourceType": "AllergyIntolerance",
            "id": str(s.id),
            "clinicalStatus": _concept(
                ALLERGY_CLINICAL, "inactive" if s.superseded_by else "active"
            ),
            "verificationStatus": _concept(ALLERGY_VERIFICATION, "confirmed"),
            "code": _concept(SNOMED, NKA_CODE, "No known allergy"),
            "patient": reference("Patient", s.patient_id),
            "recordedDate": instant(s.stated_at),
            "recorder": reference("Practitioner", s.stated_by),
        }
    )
