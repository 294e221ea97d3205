"""SQL stores of merges (snapshots, reference moves), duplicate pairs, and MRN sites."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from afiya.adapters.db.base import Base, Syncable
from afiya.adapters.db.changelog import _json_value
from afiya.adapters.db.models.patients import (
    PatientDuplicatePairRow,
    PatientMergeRow,
    PatientMrnSiteRow,
    PatientRow,
)
from afiya.adapters.db.repositories.orgunits import scope_clause
from afiya.adapters.db.repositories.patients import SqlPatientRepository
from afiya.domain.access.policy import Scope
from afiya.domain.patients.model import DuplicatePair, MergeRecord
from afiya.domain.patients.mrn import site_prefix_candidates
from afiya.domain.patients.references import PatientReference

# The identity columns a merge may change and an unmerge restores (not the sync columns,
# nor status / merged_into_id, which the merge sets on the duplicate only).
SNAPSHOT_COLUMNS = (
    "given_names",
    "family_name",
    "given_names_ar",
    "family_name_ar",
    "sex",
    "birth_date",
    "birth_year",
    "birth_year_estimated",
    "nni_enc",
    "nni_bidx",
    "nss_enc",
    "nss_bidx",
    "region",
    "district",
    "commune",
    "locality",
    "language",
    "sms_consent",
    "completeness",
)
_BINARY = {"nni_enc", "nni_bidx", "nss_enc", "nss_bidx"}


def _mapped_class(table: str) -> Any:
    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


class SqlMergeStore:
    """:class:`~afiya.domain.patients.ports.MergeStore`: every change goes through the ORM,
    so moves and restores are in the change log like any other write."""

    def __init__(self, session: AsyncSession, patients: SqlPatientRepository) -> None:
        self._session = session
        self._patients = patients

    async def _row(self, patient_id: UUID) -> PatientRow:
        row = await self._session.get(PatientRow, patient_id)
        if row is None:
            raise LookupError(patient_id)
        return row

    async def snapshot(self, patient_id: UUID) -> dict[str, Any]:
        row = await self._row(patient_id)
        return {c: _json_value(getattr(row, c)) for c in SNAPSHOT_COLUMNS}

    async def restore(
        self, patient_id: UUID, snapshot: Mapping[str, Any], columns: Sequence[str]
    ) -> None:
        row = await self._row(patient_id)
        for column in columns:
            raw = snapshot.get(column)
            value: Any = raw
            if raw is not None and column in _BINARY:
                value = base64.b64decode(raw)
            elif raw is not None and column == "birth_date":
                value = date.fromisoformat(raw)
            setattr(row, column, value)
        await self._session.flush()

    async def set_status(self, patient_id: UUID, status: str, merged_into: UUID | None) -> None:
        row = await self._row(patient_id)
        row.status = status
        row.merged_into_id = merged_into
        await self._session.flush()

    async def _move(self, table: str, column: str, where: Any, target: UUID) -> list[str]:
        model = _mapped_class(table)
        if model is not None and issubclass(model, Syncable):
            rows = (
                (await self._session.execute(select(model).where(where(getattr(model, column)))))
                .scalars()
                .all()
            )
            for row in rows:
                setattr(row, column, target)
            await self._session.flush()
            return sorted(str(r.id) for r in rows)
        # A table without a mapped syncable class: plain SQL (no change-log entry).
        t = Base.metadata.tables[table]
        ids = [
            str(i)
            for i in (
                await self._session.execute(select(t.c.id).where(where(t.c[column])))
            ).scalars()
        ]
        await self._session.execute(update(t).where(where(t.c[column])).values({column: target}))
        return sorted(ids)

    async def move_references(
        self, references: Sequence[PatientReference], source: UUID, target: UUID
    ) -> dict[str, list[str]]:
        moved: dict[str, list[str]] = {}
        for ref in references:
            moved[ref.key] = await self._move(ref.table, ref.column, lambda c: c == source, target)
        return moved

    async def move_back(self, moved: Mapping[str, list[str]], source: UUID, target: UUID) -> int:
        count = 0
        for key, ids in moved.items():
            if not ids:
                continue
            table, column = key.rsplit(".", 1)
            model = _mapped_class(table)
            id_col = model.id if model is not None else Base.metadata.tables[table].c.id
            wanted = [UUID(i) for i in ids]

            def where(c: Any, wanted: list[UUID] = wanted, id_col: Any = id_col) -> Any:
                return and_(c == source, id_col.in_(wanted))

            count += len(await self._move(table, column, where, target))
        return count

    async def refresh_keys(self, patient_id: UUID) -> None:
        await self._patients.refresh_keys(patient_id)

    async def add(self, record: MergeRecord) -> None:
        row = PatientMergeRow(id=record.id)
        self._fill(row, record)
        self._session.add(row)
        await self._session.flush()

    async def save(self, record: MergeRecord) -> None:
        row = await self._session.get(PatientMergeRow, record.id)
        if row is None:
            raise LookupError(record.id)
        self._fill(row, record)
        await self._session.flush()

    @staticmethod
    def _fill(row: PatientMergeRow, r: MergeRecord) -> None:
        row.survivor_id, row.duplicate_id = r.survivor_id, r.duplicate_id
        row.choices, row.changed_columns = dict(r.choices), list(r.changed_columns)
        row.before, row.after, row.moved = dict(r.before), dict(r.after), dict(r.moved)
        row.reason, row.merged_at, row.merged_by = r.reason, r.merged_at, r.merged_by
        row.unmerged_at, row.unmerged_by = r.unmerged_at, r.unmerged_by
        row.unmerge_reason, row.kept_on_unmerge = r.unmerge_reason, list(r.kept_on_unmerge)

    async def get(self, merge_id: UUID) -> MergeRecord | None:
        row = await self._session.get(PatientMergeRow, merge_id)
        if row is None or row.deleted_at is not None:
            return None
        return MergeRecord(
            id=row.id,
            survivor_id=row.survivor_id,
            duplicate_id=row.duplicate_id,
            choices=row.choices,
            changed_columns=tuple(row.changed_columns),
            before=row.before,
            after=row.after,
            moved=row.moved,
            reason=row.reason,
            merged_at=row.merged_at,
            merged_by=row.merged_by,
            unmerged_at=row.unmerged_at,
            unmerged_by=row.unmerged_by,
            unmerge_reason=row.unmerge_reason,
            kept_on_unmerge=tuple(row.kept_on_unmerge or ()),
        )


def _pair(row: PatientDuplicatePairRow) -> DuplicatePair:
    return DuplicatePair(
        row.id,
        row.patient_a_id,
        row.patient_b_id,
        row.score,
        row.decision,
        tuple(row.reasons or ()),
        row.status,
        row.note,
    )


class SqlDuplicatePairStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _existing(self, a: UUID, b: UUID) -> PatientDuplicatePairRow | None:
        stmt = select(PatientDuplicatePairRow).where(
            PatientDuplicatePairRow.patient_a_id == a, PatientDuplicatePairRow.patient_b_id == b
        )
        return (await self._session.execute(stmt)).scalar_one_or_none()

    async def upsert(self, pairs: Sequence[DuplicatePair]) -> int:
        listed = 0
        for pair in pairs:
            a, b = sorted((pair.patient_a_id, pair.patient_b_id))
            row = await self._existing(a, b)
            if row is None:
                self._session.add(
                    PatientDuplicatePairRow(
                        id=pair.id,
                        patient_a_id=a,
                        patient_b_id=b,
                        score=pair.score,
                        decision=pair.decision,
                        reasons=list(pair.reasons),
                        status="open",
                    )
                )
                listed += 1
            elif row.status == "open":
                listed += 1
                if abs(row.score - pair.score) > 1e-9 or row.decision != pair.decision:
                    row.score, row.decision, row.reasons = (
                        pair.score,
                        pair.decision,
                        list(pair.reasons),
                    )
        await self._session.flush()
        return listed

    async def list_open(
        self, scope: Scope, *, after: UUID | None, limit: int
    ) -> list[DuplicatePair]:
        a, b = aliased(PatientRow), aliased(PatientRow)
        stmt = (
            select(PatientDuplicatePairRow)
            .join(a, a.id == PatientDuplicatePairRow.patient_a_id)
            .join(b, b.id == PatientDuplicatePairRow.patient_b_id)
            .where(
                PatientDuplicatePairRow.status == "open",
                PatientDuplicatePairRow.deleted_at.is_(None),
                a.status == "active",
                b.status == "active",
                scope_clause(a.unit_path, scope),  # type: ignore[arg-type]
                scope_clause(b.unit_path, scope),  # type: ignore[arg-type]
            )
        )
        if after is not None:
            stmt = stmt.where(PatientDuplicatePairRow.id > after)
        rows = await self._session.execute(stmt.order_by(PatientDuplicatePairRow.id).limit(limit))
        return [_pair(r) for r in rows.scalars()]

    async def get(self, pair_id: UUID) -> DuplicatePair | None:
        row = await self._session.get(PatientDuplicatePairRow, pair_id)
        return _pair(row) if row is not None and row.deleted_at is None else None

    async def set_status(
        self, patient_a: UUID, patient_b: UUID, status: str, note: str | None
    ) -> None:
        a, b = sorted((patient_a, patient_b))
        row = await self._existing(a, b)
        if row is None:
            self._session.add(
                PatientDuplicatePairRow(
                    patient_a_id=a,
                    patient_b_id=b,
                    score=0.0,
                    decision="reviewed",
                    reasons=[],
                    status=status,
                    note=note,
                )
            )
        else:
            row.status, row.note = status, note
        await self._session.flush()


class SqlMrnCounter:
    """Per-(facility, node) MRN sequence: an atomic increment in the caller's transaction."""

    def __init__(self, session: AsyncSession, node: str) -> None:
        self._session = session
        self._node = node

    async def next(self, unit_id: UUID, *, code: str | None, uid: str) -> tuple[str, int]:
        site = PatientMrnSiteRow
        bumped = (
            await self._session.execute(
                update(site)
                .where(site.unit_id == unit_id, site.node == self._node)
                .values(last_seq=site.last_seq + 1)
                .returning(site.prefix, site.last_seq)
            )
        ).first()
        if bumped is not None:
            return str(bumped[0]), int(bumped[1])
        candidates = site_prefix_candidates(code, uid)
        taken = set(
            (
                await self._session.execute(select(site.prefix).where(site.prefix.in_(candidates)))
            ).scalars()
        )
        prefix = next(p for p in candidates if p not in taken)
        await self._session.execute(
            insert(site).values(prefix=prefix, unit_id=unit_id, node=self._node, last_seq=1)
        )
        return prefix, 1
