"""FHIR Encounter, Observation, Condition, AllergyIntolerance and DiagnosticReport from
the clinical record: reads, ``$everything`` and the registry entries (search in
:mod:`.clinical_search`, create in :mod:`.clinical_writes`).

Reads call the record's use cases (``clinical:read`` against the patient's facility,
audited with the patient id). Ids are those of ``/api/v1`` (a lab result is
``Observation/<id>`` and ``DiagnosticReport/<id>``; a diagnosis or a problem is
``Condition/<id>``).
"""

from __future__ import annotations

from uuid import UUID

from afiya.adapters.fhir import clinical as maps
from afiya.adapters.fhir.engine import versions
from afiya.adapters.fhir.engine.clinical_search import (
    read_first,
    reader,
    search_allergies,
    search_conditions,
    search_encounters,
    search_observations,
    search_reports,
)
from afiya.adapters.fhir.engine.clinical_writes import (
    create_allergy,
    create_condition,
    create_encounter,
    create_observation,
)
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.registry import (
    EVERYTHING_SOURCES,
    Resource,
    ResourceType,
    register,
    uuid_of,
)
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import has_permission
from afiya.domain.clinical import use_cases
from afiya.domain.fhir.search import Criterion, ParamType, SearchRequest, SearchSpec

# -- reads ----------------------------------------------------------------------------


async def read_encounter(ctx: FhirContext, ident: str) -> Resource:
    encounter, diagnoses = await use_cases.read_encounter(uuid_of(ident), **reader(ctx))
    return maps.encounter(encounter, diagnoses)


async def read_observation(ctx: FhirContext, ident: str) -> Resource:
    key = uuid_of(ident)
    found = await read_first(
        lambda: use_cases.read_observation(key, **reader(ctx)),
        lambda: use_cases.read_lab_result(key, **reader(ctx)),
    )()
    return maps.vital_sign(found) if hasattr(found, "effective_at") else maps.lab_observation(found)


async def read_condition(ctx: FhirContext, ident: str) -> Resource:
    key = uuid_of(ident)
    found = await read_first(
        lambda: use_cases.read_diagnosis(key, **reader(ctx)),
        lambda: use_cases.read_problem(key, **reader(ctx)),
    )()
    return maps.diagnosis(found) if hasattr(found, "encounter_id") else maps.problem(found)


async def read_allergy(ctx: FhirContext, ident: str) -> Resource:
    """An allergy. A "no known allergies" statement has no read of its own in the record
    (it is read with the patient's allergy record): search by patient finds it."""
    key = uuid_of(ident)
    found = await read_first(lambda: use_cases.read_allergy(key, **reader(ctx)))()
    return maps.allergy(found)


async def read_report(ctx: FhirContext, ident: str) -> Resource:
    key = uuid_of(ident)
    found = await read_first(
        lambda: use_cases.read_lab_result(key, **reader(ctx)),
        lambda: use_cases.read_imaging_report(key, **reader(ctx)),
    )()
    if isinstance(found, tuple):  # an imaging report and its images
        return maps.imaging_report(found[0])
    return maps.lab_report(found)


# -- $everything and the registry ----------------------------------------------------

_EVERYTHING = 10_000  # a patient's whole record, in one Bundle


async def clinical_record_of(ctx: FhirContext, patient_id: UUID) -> list[Resource]:
    """$everything: the patient's clinical record, for callers with clinical:read."""
    if not has_permission(ctx.principal, Permission.CLINICAL_READ):
        return []
    out: list[Resource] = []
    for search, name in (
        (search_encounters, "Encounter"),
        (search_conditions, "Condition"),
        (search_allergies, "AllergyIntolerance"),
        (search_observations, "Observation"),
        (search_reports, "DiagnosticReport"),
    ):
        request = SearchRequest(
            name, (Criterion("patient", None, (str(patient_id),)),), count=_EVERYTHING
        )
        out.extend((await search(ctx, request)).resources)
    return out


EVERYTHING_SOURCES.append(clinical_record_of)

_PATIENT_DOC = "required: Patient/{id}"
_COMMON = (
    "The clinical record (also written through /api/v1); clinical:read in the patient's "
    "facility; every read, each patient searched and every create is audited. "
)
_VERSIONS = (
    " vread and _history come from the change log (the same read, permission and audit, "
    "plus one <type>.vread or <type>.history event with the patient id). "
)
_WRITE = (
    " Create goes through the record's own use case (permission in the patient's "
    "facility, validation, change log, audit); subject/patient must be an Afiya "
    "Patient/<id> (422 otherwise); what is not kept is listed in X-Afiya-Not-Stored. "
)

