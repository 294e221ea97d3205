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
from afiya.domain.pbf_intelligence.plan_review import PlanTarget, PlanUnderReview

_REVIEWED = (
    "state",
    "review_reason",
    "reviewed_by",
    "reviewed_at",
    "counter_verification_id",
    "verified_value",
    "outcome_by",
    "outcome_at",
)


def plan_target_of(row: PbfPlanTargetRow) -> PlanTarget:
    return PlanTarget(
        id=row.id,
        run_id=row.run_id,
        org_unit_id=row.org_unit_id,
        org_unit_path=row.org_unit_path,
        period=row.period,
        indicator=row.indicator,
        package=row.package,
        activity=row.activity,
        origin=row.origin,
        state=row.state,
        replaces_id=row.replaces_id,
        review_reason=row.review_reason,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        counter_verification_id=row.counter_verification_id,
        verified_value=row.verified_value,
        outcome_by=row.outcome_by,
        outcome_at=row.outcome_at,
    )


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

    async def plan_under_review(self, run_id: UUID) -> PlanUnderReview | None:
        run = await self._session.get(PbfIntelligenceRunRow, run_id)
        if run is None or run.kind != "plan" or run.deleted_at is not None:
            return None
        return PlanUnderReview(
            id=run.id,
            programme=str(run.parameters["programme"]),
            period=str(run.period),
            scope_paths=tuple(run.scope_paths),
            status=run.status,
            state=run.plan_state,
            approved_by=run.approved_by,
            approved_at=run.approved_at,
        )

    async def approve_plan(self, run_id: UUID, by: UUID, at: datetime) -> None:
        run = await self._session.get(PbfIntelligenceRunRow, run_id)
        assert run is not None
        run.plan_state, run.approved_by, run.approved_at = "approved", by, at
        await self._session.flush()

    async def plan_targets(self, run_id: UUID, scope: Scope) -> list[PlanTarget]:
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
        return [plan_target_of(row) for row in (await self._session.execute(stmt)).scalars()]

    async def _target_row(self, run_id: UUID, target_id: UUID) -> PbfPlanTargetRow | None:
        return (
            await self._session.execute(
                select(PbfPlanTargetRow).where(
                    PbfPlanTargetRow.id == target_id,
                    PbfPlanTargetRow.run_id == run_id,
                    PbfPlanTargetRow.deleted_at.is_(None),
                )
            )
        ).scalar_one_or_none()

    async def plan_target(self, run_id: UUID, target_id: UUID) -> PlanTarget | None:
        row = await self._target_row(run_id, target_id)
        return None if row is None else plan_target_of(row)

    async def plan_target_at(
        self, run_id: UUID, org_unit_id: UUID, indicator: str
    ) -> PlanTarget | None:
        row = (
            await self._session.execute(
                select(PbfPlanTargetRow).where(
                    PbfPlanTargetRow.run_id == run_id,
                    PbfPlanTargetRow.org_unit_id == org_unit_id,
                    PbfPlanTargetRow.indicator == indicator,
                )
            )
        ).scalar_one_or_none()
        return None if row is None else plan_target_of(row)

    async def add_plan_target(self, target: PlanTarget) -> None:
        self._session.add(
            PbfPlanTargetRow(
                id=target.id,
                run_id=target.run_id,
                org_unit_id=target.org_unit_id,
                org_unit_path=target.org_unit_path,
                period=target.period,
                indicator=target.indicator,
                package=target.package,
                activity=target.activity,
                origin=target.origin,
                replaces_id=target.replaces_id,
                **{name: getattr(target, name) for name in _REVIEWED},
            )
        )
        await self._session.flush()

    async def save_plan_target(self, target: PlanTarget) -> None:
        row = await self._target_row(target.run_id, target.id)
        assert row is not None
        for name in _REVIEWED:
            setattr(row, name, getattr(target, name))
        await self._session.flush()

    async def frame_unit_path(self, run_id: UUID, org_unit_id: UUID) -> str | None:
        """The facility's path when it is in the plan's sampling frame."""
        return (
            await self._session.execute(
                select(PbfPlanUnitRow.org_unit_path).where(
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
