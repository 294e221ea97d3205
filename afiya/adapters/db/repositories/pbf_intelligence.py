"""SQL repository of PBF intelligence: training data from the PBF tables, the model
registry, runs, anomaly flags and plan units (every query of the module lives here or in
``pbf_intelligence_plans``: plan targets and counter-verification outcomes)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.pbf import PbfContractRow, PbfDeclarationRow, PbfRuleSetRow
from afiya.adapters.db.models.pbf_intelligence import (
    PbfAnomalyFlagRow,
    PbfFacilityProfileRow,
    PbfIntelligenceRunRow,
    PbfModelRow,
    PbfPlanUnitRow,
)
from afiya.adapters.db.repositories.orgunits import scope_clause
from afiya.adapters.db.repositories.pbf_intelligence_plans import PlanTargetQueries
from afiya.domain.access.policy import Scope
from afiya.domain.pbf_intelligence.model import DeclarationRecord, FacilityLevel

#: Used when a facility has no profile: a health centre of a typical Sahel catchment area.
DEFAULT_POPULATION = 10_000
_LEVELS = {level.value for level in FacilityLevel}


@dataclass(frozen=True, slots=True)
class TrainingData:
    """Declaration records (``facility_id`` is the org unit id) and each facility's path."""

    records: list[DeclarationRecord]
    paths: dict[str, str]


def indicator_code(package: str, activity: str) -> str:
    """The models' indicator code of a PBF activity: ``<package>.<activity>``."""
    return f"{package}.{activity}"


def _district(path: str) -> str:
    """The parent unit of a facility (its district), from the materialised path."""
    parts = [p for p in path.split("/") if p]
    return parts[-2] if len(parts) >= 2 else parts[-1] if parts else "?"


def _tariffs(
    documents: Sequence[tuple[str, dict[str, Any]]],
) -> list[tuple[str, dict[str, Decimal]]]:
    """Per rule-set version (valid from, oldest first): quantity activities' tariffs."""
    found: list[tuple[str, dict[str, Decimal]]] = []
    for valid_from, document in documents:
        tariffs: dict[str, Decimal] = {}
        for package in document.get("packages", []):
            if package.get("kind") != "quantity":
                continue
            for activity in package.get("activities", []):
                raw = (activity.get("constants") or {}).get("tariff", "1")
                tariffs[indicator_code(package["code"], activity["code"])] = Decimal(str(raw))
        found.append((valid_from, tariffs))
    return sorted(found, key=lambda item: item[0])


def _as_int(value: Decimal | None) -> int | None:
    return None if value is None else int(value)