register(
    ResourceType(
        name="Encounter",
        read_permission=Permission.CLINICAL_READ,
        search_spec=SearchSpec(
            params={
                "patient": ParamType.REFERENCE,
                "date": ParamType.DATE,
                "status": ParamType.TOKEN,
            }
        ),
        read=read_encounter,
        **versions.interactions("Encounter", read_encounter, versions.ENCOUNTER),
        search=search_encounters,
        create=create_encounter,
        write_permission=Permission.CLINICAL_WRITE,
        conditional_create=True,
        patient_data=True,
        param_docs={
            "patient": _PATIENT_DOC,
            "date": "start of the encounter, with prefixes",
            "status": "in-progress, finished, cancelled",
        },
        documentation=_COMMON
        + "Consultations (AMB), emergency visits (EMER) and admissions (IMP) with their "
        "ward movements as locations and their ICD-10 diagnoses as Condition references."
        + _WRITE
        + "Create opens the encounter (open_encounter): status in-progress only (closing "
        "needs the primary diagnosis: /api/v1 discharge), class AMB/EMER/IMP, period.start "
        "(default: now), reasonCode as text (required), serviceProvider = the facility "
        "(default: the patient's), participant = the attending (an Afiya Practitioner; "
        "default: the caller), IMP needs location = a department or ward (Location/<id>), "
        f"EMER needs priority coded {maps.TRIAGE_SYSTEM}|1..5. Not kept: identifier, type, "
        "period.end, other participants and locations, reasonCode codings, "
        "hospitalization, length, extensions. Conditional create: If-None-Exist "
        "patient=...&date=<start>." + _VERSIONS + "One version per step (start, each "
        "transfer, discharge or cancel); a past version shows the encounter row, its "
        "ward movements and its diagnoses as they were before the next step.",
    )
)
register(
    ResourceType(
        name="Observation",
        read_permission=Permission.CLINICAL_READ,
        search_spec=SearchSpec(
            params={
                "patient": ParamType.REFERENCE,
                "code": ParamType.TOKEN,
                "date": ParamType.DATE,
                "category": ParamType.TOKEN,
            }
        ),
        read=read_observation,
        **versions.interactions("Observation", read_observation, versions.OBSERVATION),
        search=search_observations,
        create=create_observation,
        write_permission=Permission.CLINICAL_READ,
        conditional_create=True,
        patient_data=True,
        param_docs={
            "patient": _PATIENT_DOC,
            "code": f"LOINC ({maps.LOINC}|8310-5)",
            "date": "effective time, with prefixes",
            "category": "vital-signs or laboratory",
        },
        documentation=_COMMON
        + "Vital signs (UCUM canonical units) and lab results (the lab's unit, flag and "
        "reference range; a corrected result replaces the previous one)."
        + _WRITE
        + "Create needs a LOINC coding and status preliminary or final. A vital sign of "
        "Afiya's catalogue in its canonical UCUM unit, final, without reference range and "
        "exact at the catalogue's precision is recorded as a vital sign (record_vitals: "
        "clinical:write, plausibility); anything else (another unit such as [lb_av], a "
        "reference range, a text or coded value) is a lab result (record_lab_result: "
        "lab_results:write; value and unit as sent, flag computed from the reference "
        "range, a critical value notifies the encounter's attending, else the caller). "
        "The unit kept is the UCUM code (valueQuantity.unit text is not kept when it "
        "differs); a coded value is kept as its text. Refused (422): a blood-pressure "
        "panel or any component (record blood pressure through /api/v1), amended/"
        "corrected/cancelled/entered-in-error status, comparators, other value types. "
        "Not kept: identifier, other codings, performer, interpretation (Afiya computes "
        "the flag), bodySite, method, device, specimen, effectivePeriod.end, extensions. "
        "A date without time is 00:00 UTC. Conditional create: If-None-Exist "
        "patient=...&code=...&date=...." + _VERSIONS + "A vital sign or a lab result "
        "is not rewritten: one version, another only if a patient merge moved it (a "
        "correction is a new lab result with its own id, which replaces the previous "
        "one in searches).",
    )
)
register(
    ResourceType(
        name="Condition",
        read_permission=Permission.CLINICAL_READ,
        search_spec=SearchSpec(
            params={
                "patient": ParamType.REFERENCE,
                "code": ParamType.TOKEN,
                "clinical-status": ParamType.TOKEN,
            }
        ),
        read=read_condition,
        **versions.interactions("Condition", read_condition, versions.CONDITION),
        search=search_conditions,
        create=create_condition,
        write_permission=Permission.CLINICAL_WRITE,
        conditional_create=True,
        patient_data=True,
        param_docs={
            "patient": _PATIENT_DOC,
            "code": f"ICD-10 ({maps.ICD10}|A41.9)",
            "clinical-status": "active, inactive, resolved (problem-list entries only)",
        },
        documentation=_COMMON
        + "Encounter diagnoses (ICD-10, verification status from their certainty, no "
        "clinical status) and the problem list (clinical status)."
        + _WRITE
        + f"Create needs an ICD-10 coding ({maps.ICD10}; a condition coded only in SNOMED "
        "CT or as text is refused with 422 on Condition.code). category "
        "encounter-diagnosis (or an encounter given) adds an encounter diagnosis "
        "(primary when the encounter has none, else secondary; without encounter: the "
        "patient's only encounter in progress), verification confirmed or provisional; "
        "problem-list-item adds an active problem with its onset date. Not kept: other "
        "codings, code.text, severity, bodySite, clinicalStatus of a diagnosis, "
        "abatement, recordedDate/recorder/asserter (Afiya records who and when), "
        "evidence, stage, extensions." + _VERSIONS + "A diagnosis has a version per "
        "change of rank or certainty, a problem per change of status.",
    )
)
register(
    ResourceType(
        name="AllergyIntolerance",
        read_permission=Permission.CLINICAL_READ,
        search_spec=SearchSpec(params={"patient": ParamType.REFERENCE}),
        read=read_allergy,
        **versions.interactions("AllergyIntolerance", read_allergy, versions.ALLERGY),
        search=search_allergies,
        create=create_allergy,
        write_permission=Permission.CLINICAL_WRITE,
        patient_data=True,
        param_docs={"patient": _PATIENT_DOC},
        documentation=_COMMON
        + "Allergies and intolerances with their verification status; the explicit "
        f'"no known allergies" statement as {maps.SNOMED}|{maps.NKA_CODE} (search only).'
        + _WRITE
        + f"Create: {maps.SNOMED}|{maps.NKA_CODE} states no known allergies; narrower "
        "statements (no known drug allergy...) are refused. Otherwise an active allergy "
        "with verificationStatus confirmed or unconfirmed (required), type (default "
        "allergy), category (required unless INN/ATC), criticality (default "
        f"unable-to-assess). Substances in INN ({maps.INN_SYSTEM}) or ATC are checked by "
        "prescribing; another coding (SNOMED CT, RxNorm) is kept as given and shown, but "
        "prescriptions are not checked against it. Reactions are kept as manifestation "
        "text with severity (a reaction without severity is not kept). Not kept: "
        "identifier, other codings, onset, lastOccurrence, recorder, asserter, note, "
        "reaction details, extensions; recordedDate is kept for allergies."
        + _VERSIONS
        + "An allergy has a version per change of verification or supersession.",
    )
)
register(
    ResourceType(
        name="DiagnosticReport",
        read_permission=Permission.CLINICAL_READ,
        search_spec=SearchSpec(
            params={
                "patient": ParamType.REFERENCE,
                "code": ParamType.TOKEN,
                "date": ParamType.DATE,
            }
        ),
        read=read_report,
        **versions.interactions("DiagnosticReport", read_report, versions.REPORT),
        search=search_reports,
        patient_data=True,
        param_docs={
            "patient": _PATIENT_DOC,
            "code": f"LOINC for lab results, DICOM modality ({maps.DICOM}|US) for imaging",
            "date": "specimen time (lab) or report time (imaging), with prefixes",
        },
        documentation=_COMMON
        + "Lab results (one report per result, same id as its Observation) and imaging "
        "reports (findings as a text attachment, conclusion)."
        + _VERSIONS
        + "A report is not rewritten: one version (another if a patient merge moved it).",
    )
)
