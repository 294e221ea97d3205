"""SQL reads of the values pulled from DHIS2 (written by ``SqlRunStore.store_pulled``)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.dhis2 import Dhis2MetadataRow, Dhis2PulledValueRow
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.db.repositories.orgunits import like_prefix, scope_clause
from afiya.domain.access.policy import Scope
from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.payloads import DataValue
from afiya.domain.dhis2.sync_model import PulledValue
from afiya.domain.dhis2.sync_ports import PulledValueQuery


def _pulled(row: Dhis2PulledValueRow, afiya_unit_id: UUID | None) -> PulledValue:
    return PulledValue(
        id=row.id,
        connection_id=row.connection_id,
        pull_id=row.pull_id,
        value=DataValue(
            row.data_element,
            row.period,
            row.org_unit,
            row.category_option_combo,
            row.attribute_option_combo,
            row.value,
            row.comment,
            stored_by=row.stored_by,
            last_updated=row.last_updated,
            deleted=row.deleted,
        ),
        pulled_at=row.pulled_at,
        afiya_unit_id=afiya_unit_id,
    )


class SqlPulledValues:
    """Pulled values, scoped through the Afiya unit each DHIS2 org unit is matched to."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def browse(self, connection_id: UUID, query: PulledValueQuery) -> list[PulledValue]:
        v, m, u = Dhis2PulledValueRow, Dhis2MetadataRow, OrgUnitRow
        stmt = (
            select(v, m.afiya_unit_id)
            .join(
                m,
                and_(
                    m.connection_id == v.connection_id,
                    m.resource == MetadataResource.ORGANISATION_UNITS.value,
                    m.uid == v.org_unit,
                ),
            )
            .join(u, u.id == m.afiya_unit_id)
            .where(
                v.connection_id == connection_id,
                scope_clause(u.path, Scope(query.unit_paths)),  # type: ignore[arg-type]
            )
        )
        if query.data_element is not None:
            stmt = stmt.where(v.data_element == query.data_element)
        if query.root_path is not None:
            stmt = stmt.where(
                or_(
                    m.path == query.root_path,
                    m.path.like(like_prefix(query.root_path.rstrip("/") + "/"), escape="\\"),
                )
            )
        if query.start is not None:
            stmt = stmt.where(v.period_start >= query.start)
        if query.end is not None:
            stmt = stmt.where(v.period_end <= query.end)
        if query.after_id is not None:
            stmt = stmt.where(v.id > query.after_id)
        rows = await self._session.execute(stmt.order_by(v.id).limit(query.limit))
        return [_pulled(row, unit_id) for row, unit_id in rows]
