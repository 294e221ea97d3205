"""SQL queries of PBF intelligence, second half: the targets of a sampling plan (review,
replacements, counter-verification outcomes) and the outcomes that training reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.pbf import PbfDeclarationRow
from afiya.adapters.db.models.pbf_intelligence import (
    PbfIntelligenceRunRow,
    PbfPlanTargetRow,
    PbfPlanUnitRow,
)
from afiya.adapters.db.repositories.orgunits import scope_clause
from afiya.domain.access.policy import Scope


class PlanTargetQueries:
    """Mixed into :class:`SqlPbfIntelligenceRepository` (one repository per module)."""

    _session: AsyncSession

    async def replace_plan_targets(self, run_id: UUID, rows: Iterable[PbfPlanTargetRow]) -> int:
        """The plan's targets, replacing any a previous delivery of its job wrote."""
        # replacements point at the targets they replace: remove them first
        await self._session.execute(
            delete(PbfPlanTargetRow).where(
                PbfPlanTargetRow.run_id == run_id, PbfPlanTargetRow.replaces_id.is_not(None)
            )
        )
        await self._session.execute(
            delete(PbfPlanTargetRow).where(PbfPlanTargetRow.run_id == run_id)
        )
        items = list(rows)
        self._session.add_all(items)
        await self._session.flush()
        return len(items)

    async def plan_targets(self, run_id: UUID, scope: Scope) -> list[PbfPlanTargetRow]:
        """The plan's targets inside ``scope``, by facility path then indicator."""
        stmt = (
            select(PbfPlanTargetRow)
            .where(
                PbfPlanTargetRow.run_id == run_id,
                PbfPlanTargetRow.deleted_at.is_(None),
                scope_clause(PbfPlanTargetRow.org_unit_path, scope),  # type: ignore[arg-type]
            )
            .order_by(
                PbfPlanTargetRow.org_unit_path,
                PbfPlanTargetRow.indicator,
                PbfPlanTargetRow.created_at,
            )
        )
        return list((await self._session.execute(stmt)).scalars())

    async def plan_target(self, run_id: UUID, target_id: UUID) -> PbfPlanTargetRow | None:
        return (
            await self._session.execute(
                select(PbfPlanTargetRow).where(
                    PbfPlanTargetRow.id == target_id,
                    PbfPlanTargetRow.run_id == run_id,
                    PbfPlanTargetRow.deleted_at.is_(None),
                )
            )
        ).scalar_one_or_none()

    async def plan_target_at(
        self, run_id: UUID, org_unit_id: UUID, indicator: str
    ) -> PbfPlanTargetRow | None:
        return (
            await self._session.execute(
                select(PbfPlanTargetRow).where(
                    PbfPlanTargetRow.run_id == run_id,
                    PbfPlanTargetRow.org_unit_id == org_unit_id,
                    PbfPlanTargetRow.indicator == indicator,
                )
            )
        ).scalar_one_or_none()

    async def add_plan_target(self, row: PbfPlanTargetRow) -> PbfPlanTargetRow:
        self._session.add(row)
        await self._session.flush()
        return row

    async def frame_unit(self, run_id: UUID, org_unit_id: UUID) -> PbfPlanUnitRow | None:
        """The facility's row in the plan's sampling frame, if it is in the frame."""
        return (
            await self._session.execute(
                select(PbfPlanUnitRow).where(
                    PbfPlanUnitRow.run_id == run_id, PbfPlanUnitRow.org_unit_id == org_unit_id
                )
            )
        ).scalar_one_or_none()

    async def is_declared(
        self, programme_id: UUID, org_unit_id: UUID, period: str, package: str, activity: str
    ) -> bool:
        """Whether the facility declared a quantity of the activity for the period."""
        found = (
            await self._session.execute(
                select(PbfDeclarationRow.id).where(
                    PbfDeclarationRow.programme_id == programme_id,
                    PbfDeclarationRow.org_unit_id == org_unit_id,
                    PbfDeclarationRow.period == period,
                    PbfDeclarationRow.package == package,
                    PbfDeclarationRow.activity == activity,
                    PbfDeclarationRow.claimed.is_not(None),
                    PbfDeclarationRow.deleted_at.is_(None),
                )
            )
        ).first()
        return found is not None

    # outcomes read by training -------------------------------------------------------
    def _outcomes(
        self, programme_id: UUID, first: str, last: str, scope: Scope
    ) -> Select[PbfPlanTargetRow]:
        return (
            select(PbfPlanTargetRow)
            .join(PbfIntelligenceRunRow, PbfIntelligenceRunRow.id == PbfPlanTargetRow.run_id)
            .where(
                PbfIntelligenceRunRow.programme_id == programme_id,
                PbfPlanTargetRow.period >= first,
                PbfPlanTargetRow.period <= last,
                PbfPlanTargetRow.verified_value.is_not(None),
                PbfPlanTargetRow.deleted_at.is_(None),
                scope_clause(PbfPlanTargetRow.org_unit_path, scope),  # type: ignore[arg-type]
            )
        )

    async def outcome_fingerprint(
        self, programme_id: UUID, first: str, last: str, scope: Scope
    ) -> tuple[int, datetime | None]:
        """How many outcomes the window holds and when the last was recorded (cheap)."""
        inner = self._outcomes(programme_id, first, last, scope).subquery()
        row = (
            await self._session.execute(select(func.count(), func.max(inner.c.outcome_at)))
        ).one()
        return int(row[0]), row[1]

    async def counter_verified_values(
        self, programme_id: UUID, first: str, last: str, scope: Scope
    ) -> dict[tuple[str, str, str], Decimal]:
        """``(org unit id, indicator, period) -> value found`` by counter-verification;
        when two plans checked the same value, the outcome recorded last wins."""
        rows = (
            (
                await self._session.execute(
                    self._outcomes(programme_id, first, last, scope).order_by(
                        PbfPlanTargetRow.outcome_at, PbfPlanTargetRow.id
                    )
                )
            )
            .scalars()
            .all()
        )
        found: dict[tuple[str, str, str], Decimal] = {}
        for row in rows:
            assert row.verified_value is not None
            found[(str(row.org_unit_id), row.indicator, row.period)] = row.verified_value
        return found
