"""SQL repository of the PBF module (every query of the module lives here)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import session_now
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.db.models.pbf import (
    PbfComputationRow,
    PbfContractRow,
    PbfDeclarationRow,
    PbfOrgUnitGroupMemberRow,
    PbfOrgUnitGroupRow,
    PbfProgrammeRow,
    PbfRuleSetRow,
)
from afiya.adapters.db.repositories.orgunits import scope_clause
from afiya.adapters.db.repositories.pbf_bulk import read_declarations, write_declarations
from afiya.adapters.db.repositories.pbf_results import PbfResultQueries
from afiya.domain.access.policy import Scope
from afiya.domain.pbf.documents import rule_set_from_document
from afiya.domain.pbf.records import (
    Contract,
    Declaration,
    DeclarationStatus,
    Facility,
    OrgUnitGroup,
    ProgrammeRecord,
    RuleSetVersion,
)
from afiya.domain.shared.money import currency

_CHUNK = 500


def _chunks(values: Sequence[Any]) -> list[list[Any]]:
    return [list(values[i : i + _CHUNK]) for i in range(0, len(values), _CHUNK)]


def _declaration(row: PbfDeclarationRow) -> Declaration:
    return Declaration(
        id=row.id,
        programme_id=row.programme_id,
        org_unit_id=row.org_unit_id,
        org_unit_path=row.org_unit_path,
        period=row.period,
        package=row.package,
        activity=row.activity,
        status=DeclarationStatus(row.status),
        claimed=row.claimed,
        verified=row.verified,
        validated=row.validated,
        declared_by=row.declared_by,
        declared_at=row.declared_at,
        verified_by=row.verified_by,
        verified_at=row.verified_at,
        validated_by=row.validated_by,
        validated_at=row.validated_at,
        comment=row.comment,
        version=row.version,
    )


def _contract(row: PbfContractRow) -> Contract:
    return Contract(
        row.id,
        row.programme_id,
        row.org_unit_id,
        row.org_unit_path,
        row.agency,
        row.category,
        row.payer,
        row.start_date,
        row.end_date,
        row.reference,
        row.version,
    )


class SqlPbfRepository(PbfResultQueries):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _all(self, stmt: Any) -> list[Any]:
        return list((await self._session.execute(stmt)).scalars())

    # programmes and rules -------------------------------------------------------------
    async def programme(self, code: str) -> ProgrammeRecord | None:
        row = (
            await self._session.execute(
                select(PbfProgrammeRow).where(
                    PbfProgrammeRow.code == code, PbfProgrammeRow.deleted_at.is_(None)
                )
            )
        ).scalar_one_or_none()
        return (
            ProgrammeRecord(
                row.id,
                row.code,
                row.name,
                row.currency,
                row.description,
                dict(row.dhis2_mapping or {}),
                row.version,
            )
            if row
            else None
        )

    async def programme_of_computation(self, computation_id: UUID) -> ProgrammeRecord | None:
        """The programme a computation (hence its invoices) belongs to."""
        code = (
            await self._session.execute(
                select(PbfProgrammeRow.code)
                .join(PbfComputationRow, PbfComputationRow.programme_id == PbfProgrammeRow.id)
                .where(PbfComputationRow.id == computation_id)
            )
        ).scalar_one_or_none()
        return await self.programme(code) if code is not None else None

    async def programmes(self) -> list[ProgrammeRecord]:
        rows = await self._all(
            select(PbfProgrammeRow.code).where(PbfProgrammeRow.deleted_at.is_(None))
        )
        return [p for code in sorted(rows) if (p := await self.programme(code))]

    async def add_programme(self, programme: ProgrammeRecord) -> None:
        self._session.add(
            PbfProgrammeRow(
                id=programme.id,
                code=programme.code,
                name=programme.name,
                currency=programme.currency,
                description=programme.description,
                dhis2_mapping=dict(programme.dhis2_mapping),
            )
        )
        await self._session.flush()

    async def rule_sets(self, programme_id: UUID) -> list[RuleSetVersion]:
        programme = (
            await self._session.execute(
                select(PbfProgrammeRow).where(PbfProgrammeRow.id == programme_id)
            )
        ).scalar_one()
        rows = await self._all(
            select(PbfRuleSetRow)
            .where(PbfRuleSetRow.programme_id == programme_id, PbfRuleSetRow.deleted_at.is_(None))
            .order_by(PbfRuleSetRow.number)
        )
        versions = []
        for row in rows:
            rule_set = rule_set_from_document(
                row.document,
                programme=programme.code,
                version=row.number,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                currency=currency(programme.currency),
                check_formulas=False,
            )
            versions.append(
                RuleSetVersion(
                    row.id,
                    row.programme_id,
                    rule_set,
                    row.document,
                    row.content_hash,
                    row.created_at,
                )
            )
        return versions

    async def add_rule_set(self, version: RuleSetVersion) -> None:
        self._session.add(
            PbfRuleSetRow(
                id=version.id,
                programme_id=version.programme_id,
                number=version.version,
                valid_from=version.rule_set.valid_from,
                valid_to=version.rule_set.valid_to,
                content_hash=version.content_hash,
                document=dict(version.document),
            )
        )
        await self._session.flush()

    async def close_rule_set(self, version: RuleSetVersion) -> None:
        row = await self._session.get(PbfRuleSetRow, version.id)
        assert row is not None
        row.valid_to = version.rule_set.valid_to
        row.content_hash = version.content_hash
        await self._session.flush()

    async def computed_periods(self, rule_set_id: UUID) -> list[str]:
        rows = await self._session.execute(
            select(PbfComputationRow.period).where(
                PbfComputationRow.rule_set_id == rule_set_id, PbfComputationRow.current.is_(True)
            )
        )
        return sorted({p for (p,) in rows})

    # org units and groups ---------------------------------------------------------------
    async def groups(self) -> list[OrgUnitGroup]:
        groups = await self._all(
            select(PbfOrgUnitGroupRow).where(PbfOrgUnitGroupRow.deleted_at.is_(None))
        )
        members = await self._all(
            select(PbfOrgUnitGroupMemberRow).where(PbfOrgUnitGroupMemberRow.deleted_at.is_(None))
        )
        by_group: dict[UUID, list[UUID]] = defaultdict(list)
        for m in members:
            by_group[m.group_id].append(m.org_unit_id)
        return [OrgUnitGroup(g.id, g.code, g.name, tuple(by_group[g.id])) for g in groups]

    async def save_group(self, group: OrgUnitGroup) -> OrgUnitGroup:
        row = await self._session.get(PbfOrgUnitGroupRow, group.id)
        if row is None:
            row = PbfOrgUnitGroupRow(id=group.id, code=group.code, name=group.name)
            self._session.add(row)
        row.name = group.name
        current = {
            m.org_unit_id: m
            for m in await self._all(
                select(PbfOrgUnitGroupMemberRow).where(
                    PbfOrgUnitGroupMemberRow.group_id == group.id
                )
            )
        }
        now = None
        for unit_id, member in current.items():
            if unit_id not in group.members and member.deleted_at is None:
                now = now or session_now(self._session)
                member.deleted_at = now
        for unit_id in group.members:
            member = current.get(unit_id)
            if member is None:
                self._session.add(PbfOrgUnitGroupMemberRow(group_id=group.id, org_unit_id=unit_id))
            elif member.deleted_at is not None:
                member.deleted_at = None
        await self._session.flush()
        return group

    async def _groups_of(self, unit_ids: Sequence[UUID]) -> dict[UUID, set[str]]:
        found: dict[UUID, set[str]] = defaultdict(set)
        for chunk in _chunks(list(unit_ids)):
            rows = await self._session.execute(
                select(PbfOrgUnitGroupMemberRow.org_unit_id, PbfOrgUnitGroupRow.code)
                .join(
                    PbfOrgUnitGroupRow, PbfOrgUnitGroupRow.id == PbfOrgUnitGroupMemberRow.group_id
                )
                .where(
                    PbfOrgUnitGroupMemberRow.org_unit_id.in_(chunk),
                    PbfOrgUnitGroupMemberRow.deleted_at.is_(None),
                    PbfOrgUnitGroupRow.deleted_at.is_(None),
                )
            )
            for unit_id, code in rows:
                found[unit_id].add(code)
        return found

    def _facility(self, row: OrgUnitRow, groups: set[str]) -> Facility:
        return Facility(
            row.id, row.uid, row.code, row.name, row.path, frozenset(groups), {"kind": row.kind}
        )

    async def facilities(self, org_unit_ids: Sequence[UUID]) -> dict[UUID, Facility]:
        rows: list[OrgUnitRow] = []
        for chunk in _chunks(list(org_unit_ids)):
            rows += await self._all(
                select(OrgUnitRow).where(OrgUnitRow.id.in_(chunk), OrgUnitRow.deleted_at.is_(None))
            )
        groups = await self._groups_of([r.id for r in rows])
        return {r.id: self._facility(r, groups.get(r.id, set())) for r in rows}

    async def facilities_by_code(self, codes: Sequence[str]) -> dict[str, Facility]:
        rows: list[OrgUnitRow] = []
        for chunk in _chunks(list(codes)):
            rows += await self._all(
                select(OrgUnitRow).where(
                    OrgUnitRow.code.in_(chunk), OrgUnitRow.deleted_at.is_(None)
                )
            )
        groups = await self._groups_of([r.id for r in rows])
        return {str(r.code): self._facility(r, groups.get(r.id, set())) for r in rows}

    # contracts ----------------------------------------------------------------------------
    async def contracts(self, programme_id: UUID, scope: Scope) -> list[Contract]:
        rows = await self._all(
            select(PbfContractRow)
            .where(
                PbfContractRow.programme_id == programme_id,
                PbfContractRow.deleted_at.is_(None),
                scope_clause(PbfContractRow.org_unit_path, scope),  # type: ignore[arg-type]
            )
            .order_by(PbfContractRow.org_unit_path, PbfContractRow.start_date)
        )
        return [_contract(r) for r in rows]

    async def add_contract(self, contract: Contract) -> None:
        self._session.add(
            PbfContractRow(
                id=contract.id,
                programme_id=contract.programme_id,
                org_unit_id=contract.org_unit_id,
                org_unit_path=contract.org_unit_path,
                agency=contract.agency,
                category=contract.category,
                payer=contract.payer,
                reference=contract.reference,
                start_date=contract.start_date,
                end_date=contract.end_date,
            )
        )
        await self._session.flush()

    # declarations -------------------------------------------------------------------------
    async def declarations(
        self,
        programme_id: UUID,
        periods: Sequence[str],
        scope: Scope,
        org_unit_id: UUID | None = None,
    ) -> list[Declaration]:
        stmt = select(PbfDeclarationRow).where(
            PbfDeclarationRow.programme_id == programme_id,
            PbfDeclarationRow.period.in_(list(periods)),
            PbfDeclarationRow.deleted_at.is_(None),
            scope_clause(PbfDeclarationRow.org_unit_path, scope),  # type: ignore[arg-type]
        )
        if org_unit_id is not None:
            stmt = stmt.where(PbfDeclarationRow.org_unit_id == org_unit_id)
        stmt = stmt.order_by(
            PbfDeclarationRow.org_unit_path,
            PbfDeclarationRow.period,
            PbfDeclarationRow.package,
            PbfDeclarationRow.activity,
        )
        return [_declaration(r) for r in await self._all(stmt)]

    async def declarations_by_key(
        self, programme_id: UUID, keys: Sequence[tuple[UUID, str, str, str]]
    ) -> dict[tuple[UUID, str, str, str], Declaration]:
        by_period: dict[str, set[UUID]] = defaultdict(set)
        for unit_id, period, _, _ in keys:
            by_period[period].add(unit_id)
        wanted = set(keys)
        table = PbfDeclarationRow.__table__
        found: dict[tuple[UUID, str, str, str], Declaration] = {}
        for period, units in by_period.items():
            # A file naming many facilities reads its period once (one index range) rather
            # than rescanning it for every IN-list chunk; a few facilities use the IN list.
            chunks: list[list[UUID] | None] = (
                list(_chunks(sorted(units))) if len(units) <= _CHUNK else [None]
            )
            for chunk in chunks:
                rows = await read_declarations(
                    self._session,
                    lambda columns, period=period, chunk=chunk: select(*columns).where(
                        table.c.programme_id == programme_id,
                        table.c.period == period,
                        table.c.deleted_at.is_(None),
                        *([table.c.org_unit_id.in_(chunk)] if chunk is not None else []),
                    ),
                )
                for d in rows:
                    key = (d.org_unit_id, d.period, d.package, d.activity)
                    if key in wanted:
                        found[key] = d
        return found

    async def save_declarations(
        self, new: Sequence[Declaration], changed: Sequence[Declaration]
    ) -> None:
        await write_declarations(self._session, new, changed)
