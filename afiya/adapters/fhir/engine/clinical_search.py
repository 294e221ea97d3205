"""FHIR search of the clinical record: Encounter, Observation, Condition,
AllergyIntolerance and DiagnosticReport (registered in :mod:`.clinical`).

Searches need ``patient``: for each patient asked, the timeline use case (or the
problem-list / allergy use case) checks access and writes one audit event carrying the
patient id; the entries it lists are then loaded, one query per kind, and filtered here.
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
from afiya.adapters.fhir.engine.registry import Resource, SearchResult
from afiya.domain.clinical import use_cases
from afiya.domain.clinical.timeline import MAX_PAGE, ItemType, TimelineItem, TimelineQuery
from afiya.domain.clinical.timeline import decode_cursor as _decode_cursor
from afiya.domain.fhir.search import DateValue, SearchRequest, TokenValue
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


async def timeline_items(
    ctx: FhirContext, patient_id: UUID, types: set[ItemType], *, missing_ok: bool = True
) -> list[TimelineItem]:
    """Every timeline entry of these types; the first page through the use case (access
    check and audit with the patient id), the next ones from the same query. An unknown
    patient has none (``missing_ok``) or raises PatientNotFound."""
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
        if missing_ok:
            return []
        raise
    found = list(page.items)
    while page.next_cursor:
        query = replace(query, cursor=_decode_cursor(page.next_cursor))
        page = await ctx.uow.clinical.timeline(patient_id, query)
        found.extend(page.items)
    return found


def record_ids(items: Iterable[TimelineItem], kind: ItemType) -> list[UUID]:
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


def read_first(*attempts: Callable[[], Any]) -> Callable[[], Any]:
    async def run() -> Any:
        for attempt in attempts:
            try:
                return await attempt()
            except use_cases.ClinicalRecordNotFound:
                continue
        raise NotFound()

    return run


def reader(ctx: FhirContext) -> dict[str, Any]:
    return {"principal": ctx.principal, "clinical": ctx.uow.clinical, "audit": ctx.uow.audit}


# -- Encounter ----------------------------------------------------------------------


async def search_encounters(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    found: list[tuple[Any, Resource]] = []
    clinical = ctx.uow.clinical
    for patient_id in _patients(request, "Encounter"):
        items = await timeline_items(ctx, patient_id, {ItemType.ENCOUNTER})
        encounters = [
            e
            for e in await clinical.encounters(record_ids(items, ItemType.ENCOUNTER))
            if _id_ok(request, e.id)
            and _token_ok(request, "status", [(None, maps.ENCOUNTER_STATUS[e.status])])
            and _date_ok(request, "date", e.started_at)
        ]
        diagnoses = await clinical.diagnoses_of_encounters([e.id for e in encounters])
        found.extend((e.started_at, maps.encounter(e, diagnoses[e.id])) for e in encounters)
    return _page(request, found)


# -- Observation ---------------------------------------------------------------------


async def lab_results(ctx: FhirContext, items: list[TimelineItem]) -> list[Any]:
    """The current version of each lab result (a corrected one replaces its previous)."""
    results = await ctx.uow.clinical.lab_results(record_ids(items, ItemType.RESULT))
    replaced = {r.previous_id for r in results if r.previous_id}
    return [r for r in results if r.id not in replaced]


def _categories(request: SearchRequest) -> set[str]:
    wanted = {maps.VITAL_SIGNS, maps.LABORATORY}
    for alternatives in _tokens(request, "category"):
        wanted &= {v.code for v in alternatives if v.system in (None, maps.OBSERVATION_CATEGORY)}
    return wanted


async def search_observations(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Vital signs and lab results. A lab result coded with a vital sign's LOINC code (a
    weight sent in pounds) is in the ``vital-signs`` category, so the category filters
    the mapped resources rather than the record's tables."""
    found: list[tuple[Any, Resource]] = []
    categories = _categories(request)
    types = {ItemType.OBSERVATION} if maps.VITAL_SIGNS in categories else set()
    types |= {ItemType.RESULT} if categories else set()
    for patient_id in _patients(request, "Observation"):
        if not types:
            continue
        items = await timeline_items(ctx, patient_id, types)
        for o in await ctx.uow.clinical.observations(record_ids(items, ItemType.OBSERVATION)):
            if (
                _id_ok(request, o.id)
                and _token_ok(request, "code", [(maps.LOINC, o.code)])
                and _date_ok(request, "date", o.effective_at)
            ):
                found.append((o.effective_at, maps.vital_sign(o)))
        for r in await lab_results(ctx, items):
            if (
                maps.observation_category(r.code) in categories
                and _id_ok(request, r.id)
                and _token_ok(request, "code", [(maps.LOINC, r.code)])
                and _date_ok(request, "date", r.observed_at)
            ):
                found.append((r.observed_at, maps.lab_observation(r)))
    return _page(request, found)


# -- Condition -----------------------------------------------------------------------


async def search_conditions(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Problems (with a clinical status) and encounter diagnoses (without one: a search
    by clinical-status finds problem-list entries only)."""
    found: list[tuple[Any, Resource]] = []
    for patient_id in _patients(request, "Condition"):
        try:
            problems = await use_cases.list_problems(patient_id, **reader(ctx))
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
        items = await timeline_items(ctx, patient_id, {ItemType.DIAGNOSIS})
        for d in await ctx.uow.clinical.diagnoses(record_ids(items, ItemType.DIAGNOSIS)):
            if _id_ok(request, d.id) and _token_ok(request, "code", [(maps.ICD10, d.code)]):
                found.append((d.recorded_at, maps.diagnosis(d)))
    return _page(request, found)


# -- AllergyIntolerance --------------------------------------------------------------


async def search_allergies(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    found: list[tuple[Any, Resource]] = []
    for patient_id in _patients(request, "AllergyIntolerance"):
        try:
            record = await use_cases.read_allergies(patient_id, **reader(ctx))
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


async def search_reports(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    found: list[tuple[Any, Resource]] = []
    for patient_id in _patients(request, "DiagnosticReport"):
        items = await timeline_items(ctx, patient_id, {ItemType.RESULT, ItemType.IMAGING})
        for r in await lab_results(ctx, items):
            if (
                _id_ok(request, r.id)
                and _token_ok(request, "code", [(maps.LOINC, r.code)])
                and _date_ok(request, "date", r.observed_at)
            ):
                found.append((r.observed_at, maps.lab_report(r)))
        for report in await ctx.uow.clinical.imaging_reports(record_ids(items, ItemType.IMAGING)):
            if (
                _id_ok(request, report.id)
                and _token_ok(request, "code", [(maps.DICOM, report.modality.value)])
                and _date_ok(request, "date", report.reported_at)
            ):
                found.append((report.reported_at, maps.imaging_report(report)))
    return _page(request, found)
