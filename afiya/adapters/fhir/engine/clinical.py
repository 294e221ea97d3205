"""FHIR Encounter, Observation, Condition, AllergyIntolerance and DiagnosticReport
(read and search) from the clinical record.

Reads call the record's use cases (``clinical:read`` against the patient's facility,
audited with the patient id). Searches need ``patient``: for each patient asked, the
timeline use case (or the problem-list / allergy use case) checks access and writes one
audit event carrying the patient id; the entries it lists are then loaded and filtered
here. Ids are those of ``/api/v1`` (a lab result is ``Observation/<id>`` and
``DiagnosticReport/<id>``; a diagnosis or a problem is ``Condition/<id>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from afiya.adapters.fhir import clinical as maps
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
from afiya.domain.access.policy import has_permission
from afiya.domain.clinical import use_cases
from afiya.domain.clinical.timeline import MAX_PAGE, ItemType, TimelineItem, TimelineQuery
from afiya.domain.clinical.timeline import decode_cursor as _decode_cursor
from afiya.domain.fhir.search import (
    Criterion,
    DateValue,
    ParamType,
    SearchRequest,
    SearchSpec,
    TokenValue,
)
from afiya.domain.patients.errors import PatientNotFound
from afiya.domain.shared.errors import NotFound
from afiya.domain.shared.i18n import N_, Message

# -- shared search machinery --------------------------------------------------------


def _patients(request: SearchRequest, type_name: str) -> list[UUID]:
    """The patients a search names (required: the record is read patient by patient)."""
    wanted = [v for c in request.values("patient") for v in c.values]
    if not wanted:
        raise FhirError(
            400,
            "required",
            Message(N_("Search {type} by patient (patient=Patient/<id>)."), {"type": type_name}),
            expression=["patient"],
        )
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
    out: list[UUID] = []
    for value in wanted:
        try:
            out.append(UUID(str(value)))
        except ValueError:
            continue  # not an Afiya id: no such patient
    return out


async def _items(ctx: FhirContext, patient_id: UUID, types: set[ItemType]) -> list[TimelineItem]:
    """Every timeline entry of these types; the first page through the use case (access
    check and audit with the patient id), the next ones from the same query. An unknown
    patient has none."""
    query = TimelineQuery(types=frozenset(types), limit=MAX_PAGE)
    try:
        page = await use_cases.patient_timeline(
            patient_id,
            query,
            principal=ctx.principal,
            clinical=ctx.uow.clinical,
            audit=ctx.uow.audit,
        )
    except PatientNotFound:
        return []
    found = list(page.items)
    while page.next_cursor:
        query = replace(query, cursor=_decode_cursor(page.next_cursor))
        page = await ctx.uow.clinical.timeline(patient_id, query)
        found.extend(page.items)
    return found


def _ids(items: Iterable[TimelineItem], kind: ItemType) -> list[UUID]:
    """Distinct record ids behind timeline entries (an encounter's steps share its link)."""
    seen: dict[UUID, None] = {}
    for entry in items:
        if entry.type is kind:
            seen.setdefault(UUID(entry.link.rstrip("/").rsplit("/", 1)[-1]), None)
    return list(seen)


def _tokens(request: SearchRequest, name: str) -> list[list[TokenValue]]:
    return [[v for v in c.values if isinstance(v, TokenValue)] for c in request.values(name)]


def _token_ok(request: SearchRequest, name: str, codings: list[tuple[str | None, str]]) -> bool:
    """AND across repeats, OR within one; a value's system must match when given."""
    for alternatives in _tokens(request, name):
        if not any(
            code == v.code and (v.system is None or v.system == (system or ""))
            for v in alternatives
            for system, code in codings
        ):
            return False
    return True


def _moment(value: datetime | date | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), tzinfo=UTC)


def _date_ok(request: SearchRequest, name: str, moment: datetime | date | None) -> bool:
    criteria = request.values(name)
    if not criteria:
        return True
    at = _moment(moment)
    return at is not None and all(
        any(isinstance(v, DateValue) and v.matches(at) for v in c.values) for c in criteria
    )


def _id_ok(request: SearchRequest, ident: UUID) -> bool:
    return _token_ok(request, "_id", [(None, str(ident))])


def _page(
    request: SearchRequest, found: list[tuple[datetime | date | None, Resource]]
) -> SearchResult:
    """Newest first (by the resource's date), then the requested page; exact total."""
    floor = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda pair: (_moment(pair[0]) or floor, pair[1]["id"]), reverse=True)
    page = found[request.offset : request.offset + request.count]
    return SearchResult([resource for _, resource in page], len(found))


def _read_first(*attempts: Callable[[], Any]) -> Callable[[], Any]:
    async def run() -> Any:
        for attempt in attempts:
            try:
                return await attempt()
            except use_cases.ClinicalRecordNotFound:
                continue
        raise NotFound()

    return run


