"""Many records of the clinical record in one query per kind (FHIR searches list a
patient's entries from the timeline, then read them here instead of one by one).

Ids are read in chunks (``IN`` lists of at most :data:`CHUNK`); soft-deleted rows are
left out, as the one-by-one reads of :mod:`.clinical` do; the order is the order of the
ids asked, an unknown id is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.clinical import (
    DiagnosisRow,
    EncounterEventRow,
    EncounterRow,
    ImagingFileRow,
    ImagingReportRow,
    LabResultRow,
    ObservationRow,
)
from afiya.adapters.db.repositories.clinical_rows import (
    diagnosis_of,
    encounter_of,
    imaging_report_of,
    lab_result_of,
    observation_of,
)
from afiya.domain.clinical.diagnoses import Diagnosis
from afiya.domain.clinical.encounters import Encounter
from afiya.domain.clinical.measurements import Observation
from afiya.domain.clinical.results import ImagingReport, LabResult

CHUNK = 500


def _chunks(ids: Sequence[UUID]) -> Iterator[list[UUID]]:
    distinct = list(dict.fromkeys(ids))
    for start in range(0, len(distinct), CHUNK):
        yield distinct[start : start + CHUNK]


class ClinicalManyReads:
    """Mixed into :class:`~.clinical.SqlClinicalRepository`."""

    _session: AsyncSession

    async def _rows(self, model: Any, ids: Sequence[UUID]) -> list[Any]:
        """The live rows of ``model`` with these ids, in the order asked."""
        found: dict[UUID, Any] = {}
        for chunk in _chunks(ids):
            result = await self._session.execute(
                select(model).where(model.id.in_(chunk), model.deleted_at.is_(None))
            )
            found.update((row.id, row) for row in result.scalars())
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    async def observations(self, observation_ids: Sequence[UUID]) -> list[Observation]:
        return [observation_of(r) for r in await self._rows(ObservationRow, observation_ids)]

    async def lab_results(self, result_ids: Sequence[UUID]) -> list[LabResult]:
        return [lab_result_of(r) for r in await self._rows(LabResultRow, result_ids)]

    async def diagnoses(self, diagnosis_ids: Sequence[UUID]) -> list[Diagnosis]:
        return [diagnosis_of(r) for r in await self._rows(DiagnosisRow, diagnosis_ids)]

    async def encounters(self, encounter_ids: Sequence[UUID]) -> list[Encounter]:
        """Encounters with their steps: two queries per chunk."""
        rows = await self._rows(EncounterRow, encounter_ids)
        events: dict[UUID, list[EncounterEventRow]] = {r.id: [] for r in rows}
        for chunk in _chunks(list(events)):
            result = await self._session.execute(
                select(EncounterEventRow)
                .where(EncounterEventRow.encounter_id.in_(chunk))
                .order_by(EncounterEventRow.encounter_id, EncounterEventRow.seq)
            )
            for ev in result.scalars():
                events[ev.encounter_id].append(ev)
        return [encounter_of(r, events[r.id]) for r in rows]

    async def diagnoses_of_encounters(
        self, encounter_ids: Sequence[UUID]
    ) -> dict[UUID, list[Diagnosis]]:
        """Each encounter's live diagnoses, oldest first (as ``encounter_diagnoses``)."""
        found: dict[UUID, list[Diagnosis]] = {i: [] for i in encounter_ids}
        for chunk in _chunks(encounter_ids):
            result = await self._session.execute(
                select(DiagnosisRow)
                .where(DiagnosisRow.encounter_id.in_(chunk), DiagnosisRow.deleted_at.is_(None))
                .order_by(DiagnosisRow.occurred_at, DiagnosisRow.id)
            )
            for row in result.scalars():
                found[row.encounter_id].append(diagnosis_of(row))
        return found

    async def imaging_reports(self, report_ids: Sequence[UUID]) -> list[ImagingReport]:
        """Reports with their files' blob keys (ordered by file id, as ``images``)."""
        rows = await self._rows(ImagingReportRow, report_ids)
        keys: dict[UUID, list[str]] = {r.id: [] for r in rows}
        for chunk in _chunks(list(keys)):
            result = await self._session.execute(
                select(ImagingFileRow.report_id, ImagingFileRow.blob_key)
                .where(ImagingFileRow.report_id.in_(chunk), ImagingFileRow.deleted_at.is_(None))
                .order_by(ImagingFileRow.id)
            )
            for report_id, key in result.all():
                keys[report_id].append(key)
        return [imaging_report_of(r, tuple(keys[r.id])) for r in rows]