class SqlPbfIntelligenceRepository(PlanTargetQueries):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # training data --------------------------------------------------------------------
    async def data_fingerprint(
        self, programme_id: UUID, first: str, last: str, scope: Scope
    ) -> tuple[int, str]:
        """How many declarations the window holds and when one last changed, and the same
        for counter-verification outcomes (cheap): a new outcome is new training data."""
        row = (
            await self._session.execute(
                select(func.count(), func.max(PbfDeclarationRow.updated_at)).where(
                    PbfDeclarationRow.programme_id == programme_id,
                    PbfDeclarationRow.period >= first,
                    PbfDeclarationRow.period <= last,
                    PbfDeclarationRow.deleted_at.is_(None),
                    scope_clause(PbfDeclarationRow.org_unit_path, scope),  # type: ignore[arg-type]
                )
            )
        ).one()
        outcomes, recorded = await self.outcome_fingerprint(programme_id, first, last, scope)
        changed = row[1].isoformat() if row[1] else "-"
        if outcomes:
            changed += f"|{outcomes}|{recorded.isoformat() if recorded else '-'}"
        return int(row[0]), changed

    async def training_data(
        self, programme_id: UUID, first: str, last: str, scope: Scope
    ) -> TrainingData:
        """Quantity declarations of ``first``..``last`` in ``scope`` as model records.

        Declared is the claimed value; a month counts as verified when the committee
        validated it. Where a counter-verification of an approved plan recorded the value
        it found, that value is the validated one (what the facility really did), and the
        verified one when the verifier left none: outcomes feed the next training. The
        tariff is the activity's ``tariff`` constant in the rule-set version valid for the
        month; the level comes from the facility profile, else the
        contract category when it names a level; the district is the facility's parent.
        """
        documents = [
            (valid_from, dict(document))
            for valid_from, document in (
                await self._session.execute(
                    select(PbfRuleSetRow.valid_from, PbfRuleSetRow.document).where(
                        PbfRuleSetRow.programme_id == programme_id,
                        PbfRuleSetRow.deleted_at.is_(None),
                    )
                )
            ).all()
        ]
        versions = _tariffs(documents)
        profiles = {
            str(row.org_unit_id): row
            for row in (await self._session.execute(select(PbfFacilityProfileRow))).scalars()
        }
        categories = {
            str(org_unit_id): category
            for org_unit_id, category in (
                await self._session.execute(
                    select(PbfContractRow.org_unit_id, PbfContractRow.category).where(
                        PbfContractRow.programme_id == programme_id,
                        PbfContractRow.deleted_at.is_(None),
                    )
                )
            ).all()
        }
        result = await self._session.execute(
            select(
                PbfDeclarationRow.org_unit_id,
                PbfDeclarationRow.org_unit_path,
                PbfDeclarationRow.period,
                PbfDeclarationRow.package,
                PbfDeclarationRow.activity,
                PbfDeclarationRow.claimed,
                PbfDeclarationRow.verified,
                PbfDeclarationRow.validated,
            ).where(
                PbfDeclarationRow.programme_id == programme_id,
                PbfDeclarationRow.period >= first,
                PbfDeclarationRow.period <= last,
                PbfDeclarationRow.claimed.is_not(None),
                PbfDeclarationRow.deleted_at.is_(None),
                scope_clause(PbfDeclarationRow.org_unit_path, scope),  # type: ignore[arg-type]
            )
        )
        found = await self.counter_verified_values(programme_id, first, last, scope)
        records: list[DeclarationRecord] = []
        paths: dict[str, str] = {}
        for unit_id, path, period, package, activity, claimed, verified, validated in result:
            if len(period) != 6:
                continue  # quarterly packages are not monthly quantities
            code = indicator_code(package, activity)
            tariffs = next((t for start, t in reversed(versions) if start <= period), None)
            if tariffs is None or code not in tariffs:
                continue  # not a quantity activity of the rules in force
            facility = str(unit_id)
            profile = profiles.get(facility)
            category = categories.get(facility, "")
            level = (
                profile.level
                if profile
                else category
                if category in _LEVELS
                else FacilityLevel.HEALTH_CENTRE.value
            )
            paths[facility] = path
            checked = found.get((facility, code, period))
            if checked is not None:
                validated = checked
                verified = checked if verified is None else verified
            records.append(
                DeclarationRecord(
                    facility_id=facility,
                    district=_district(path),
                    level=FacilityLevel(level),
                    catchment_population=(
                        profile.catchment_population if profile else DEFAULT_POPULATION
                    ),
                    indicator_code=code,
                    period=period,
                    declared=int(claimed or 0),
                    tariff=tariffs[code],
                    verified=_as_int(verified),
                    validated=_as_int(validated),
                )
            )
        records.sort(key=lambda r: (r.period, r.facility_id, r.indicator_code))
        return TrainingData(records, paths)

    async def set_profile(
        self, org_unit_id: UUID, org_unit_path: str, level: str, population: int
    ) -> PbfFacilityProfileRow:
        row = (
            await self._session.execute(
                select(PbfFacilityProfileRow).where(
                    PbfFacilityProfileRow.org_unit_id == org_unit_id
                )
            )
        ).scalar_one_or_none()
        if row is None:
            row = PbfFacilityProfileRow(org_unit_id=org_unit_id, org_unit_path=org_unit_path)
            self._session.add(row)
        row.level = level
        row.catchment_population = population
        await self._session.flush()
        return row

    # model registry -------------------------------------------------------------------
    async def add_model(self, row: PbfModelRow) -> PbfModelRow:
        self._session.add(row)
        await self._session.flush()
        return row

    async def model(self, model_id: UUID) -> PbfModelRow | None:
        return (
            await self._session.execute(
                select(PbfModelRow).where(
                    PbfModelRow.id == model_id, PbfModelRow.deleted_at.is_(None)
                )
            )
        ).scalar_one_or_none()

    async def model_by_hash(
        self, programme_id: UUID, kind: str, data_hash: str
    ) -> PbfModelRow | None:
        return (
            await self._session.execute(
                select(PbfModelRow).where(
                    PbfModelRow.programme_id == programme_id,
                    PbfModelRow.kind == kind,
                    PbfModelRow.data_hash == data_hash,
                )
            )
        ).scalar_one_or_none()

    async def models(
        self, programme_id: UUID, *, kind: str | None = None, state: str | None = None
    ) -> list[PbfModelRow]:
        """Newest first."""
        stmt = select(PbfModelRow).where(
            PbfModelRow.programme_id == programme_id, PbfModelRow.deleted_at.is_(None)
        )
        if kind:
            stmt = stmt.where(PbfModelRow.kind == kind)
        if state:
            stmt = stmt.where(PbfModelRow.state == state)
        stmt = stmt.order_by(PbfModelRow.created_at.desc(), PbfModelRow.id.desc())
        return list((await self._session.execute(stmt)).scalars())

    async def latest_approved(self, programme_id: UUID, kind: str) -> PbfModelRow | None:
        """The approved model of ``kind`` approved last (the one that drives scoring)."""
        return (
            await self._session.execute(
                select(PbfModelRow)
                .where(
                    PbfModelRow.programme_id == programme_id,
                    PbfModelRow.kind == kind,
                    PbfModelRow.state == "approved",
                    PbfModelRow.deleted_at.is_(None),
                )
                .order_by(PbfModelRow.approved_at.desc(), PbfModelRow.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()

    async def retire_approved(self, programme_id: UUID, kind: str, now: datetime) -> list[UUID]:
        """Retire every approved model of ``kind``; return their ids."""
        rows = await self.models(programme_id, kind=kind, state="approved")
        for row in rows:
            row.state = "retired"
            row.retired_at = now
        await self._session.flush()
        return [row.id for row in rows]

    # runs -----------------------------------------------------------------------------
    async def add_run(self, row: PbfIntelligenceRunRow) -> PbfIntelligenceRunRow:
        self._session.add(row)
        await self._session.flush()
        return row

    async def run(self, run_id: UUID) -> PbfIntelligenceRunRow | None:
        return (
            await self._session.execute(
                select(PbfIntelligenceRunRow).where(PbfIntelligenceRunRow.id == run_id)
            )
        ).scalar_one_or_none()

    async def run_by_key(self, key: str) -> PbfIntelligenceRunRow | None:
        return (
            await self._session.execute(
                select(PbfIntelligenceRunRow).where(PbfIntelligenceRunRow.key == key)
            )
        ).scalar_one_or_none()

    async def latest_run(
        self, programme_id: UUID, kind: str, period: str, *, status: str = "done"
    ) -> PbfIntelligenceRunRow | None:
        return (
            await self._session.execute(
                select(PbfIntelligenceRunRow)
                .where(
                    PbfIntelligenceRunRow.programme_id == programme_id,
                    PbfIntelligenceRunRow.kind == kind,
                    PbfIntelligenceRunRow.period == period,
                    PbfIntelligenceRunRow.status == status,
                )
                .order_by(PbfIntelligenceRunRow.finished_at.desc(), PbfIntelligenceRunRow.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()

    # flags and plans ------------------------------------------------------------------
    async def replace_flags(self, run_id: UUID, rows: Iterable[PbfAnomalyFlagRow]) -> int:
        """The run's flags, replacing any a previous delivery of its job wrote."""
        await self._session.execute(
            delete(PbfAnomalyFlagRow).where(PbfAnomalyFlagRow.run_id == run_id)
        )
        items = list(rows)
        self._session.add_all(items)
        await self._session.flush()
        return len(items)

    async def flags(
        self, run_id: UUID, scope: Scope, *, limit: int, offset: int = 0
    ) -> list[PbfAnomalyFlagRow]:
        """Flags of a run inside ``scope``, highest score first."""
        stmt = (
            select(PbfAnomalyFlagRow)
            .where(
                PbfAnomalyFlagRow.run_id == run_id,
                scope_clause(PbfAnomalyFlagRow.org_unit_path, scope),  # type: ignore[arg-type]
            )
            .order_by(PbfAnomalyFlagRow.score.desc(), PbfAnomalyFlagRow.id)
            .limit(limit)
            .offset(offset)
        )
        return list((await self._session.execute(stmt)).scalars())

    async def replace_plan_units(self, run_id: UUID, rows: Iterable[PbfPlanUnitRow]) -> int:
        await self._session.execute(delete(PbfPlanUnitRow).where(PbfPlanUnitRow.run_id == run_id))
        items = list(rows)
        self._session.add_all(items)
        await self._session.flush()
        return len(items)

    async def plan_units(
        self, run_id: UUID, scope: Scope, *, selected_only: bool = False
    ) -> list[PbfPlanUnitRow]:
        """The plan's frame inside ``scope``, by rank."""
        stmt = select(PbfPlanUnitRow).where(
            PbfPlanUnitRow.run_id == run_id,
            scope_clause(PbfPlanUnitRow.org_unit_path, scope),  # type: ignore[arg-type]
        )
        if selected_only:
            stmt = stmt.where(PbfPlanUnitRow.selected.is_(True))
        return list((await self._session.execute(stmt.order_by(PbfPlanUnitRow.rank))).scalars())