def _reader(ctx: FhirContext) -> dict[str, Any]:
    return {"principal": ctx.principal, "clinical": ctx.uow.clinical, "audit": ctx.uow.audit}


# -- Encounter ----------------------------------------------------------------------


async def read_encounter(ctx: FhirContext, ident: str) -> Resource:
    encounter, diagnoses = await use_cases.read_encounter(uuid_of(ident), **_reader(ctx))
    return maps.encounter(encounter, diagnoses)


async def search_encounters(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    found: list[tuple[Any, Resource]] = []
    clinical = ctx.uow.clinical
    for patient_id in _patients(request, "Encounter"):
        items = await _items(ctx, patient_id, {ItemType.ENCOUNTER})
        for ident in _ids(items, ItemType.ENCOUNTER):
            e = await clinical.encounter(ident)
            if e is None or not _id_ok(request, e.id):
                continue
            if not _token_ok(request, "status", [(None, maps.ENCOUNTER_STATUS[e.status])]):
                continue
            if not _date_ok(request, "date", e.started_at):
                continue
            found.append(
                (e.started_at, maps.encounter(e, await clinical.encounter_diagnoses(e.id)))
            )
    return _page(request, found)


# -- Observation ---------------------------------------------------------------------


async def read_observation(ctx: FhirContext, ident: str) -> Resource:
    key = uuid_of(ident)
    found = await _read_first(
        lambda: use_cases.read_observation(key, **_reader(ctx)),
        lambda: use_cases.read_lab_result(key, **_reader(ctx)),
    )()
    return maps.vital_sign(found) if hasattr(found, "effective_at") else maps.lab_observation(found)


async def _lab_results(ctx: FhirContext, items: list[TimelineItem]) -> list[Any]:
    """The current version of each lab result (a corrected one replaces its previous)."""
    results = []
    for ident in _ids(items, ItemType.RESULT):
        stored = await ctx.uow.clinical.lab_result(ident)
        if stored is not None:
            results.append(stored[0])
    replaced = {r.previous_id for r in results if r.previous_id}
    return [r for r in results if r.id not in replaced]


def _categories(request: SearchRequest) -> set[str]:
    wanted = {maps.VITAL_SIGNS, maps.LABORATORY}
    for alternatives in _tokens(request, "category"):
        wanted &= {v.code for v in alternatives if v.system in (None, maps.OBSERVATION_CATEGORY)}
    return wanted


async def search_observations(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    found: list[tuple[Any, Resource]] = []
    categories = _categories(request)
    types = {ItemType.OBSERVATION} if maps.VITAL_SIGNS in categories else set()
    types |= {ItemType.RESULT} if maps.LABORATORY in categories else set()
    for patient_id in _patients(request, "Observation"):
        if not types:
            continue
        items = await _items(ctx, patient_id, types)
        for ident in _ids(items, ItemType.OBSERVATION):
            o = await ctx.uow.clinical.observation(ident)
            if (
                o is not None
                and _id_ok(request, o.id)
                and _token_ok(request, "code", [(maps.LOINC, o.code)])
                and _date_ok(request, "date", o.effective_at)
            ):
                found.append((o.effective_at, maps.vital_sign(o)))
        for r in await _lab_results(ctx, items):
            if (
                _id_ok(request, r.id)
                and _token_ok(request, "code", [(maps.LOINC, r.code)])
                and _date_ok(request, "date", r.observed_at)
            ):
                found.append((r.observed_at, maps.lab_observation(r)))
    return _page(request, found)


# -- Condition -----------------------------------------------------------------------


async def read_condition(ctx: FhirContext, ident: str) -> Resource:
    key = uuid_of(ident)
    found = await _read_first(
        lambda: use_cases.read_diagnosis(key, **_reader(ctx)),
        lambda: use_cases.read_problem(key, **_reader(ctx)),
    )()
    return maps.diagnosis(found) if hasattr(found, "encounter_id") else maps.problem(found)


async def search_conditions(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Problems (with a clinical status) and encounter diagnoses (without one: a search
    by clinical-status finds problem-list entries only)."""
    found: list[tuple[Any, Resource]] = []
    for patient_id in _patients(request, "Condition"):
        try:
            problems = await use_cases.list_problems(patient_id, **_reader(ctx))
        except PatientNotFound:
            continue
        for p in problems:
            if (
                _id_ok(request, p.id)
                and _token_ok(request, "code", [(maps.ICD10, p.code)])
                and _token_ok(
                    request,
                    "clinical-status",
                    [(maps.CONDITION_CLINICAL, maps.problem_clinical_status(p) or "")],
                )
            ):
                found.append((p.recorded_at, maps.problem(p)))
        if request.values("clinical-status"):
            continue
        items = await _items(ctx, patient_id, {ItemType.DIAGNOSIS})
        for ident in _ids(items, ItemType.DIAGNOSIS):
            d = await ctx.uow.clinical.diagnosis(ident)
            if (
                d is not None
                and _id_ok(request, d.id)
                and _token_ok(request, "code", [(maps.ICD10, d.code)])
            ):
                found.append((d.recorded_at, maps.diagnosis(d)))
    return _page(request, found)


# -- AllergyIntolerance --------------------------------------------------------------


async def read_allergy(ctx: FhirContext, ident: str) -> Resource:
    """An allergy. A "no known allergies" statement has no read of its own in the record
    (it is read with the patient's allergy record): search by patient finds it."""
    key = uuid_of(ident)
    found = await _read_first(lambda: use_cases.read_allergy(key, **_reader(ctx)))()
    return maps.allergy(found)


async def search_allergies(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    found: list[tuple[Any, Resource]] = []
    for patient_id in _patients(request, "AllergyIntolerance"):
        try:
            record = await use_cases.read_allergies(patient_id, **_reader(ctx))
        except PatientNotFound:
            continue
        for a in record.allergies:
            if _id_ok(request, a.id):
                found.append((a.recorded_at, maps.allergy(a)))
        for s in record.statements:
            if _id_ok(request, s.id):
                found.append((s.stated_at, maps.no_known_allergies(s)))
    return _page(request, found)


# -- DiagnosticReport ----------------------------------------------------------------


async def read_report(ctx: FhirContext, ident: str) -> Resource:
    key = uuid_of(ident)
    found = await _read_first(
        lambda: use_cases.read_lab_result(key, **_reader(ctx)),
        lambda: use_cases.read_imaging_report(key, **_reader(ctx)),
    )()
    if isinstance(found, tuple):  # an imaging report and its images
        return maps.imaging_report(found[0])
    return maps.lab_report(found)


async def search_reports(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    found: list[tuple[Any, Resource]] = []
    for patient_id in _patients(request, "DiagnosticReport"):
        items = await _items(ctx, patient_id, {ItemType.RESULT, ItemType.IMAGING})
        for r in await _lab_results(ctx, items):
            if (
                _id_ok(request, r.id)
                and _token_ok(request, "code", [(maps.LOINC, r.code)])
                and _date_ok(request, "date", r.observed_at)
            ):
                found.append((r.observed_at, maps.lab_report(r)))
        for ident in _ids(items, ItemType.IMAGING):
            report = await ctx.uow.clinical.imaging_report(ident)
            if (
                report is not None
                and _id_ok(request, report.id)
                and _token_ok(request, "code", [(maps.DICOM, report.modality.value)])
                and _date_ok(request, "date", report.reported_at)
            ):
                found.append((report.reported_at, maps.imaging_report(report)))
    return _page(request, found)


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
    "Read and search of the clinical record (recorded through /api/v1); clinical:read "
    "in the patient's facility; every read and each patient searched is audited. "
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
        search=search_encounters,
        patient_data=True,
        param_docs={
            "patient": _PATIENT_DOC,
            "date": "start of the encounter, with prefixes",
            "status": "in-progress, finished, cancelled",
        },
        documentation=_COMMON
        + "Consultations (AMB), emergency visits (EMER) and admissions (IMP) with their "
        "ward movements as locations and their ICD-10 diagnoses as Condition references.",
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
        search=search_observations,
        patient_data=True,
        param_docs={
            "patient": _PATIENT_DOC,
            "code": f"LOINC ({maps.LOINC}|8310-5)",
            "date": "effective time, with prefixes",
            "category": "vital-signs or laboratory",
        },
        documentation=_COMMON
        + "Vital signs (UCUM canonical units) and lab results (the lab's unit, flag and "
        "reference range; a corrected result replaces the previous one).",
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
        search=search_conditions,
        patient_data=True,
        param_docs={
            "patient": _PATIENT_DOC,
            "code": f"ICD-10 ({maps.ICD10}|A41.9)",
            "clinical-status": "active, inactive, resolved (problem-list entries only)",
        },
        documentation=_COMMON
        + "Encounter diagnoses (ICD-10, verification status from their certainty, no "
        "clinical status) and the problem list (clinical status).",
    )
)
register(
    ResourceType(
        name="AllergyIntolerance",
        read_permission=Permission.CLINICAL_READ,
        search_spec=SearchSpec(params={"patient": ParamType.REFERENCE}),
        read=read_allergy,
        search=search_allergies,
        patient_data=True,
        param_docs={"patient": _PATIENT_DOC},
        documentation=_COMMON
        + "Allergies and intolerances with their verification status; the explicit "
        f'"no known allergies" statement as {maps.SNOMED}|{maps.NKA_CODE} (search only).',
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
        search=search_reports,
        patient_data=True,
        param_docs={
            "patient": _PATIENT_DOC,
            "code": f"LOINC for lab results, DICOM modality ({maps.DICOM}|US) for imaging",
            "date": "specimen time (lab) or report time (imaging), with prefixes",
        },
        documentation=_COMMON
        + "Lab results (one report per result, same id as its Observation) and imaging "
        "reports (findings as a text attachment, conclusion).",
    )
)
