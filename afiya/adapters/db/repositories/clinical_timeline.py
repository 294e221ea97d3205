"""The patient timeline in SQL: one UNION ALL of keyset-limited branches, one round trip.

Each clinical table has ``occurred_at`` and an index on ``(patient_id, occurred_at, id)``.
Each branch selects the rows of one table for the patient, in the query's period and past
the cursor (``(occurred_at, id) < (:at, :id)`` newest first), ordered on that index and
cut at ``limit + 1`` rows, with four text columns for the item's summary; the union is
ordered and cut again, so one page of rows comes back. Rows are grouped by source and
:func:`afiya.domain.clinical.timeline.merge` interleaves them and cuts the page: any page
costs what the first one costs (ADR 0107).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import String, Uuid, bindparam, cast, literal, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import UtcDateTime
from afiya.adapters.db.models.clinical import (
    AllergyRow,
    AllergyStatementRow,
    ClinicalDocumentRow,
    DiagnosisRow,
    EncounterEventRow,
    ImagingReportRow,
    LabResultRow,
    NoteRow,
    ObservationRow,
    ProblemRow,
)
from afiya.adapters.db.models.prescribing import DispensingRow, PrescriptionRow
from afiya.domain.clinical import summaries
from afiya.domain.clinical.timeline import (
    LINKS,
    ItemType,
    TimelineItem,
    TimelinePage,
    TimelineQuery,
    item,
    merge,
)
from afiya.domain.prescribing import summaries as prescribing_summaries

_NONE = literal(None, String)


def _text(column: Any) -> Any:
    return cast(column, String)


# (source name, item type, row class, the four summary columns)
_SOURCES: list[tuple[str, ItemType, Any, tuple[Any, Any, Any, Any]]] = [
    (
        "encounter",
        ItemType.ENCOUNTER,
        EncounterEventRow,
        (
            EncounterEventRow.kind,
            EncounterEventRow.summary,
            _text(EncounterEventRow.encounter_id),
            _NONE,
        ),
    ),
    (
        "observation",
        ItemType.OBSERVATION,
        ObservationRow,
        (ObservationRow.code, _text(ObservationRow.value), ObservationRow.unit, _NONE),
    ),
    (
        "diagnosis",
        ItemType.DIAGNOSIS,
        DiagnosisRow,
        (DiagnosisRow.code, DiagnosisRow.rank, DiagnosisRow.certainty, _NONE),
    ),
    (
        "problem",
        ItemType.PROBLEM,
        ProblemRow,
        (ProblemRow.code, ProblemRow.kind, ProblemRow.status, _NONE),
    ),
    (
        "allergy",
        ItemType.ALLERGY,
        AllergyRow,
        (AllergyRow.substance_display, AllergyRow.verification, _NONE, _NONE),
    ),
    (
        "allergy_statement",
        ItemType.ALLERGY,
        AllergyStatementRow,
        (_text(AllergyStatementRow.patient_id), _NONE, _NONE, _NONE),
    ),
    (
        "note",
        ItemType.NOTE,
        NoteRow,
        (NoteRow.kind, _text(NoteRow.note_version), _NONE, _NONE),
    ),
    (
        "result",
        ItemType.RESULT,
        LabResultRow,
        (LabResultRow.name, _text(LabResultRow.value), LabResultRow.unit, LabResultRow.flag),
    ),
    (
        "imaging",
        ItemType.IMAGING,
        ImagingReportRow,
        (
            ImagingReportRow.modality,
            ImagingReportRow.body_site,
            ImagingReportRow.urgent_finding,
            _NONE,
        ),
    ),
    (
        "document",
        ItemType.DOCUMENT,
        ClinicalDocumentRow,
        (ClinicalDocumentRow.kind, ClinicalDocumentRow.language, _NONE, _NONE),
    ),
    (
        "prescription",
        ItemType.PRESCRIPTION,
        PrescriptionRow,
        (PrescriptionRow.status, _text(PrescriptionRow.rx_version), _NONE, _NONE),
    ),
    (
        "dispensing",
        ItemType.DISPENSING,
        DispensingRow,
        (DispensingRow.status, DispensingRow.product_code, _text(DispensingRow.override_of), _NONE),
    ),
]


@dataclass(frozen=True, slots=True)
class _Shape:
    """What changes the SQL of a page (its values are bound parameters)."""

    sources: tuple[str, ...]
    since: bool
    until: bool
    cursor: bool
    newest_first: bool
    limit: int


def _branch(name: str, model: Any, columns: tuple[Any, ...], shape: _Shape) -> Any:
    at, row_id = model.occurred_at, model.id
    conditions = [
        model.patient_id == bindparam("patient_id", type_=Uuid()),
        model.deleted_at.is_(None),
    ]
    if shape.since:
        conditions.append(at >= bindparam("since", type_=UtcDateTime()))
    if shape.until:
        conditions.append(at < bindparam("until", type_=UtcDateTime()))
    if shape.cursor:
        # a row-value comparison: both databases use it as a range on the index
        key = tuple_(at, row_id)
        mark = tuple_(
            bindparam("cursor_at", type_=UtcDateTime()), bindparam("cursor_id", type_=Uuid())
        )
        conditions.append(key < mark if shape.newest_first else key > mark)
    order = (at.desc(), row_id.desc()) if shape.newest_first else (at.asc(), row_id.asc())
    a, b, c, d = columns
    return (
        select(
            literal(name, String).label("source"),
            row_id.label("id"),
            at.label("at"),
            a.label("a"),
            b.label("b"),
            c.label("c"),
            d.label("d"),
        )
        .where(*conditions)
        .order_by(*order)
        .limit(shape.limit + 1)
        .subquery()
    )


@lru_cache(maxsize=256)
def _page_statement(shape: _Shape) -> Any:
    # Building the Core objects of ten branches costs more than running the query, so a
    # statement is built once per shape and executed with the page's values bound.
    union = union_all(
        *(
            select(*_branch(name, model, columns, shape).c)
            for name, _, model, columns in _SOURCES
            if name in shape.sources
        )
    ).subquery()
    direction = (
        (union.c.at.desc(), union.c.id.desc())
        if shape.newest_first
        else (union.c.at.asc(), union.c.id.asc())
    )
    # the database interleaves the branches too, so only one page of rows comes back
    return select(*union.c).order_by(*direction).limit(shape.limit + 1)


def timeline_statement(patient_id: UUID, query: TimelineQuery) -> tuple[Any, dict[str, Any]] | None:
    """The SQL of one page and its parameters (None when the types select no source)."""
    sources = tuple(
        name for name, kind, _, _ in _SOURCES if query.types is None or kind in query.types
    )
    if not sources:
        return None
    shape = _Shape(
        sources,
        query.since is not None,
        query.until is not None,
        query.cursor is not None,
        query.newest_first,
        query.limit,
    )
    params: dict[str, Any] = {"patient_id": patient_id}
    if query.since is not None:
        params["since"] = query.since
    if query.until is not None:
        params["until"] = query.until
    if query.cursor is not None:
        params["cursor_at"], params["cursor_id"] = query.cursor.at, query.cursor.id
    return _page_statement(shape), params


async def read_timeline(
    session: AsyncSession, patient_id: UUID, query: TimelineQuery
) -> TimelinePage:
    """One page of the timeline of ``patient_id`` (see the module's docstring)."""
    found = timeline_statement(patient_id, query)
    if found is None:
        return TimelinePage((), None)
    statement, params = found
    rows = (await session.execute(statement, params)).all()
    by_source: dict[str, list[TimelineItem]] = defaultdict(list)
    for source, row_id, at, a, b, c, d in rows:
        by_source[source].append(_ITEMS[source](_uuid(row_id), _aware(at), a, b, c, d))
    # each source is sorted by (at, id) in Python too: the merge does not rely on how a
    # database orders UUIDs, and cuts the page by the domain's rules
    sources = [
        sorted(items, key=lambda e: e.key, reverse=query.newest_first)
        for items in by_source.values()
    ]
    return merge(sources, query)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- each source's item -------------------------------------------------------------------


def _encounter(
    row_id: UUID, at: datetime, step: Any, detail: Any, encounter: Any, _: Any
) -> TimelineItem:
    link = LINKS[ItemType.ENCOUNTER].format(id=_uuid(encounter))
    return TimelineItem(
        row_id, ItemType.ENCOUNTER, at, summaries.encounter_step(step, detail), link
    )


def _observation(
    row_id: UUID, at: datetime, code: Any, value: Any, unit: Any, _: Any
) -> TimelineItem:
    return item(ItemType.OBSERVATION, row_id, at, summaries.observation(code, value, unit))


def _diagnosis(
    row_id: UUID, at: datetime, code: Any, rank: Any, certainty: Any, _: Any
) -> TimelineItem:
    return item(ItemType.DIAGNOSIS, row_id, at, summaries.diagnosis(code, rank, certainty))


def _problem(row_id: UUID, at: datetime, code: Any, *_: Any) -> TimelineItem:
    return item(ItemType.PROBLEM, row_id, at, summaries.problem(code))


def _allergy(row_id: UUID, at: datetime, substance: Any, *_: Any) -> TimelineItem:
    return item(ItemType.ALLERGY, row_id, at, summaries.allergy(substance))


def _statement(row_id: UUID, at: datetime, patient: Any, *_: Any) -> TimelineItem:
    # a statement is read with the patient's allergy record
    link = f"/api/v1/patients/{_uuid(patient)}/allergies"
    return TimelineItem(row_id, ItemType.ALLERGY, at, summaries.no_known_allergies(), link)


def _note(row_id: UUID, at: datetime, kind: Any, version: Any, *_: Any) -> TimelineItem:
    number = int(float(version)) if version is not None else 1
    return item(ItemType.NOTE, row_id, at, summaries.note(number))


def _result(
    row_id: UUID, at: datetime, name: Any, value: Any, unit: Any, flag: Any
) -> TimelineItem:
    return item(ItemType.RESULT, row_id, at, summaries.lab_result(name, value, unit, flag))


def _imaging(
    row_id: UUID, at: datetime, modality: Any, site: Any, urgent: Any, _: Any
) -> TimelineItem:
    return item(ItemType.IMAGING, row_id, at, summaries.imaging(modality, site, bool(urgent)))


def _document(row_id: UUID, at: datetime, kind: Any, language: Any, *_: Any) -> TimelineItem:
    return item(ItemType.DOCUMENT, row_id, at, summaries.document(kind, language))


def _prescription(row_id: UUID, at: datetime, status: Any, version: Any, *_: Any) -> TimelineItem:
    number = int(float(version)) if version is not None else 1
    return item(
        ItemType.PRESCRIPTION, row_id, at, prescribing_summaries.prescription(status, number)
    )


def _dispensing(
    row_id: UUID, at: datetime, status: Any, product: Any, override_of: Any, _: Any
) -> TimelineItem:
    summary = prescribing_summaries.dispensing(status, product, override_of is not None)
    return item(ItemType.DISPENSING, row_id, at, summary)


_ITEMS: dict[str, Callable[..., TimelineItem]] = {
    "encounter": _encounter,
    "observation": _observation,
    "diagnosis": _diagnosis,
    "problem": _problem,
    "allergy": _allergy,
    "allergy_statement": _statement,
    "note": _note,
    "result": _result,
    "imaging": _imaging,
    "document": _document,
    "prescription": _prescription,
    "dispensing": _dispensing,
}
