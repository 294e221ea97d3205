"""SQL repository of organisation units."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import session_now
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.domain.access.policy import Scope
from afiya.domain.orgunits.model import OrgUnit, UnitKind
from afiya.domain.orgunits.ports import OrgUnitQuery


def like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def scope_clause(column: object, scope: Scope) -> object:
    """SQL condition: ``column`` (a unit path) lies in one of the scope's sub-trees.

    The one place where a scope becomes SQL; every repository of org-unit-scoped data
    filters through it.
    """
    if not scope.unit_paths:
        return False
    return or_(*(column.like(like_prefix(p), escape="\\") for p in scope.unit_paths))  # type: ignore[attr-defined]


_TABLE = OrgUnitRow.__table__


def _to_domain(row: Any) -> OrgUnit:
    """From an ORM entity or a plain row (same attribute names)."""
    return OrgUnit(
        id=row.id,
        uid=row.uid,
        code=row.code,
        name=row.name,
        short_name=row.short_name,
        kind=UnitKind(row.kind),
        level=row.level,
        path=row.path,
        parent_id=row.parent_id,
        timezone=row.timezone,
        currency=row.currency,
        opening_date=row.opening_date,
        closed_date=row.closed_date,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_FIELDS = (
    "uid",
    "code",
    "name",
    "short_name",
    "level",
    "path",
    "parent_id",
    "timezone",
    "currency",
    "opening_date",
    "closed_date",
)


class SqlOrgUnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _live(self) -> Select[tuple[OrgUnitRow]]:
        """ORM entities: only for rows about to be changed."""
        return select(OrgUnitRow).where(OrgUnitRow.deleted_at.is_(None))

    def _reads(self) -> Select[Any]:
        """Plain rows for reads: no identity map or instance state (a third of the cost
        of an ORM load on the hot read paths)."""
        return select(*_TABLE.c).where(_TABLE.c.deleted_at.is_(None))

    async def _row(self, unit_id: UUID) -> OrgUnitRow | None:
        return (
            await self._session.execute(self._live().where(OrgUnitRow.id == unit_id))
        ).scalar_one_or_none()

    async def get(self, unit_id: UUID) -> OrgUnit | None:
        row = (await self._session.execute(self._reads().where(_TABLE.c.id == unit_id))).first()
        return _to_domain(row) if row else None

    async def get_by_uid(self, uid: str) -> OrgUnit | None:
        row = (await self._session.execute(self._reads().where(_TABLE.c.uid == uid))).first()
        return _to_domain(row) if row else None

    async def get_by_uids(self, uids: Sequence[str]) -> dict[str, OrgUnit]:
        found: dict[str, OrgUnit] = {}
        for start in range(0, len(uids), 500):
            chunk = list(uids[start : start + 500])
            rows = (await self._session.execute(self._reads().where(_TABLE.c.uid.in_(chunk)))).all()
            found.update({r.uid: _to_domain(r) for r in rows})
        return found

    async def find_code(self, code: str) -> OrgUnit | None:
        row = (await self._session.execute(select(*_TABLE.c).where(_TABLE.c.code == code))).first()
        return _to_domain(row) if row else None

    async def list(self, scope: Scope, query: OrgUnitQuery) -> list[OrgUnit]:
        stmt = self._reads().where(scope_clause(OrgUnitRow.path, scope))  # type: ignore[arg-type]
        if query.parent_id is not None:
            stmt = stmt.where(OrgUnitRow.parent_id == query.parent_id)
        if query.kind is not None:
            stmt = stmt.where(OrgUnitRow.kind == query.kind.value)
        if query.level is not None:
            stmt = stmt.where(OrgUnitRow.level == query.level)
        if query.search:
            stmt = stmt.where(
                or_(
                    func.lower(OrgUnitRow.name).contains(query.search.casefold(), autoescape=True),
                    OrgUnitRow.code == query.search,
                )
            )
        if query.after_path is not None:
            stmt = stmt.where(OrgUnitRow.path > query.after_path)
        stmt = stmt.order_by(OrgUnitRow.path).limit(query.limit)
        return [_to_domain(r) for r in (await self._session.execute(stmt)).all()]

    async def add(self, unit: OrgUnit) -> None:
        row = OrgUnitRow(id=unit.id, kind=unit.kind.value, **{f: getattr(unit, f) for f in _FIELDS})
        self._session.add(row)
        await self._session.flush()

    async def update(self, unit: OrgUnit) -> OrgUnit:
        row = await self._row(unit.id)
        if row is None:
            raise LookupError(unit.id)
        old_path = row.path
        for f in _FIELDS:
            setattr(row, f, getattr(unit, f))
        row.kind = unit.kind.value
        await self._session.flush()
        if old_path != unit.path:
            await self._move_descendants(old_path, unit.path)
        return _to_domain(row)

    async def _move_descendants(self, old_prefix: str, new_prefix: str) -> None:
        """Re-districting: every unit below keeps its id and history, gets its new path."""
        rows = (
            (
                await self._session.execute(
                    self._live().where(
                        OrgUnitRow.path.like(like_prefix(old_prefix), escape="\\"),
                        OrgUnitRow.path != new_prefix,
                    )
                )
            )
            .scalars()
            .all()
        )
        depth_change = new_prefix.count("/") - old_prefix.count("/")
        for row in rows:
            if row.path.startswith(old_prefix):
                row.path = new_prefix + row.path[len(old_prefix) :]
                row.level = row.level + depth_change
        await self._session.flush()

    async def has_children(self, unit_id: UUID) -> bool:
        found = await self._session.execute(
            self._live().where(OrgUnitRow.parent_id == unit_id).limit(1)
        )
        return found.first() is not None

    async def delete(self, unit: OrgUnit) -> None:
        row = await self._row(unit.id)
        if row is not None:
            row.deleted_at = session_now(self._session)
            await self._session.flush()
