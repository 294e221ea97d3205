"""SQL stores of pulled DHIS2 metadata (with org-unit matches) and of the figure table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import session_now
from afiya.adapters.db.models.dhis2 import (
    Dhis2FigureRow,
    Dhis2MetadataRow,
    Dhis2SyncCursorRow,
)
from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.periods import Period
from afiya.domain.dhis2.sync_model import (
    Figure,
    FigureQuery,
    MetadataObject,
)

PAGE = 1000


def _metadata(row: Dhis2MetadataRow) -> MetadataObject:
    return MetadataObject(
        resource=MetadataResource(row.resource),
        uid=row.uid,
        name=row.name,
        code=row.code,
        last_updated=row.last_updated,
        path=row.path,
        level=row.level,
        parent_uid=row.parent_uid,
        data=row.data or {},
        afiya_unit_id=row.afiya_unit_id,
        match_method=row.match_method,
    )


_METADATA_FIELDS = ("code", "name", "last_updated", "path", "level", "parent_uid")


class SqlMetadataStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _of(self, connection_id: UUID, resource: MetadataResource) -> Any:
        return select(Dhis2MetadataRow).where(
            Dhis2MetadataRow.connection_id == connection_id,
            Dhis2MetadataRow.resource == resource.value,
        )

    async def upsert(
        self, connection_id: UUID, objects: Sequence[MetadataObject]
    ) -> tuple[int, int, list[str]]:
        created = updated = 0
        moved: list[str] = []
        now = session_now(self._session)
        for resource in {o.resource for o in objects}:
            group = [o for o in objects if o.resource is resource]
            existing = {
                r.uid: r
                for r in (
                    await self._session.execute(
                        self._of(connection_id, resource).where(
                            Dhis2MetadataRow.uid.in_([o.uid for o in group])
                        )
                    )
                ).scalars()
            }
            fresh = []
            for obj in group:
                row = existing.get(obj.uid)
                values = {f: getattr(obj, f) for f in _METADATA_FIELDS}
                if row is None:
                    fresh.append(
                        dict(
                            values,
                            connection_id=connection_id,
                            resource=resource.value,
                            uid=obj.uid,
                            data=dict(obj.data),
                            synced_at=now,
                        )
                    )
                    continue
                if row.parent_uid is not None and row.parent_uid != obj.parent_uid:
                    moved.append(obj.uid)
                for name, value in values.items():
                    setattr(row, name, value)
                row.data = dict(obj.data)
                row.synced_at = now
                updated += 1
            if fresh:
                await self._session.execute(insert(Dhis2MetadataRow), fresh)
                created += len(fresh)
        await self._session.flush()
        return created, updated, moved

    async def cursor(self, connection_id: UUID, resource: MetadataResource) -> str | None:
        row = await self._session.get(Dhis2SyncCursorRow, (connection_id, resource.value))
        return row.last_updated if row else None

    async def set_cursor(
        self, connection_id: UUID, resource: MetadataResource, last_updated: str, at: datetime
    ) -> None:
        row = await self._session.get(Dhis2SyncCursorRow, (connection_id, resource.value))
        if row is None:
            self._session.add(
                Dhis2SyncCursorRow(
                    connection_id=connection_id,
                    resource=resource.value,
                    last_updated=last_updated,
                    synced_at=at,
                )
            )
        else:
            row.last_updated, row.synced_at = last_updated, at
        await self._session.flush()

    async def get(
        self, connection_id: UUID, resource: MetadataResource, uid: str
    ) -> MetadataObject | None:
        row = (
            await self._session.execute(
                self._of(connection_id, resource).where(Dhis2MetadataRow.uid == uid)
            )
        ).scalar_one_or_none()
        return _metadata(row) if row else None

    async def browse(
        self,
        connection_id: UUID,
        resource: MetadataResource,
        *,
        search: str | None = None,
        unmatched_only: bool = False,
        after_uid: str | None = None,
        limit: int = 50,
    ) -> list[MetadataObject]:
        stmt = self._of(connection_id, resource)
        if search:
            stmt = stmt.where(
                or_(
                    func.lower(Dhis2MetadataRow.name).contains(search.casefold(), autoescape=True),
                    Dhis2MetadataRow.code == search,
                    Dhis2MetadataRow.uid == search,
                )
            )
        if unmatched_only:
            stmt = stmt.where(Dhis2MetadataRow.afiya_unit_id.is_(None))
        if after_uid:
            stmt = stmt.where(Dhis2MetadataRow.uid > after_uid)
        rows = await self._session.execute(stmt.order_by(Dhis2MetadataRow.uid).limit(limit))
        return [_metadata(r) for r in rows.scalars()]

    async def org_units(self, connection_id: UUID) -> list[MetadataObject]:
        rows = await self._session.execute(
            self._of(connection_id, MetadataResource.ORGANISATION_UNITS).order_by(
                Dhis2MetadataRow.level, Dhis2MetadataRow.path
            )
        )
        return [_metadata(r) for r in rows.scalars()]

    async def set_matches(
        self, connection_id: UUID, matches: Mapping[str, tuple[UUID | None, str | None]]
    ) -> None:
        rows = (
            await self._session.execute(
                self._of(connection_id, MetadataResource.ORGANISATION_UNITS)
            )
        ).scalars()
        for row in rows:
            if row.uid in matches:
                unit_id, method = matches[row.uid]
                if (row.afiya_unit_id, row.match_method) != (unit_id, method):
                    row.afiya_unit_id, row.match_method = unit_id, method
        await self._session.flush()

    async def unit_map(self, connection_id: UUID) -> dict[UUID, str]:
        rows = await self._session.execute(
            select(Dhis2MetadataRow.afiya_unit_id, Dhis2MetadataRow.uid).where(
                Dhis2MetadataRow.connection_id == connection_id,
                Dhis2MetadataRow.resource == MetadataResource.ORGANISATION_UNITS.value,
                Dhis2MetadataRow.afiya_unit_id.is_not(None),
            )
        )
        return {unit_id: uid for unit_id, uid in rows if unit_id is not None}

    async def codes(
        self, connection_id: UUID, resource: MetadataResource, uids: Iterable[str]
    ) -> dict[str, str]:
        wanted = list(set(uids))
        rows = await self._session.execute(
            select(Dhis2MetadataRow.uid, Dhis2MetadataRow.code).where(
                Dhis2MetadataRow.connection_id == connection_id,
                Dhis2MetadataRow.resource == resource.value,
                Dhis2MetadataRow.uid.in_(wanted),
                Dhis2MetadataRow.code.is_not(None),
            )
        )
        return {uid: code for uid, code in rows if code is not None}

    async def default_combo(self, connection_id: UUID) -> str | None:
        rows = await self._session.execute(
            select(Dhis2MetadataRow.uid).where(
                Dhis2MetadataRow.connection_id == connection_id,
                Dhis2MetadataRow.resource == MetadataResource.CATEGORY_OPTION_COMBOS.value,
                Dhis2MetadataRow.name == "default",
            )
        )
        return rows.scalars().first()

    async def open_future_periods(self, connection_id: UUID) -> dict[str, int]:
        found: dict[str, int] = {}
        rows = await self._session.execute(
            select(Dhis2MetadataRow.data).where(
                Dhis2MetadataRow.connection_id == connection_id,
                Dhis2MetadataRow.resource == MetadataResource.DATA_SETS.value,
            )
        )
        for (data,) in rows:
            open_future = int((data or {}).get("openFuturePeriods") or 0)
            for member in (data or {}).get("dataSetElements") or ():
                uid = ((member or {}).get("dataElement") or {}).get("id")
                if uid:
                    found[uid] = max(found.get(uid, 0), open_future)
        return found


class SqlFigureTable:
    """The figure table, as a :class:`FigureSource` and for writing."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, figures: Sequence[Figure]) -> tuple[int, int, int]:
        created = updated = unchanged = 0
        now = session_now(self._session)
        t = Dhis2FigureRow
        for start in range(0, len(figures), PAGE):
            part = figures[start : start + PAGE]
            existing = {
                (r.figure, r.org_unit_id, r.period): r
                for r in (
                    await self._session.execute(
                        select(t).where(
                            t.figure.in_({f.figure for f in part}),
                            t.org_unit_id.in_({f.org_unit_id for f in part}),
                            t.period.in_({f.period for f in part}),
                        )
                    )
                ).scalars()
            }
            fresh = []
            for f in part:
                row = existing.get((f.figure, f.org_unit_id, f.period))
                if row is None:
                    period = Period.parse(f.period)
                    fresh.append(
                        {
                            "figure": f.figure,
                            "org_unit_id": f.org_unit_id,
                            "period": f.period,
                            "period_start": period.start,
                            "period_end": period.end,
                            "value": f.value,
                            "comment": f.comment,
                            "paid_at": f.paid_at,
                            "updated_at": now,
                        }
                    )
                elif (row.value, row.comment) == (f.value, f.comment):
                    unchanged += 1
                else:
                    row.value, row.comment, row.updated_at = f.value, f.comment, now
                    updated += 1
            if fresh:
                await self._session.execute(insert(t), fresh)
                created += len(fresh)
            await self._session.flush()
        return created, updated, unchanged

    async def mark_paid(self, keys: Sequence[tuple[str, UUID, str]], paid_at: datetime) -> int:
        t = Dhis2FigureRow
        marked = 0
        for start in range(0, len(keys), 200):
            part = keys[start : start + 200]
            result = await self._session.execute(
                update(t)
                .where(
                    or_(
                        *(
                            and_(t.figure == c, t.org_unit_id == u, t.period == p)
                            for c, u, p in part
                        )
                    )
                )
                .values(paid_at=paid_at)
            )
            marked += int(getattr(result, "rowcount", 0) or 0)
        return marked

    async def figures(self, query: FigureQuery) -> AsyncIterator[Figure]:
        """A keyset walk by (period start, id) per code, a page at a time: each page is one
        index range scan, and other queries may run between two pages."""
        t = Dhis2FigureRow
        for code in query.figures:
            last: tuple[Any, int] | None = None
            while True:
                stmt = select(
                    t.id,
                    t.period_start,
                    t.figure,
                    t.org_unit_id,
                    t.period,
                    t.value,
                    t.comment,
                    t.paid_at,
                ).where(t.figure == code, t.period_start >= query.start, t.period_end <= query.end)
                if last is not None:
                    stmt = stmt.where(
                        or_(
                            t.period_start > last[0],
                            and_(t.period_start == last[0], t.id > last[1]),
                        )
                    )
                rows = (
                    await self._session.execute(stmt.order_by(t.period_start, t.id).limit(PAGE))
                ).all()
                if not rows:
                    break
                for row in rows:
                    yield Figure(
                        row.figure, row.org_unit_id, row.period, row.value, row.comment, row.paid_at
                    )
                last = (rows[-1].period_start, rows[-1].id)
