"""PBF programme routes: programmes, rule-set versions, groups, contracts, checklists,
budgets, adjustments and period locks."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody

from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.pbf.schemas import (
    AdjustmentCreate,
    BudgetSet,
    ChecklistCreate,
    ContractCreate,
    ContractRead,
    GroupRead,
    GroupSave,
    LockChange,
    LockRead,
    ProgrammeCode,
    ProgrammeCreate,
    ProgrammeRead,
    RuleSetClose,
    RuleSetCreate,
    RuleSetRead,
)
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import authorize, scope_of
from afiya.domain.pbf import use_cases
from afiya.domain.pbf.records import Adjustment, PeriodLock, ProgrammeRecord, QualityChecklist
from afiya.domain.shared.ids import uuid7


def _lock(lock: PeriodLock) -> LockRead:
    return LockRead(
        lock.period,
        lock.locked,
        lock.locked_by,
        lock.locked_at,
        lock.reopened_by,
        lock.reopened_at,
        lock.reason,
    )


class PbfProgrammeController(Controller):
    path = "/api/v1/pbf"
    tags = ["pbf"]

    @get(
        "/programmes",
        operation_id="pbf_programmes_list",
        summary="List PBF programmes",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def list_programmes(self, principal: CurrentPrincipal, uow: Uow) -> list[ProgrammeRead]:
        """Every programme (programmes are national; their data are scoped by facility)."""
        authorize(principal, Permission.PBF_READ)
        return [ProgrammeRead.of(p) for p in await uow.pbf.programmes()]

    @post(
        "/programmes",
        operation_id="pbf_programmes_create",
        summary="Create a PBF programme",
        opt={PERMISSION: Permission.PBF_MANAGE},
    )
    async def create_programme(
        self, data: JSONBody[ProgrammeCreate], principal: CurrentPrincipal, uow: Uow
    ) -> ProgrammeRead:
        """The code is unique; the currency is MRU or XOF."""
        record = ProgrammeRecord(
            uuid7(), data.code, data.name, data.currency, data.description, data.dhis2_mapping
        )
        created = await use_cases.create_programme(
            record, principal=principal, store=uow.pbf, audit=uow.audit
        )
        return ProgrammeRead.of(created)

    @get(
        "/programmes/{code:str}/rule-sets",
        operation_id="pbf_rule_sets_list",
        summary="List a programme's rule-set versions",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def list_rule_sets(
        self, code: FromPath[ProgrammeCode], principal: CurrentPrincipal, uow: Uow
    ) -> list[RuleSetRead]:
        """Versions in order, each with its validity, content hash and document."""
        authorize(principal, Permission.PBF_READ)
        programme = await use_cases.get_programme(code, store=uow.pbf)
        return [RuleSetRead.of(v) for v in await uow.pbf.rule_sets(programme.id)]

    @post(
        "/programmes/{code:str}/rule-sets",
        operation_id="pbf_rule_sets_create",
        summary="Store a new rule-set version",
        opt={PERMISSION: Permission.PBF_MANAGE},
        request_max_body_size=10 * 1024 * 1024,
    )
    async def create_rule_set(
        self,
        code: FromPath[ProgrammeCode],
        data: JSONBody[RuleSetCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> RuleSetRead:
        """Packages, activities, formulas, decision tables (CSV) and payment rules, as data.
        Every structural and formula problem is listed (422); validity ranges may not overlap."""
        document = msgspec.to_builtins(data)
        valid_from, valid_to = document.pop("valid_from"), document.pop("valid_to", None)
        stored = await use_cases.add_rule_set(
            code,
            document,
            valid_from=valid_from,
            valid_to=valid_to,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
        )
        return RuleSetRead.of(stored)

    @post(
        "/programmes/{code:str}/rule-sets/{version:int}/close",
        operation_id="pbf_rule_sets_close",
        summary="End a rule-set version's validity",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=200,
    )
    async def close_rule_set(
        self,
        code: FromPath[ProgrammeCode],
        version: FromPath[int],
        data: JSONBody[RuleSetClose],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> RuleSetRead:
        """So that a new version can start the month after; refused when invoices after
        that month were computed with it."""
        closed = await use_cases.close_rule_set(
            code, version, data.valid_to, principal=principal, store=uow.pbf, audit=uow.audit
        )
        return RuleSetRead.of(closed)

    @get(
        "/groups",
        operation_id="pbf_groups_list",
        summary="List org-unit groups",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def list_groups(self, principal: CurrentPrincipal, uow: Uow) -> list[GroupRead]:
        """Groups used by packages and decision tables (``group`` condition)."""
        authorize(principal, Permission.PBF_READ)
        return [GroupRead.of(g) for g in await uow.pbf.groups()]

    @put(
        "/groups/{group_code:str}",
        operation_id="pbf_groups_save",
        summary="Create or replace an org-unit group",
        opt={PERMISSION: Permission.PBF_MANAGE},
    )
    async def save_group(
        self,
        group_code: FromPath[str],
        data: JSONBody[GroupSave],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> GroupRead:
        """Members are org-unit ids; the whole membership is replaced."""
        group = await use_cases.save_group(
            group_code, data.name, data.members, principal=principal, store=uow.pbf, audit=uow.audit
        )
        return GroupRead.of(group)

    @get(
        "/programmes/{code:str}/contracts",
        operation_id="pbf_contracts_list",
        summary="List contracts",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def list_contracts(
        self, code: FromPath[ProgrammeCode], principal: CurrentPrincipal, uow: Uow
    ) -> list[ContractRead]:
        """Contracts of facilities in the caller's scope."""
        authorize(principal, Permission.PBF_READ)
        programme = await use_cases.get_programme(code, store=uow.pbf)
        return [
            ContractRead.of(c) for c in await uow.pbf.contracts(programme.id, scope_of(principal))
        ]

    @post(
        "/programmes/{code:str}/contracts",
        operation_id="pbf_contracts_create",
        summary="Contract a facility",
        opt={PERMISSION: Permission.PBF_MANAGE},
    )
    async def create_contract(
        self,
        code: FromPath[ProgrammeCode],
        data: JSONBody[ContractCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> ContractRead:
        """Facility, verification agency, category, payer and dates; no overlapping contract."""
        contract = await use_cases.add_contract(
            code,
            data.org_unit_id,
            agency=data.agency,
            category=data.category,
            payer=data.payer,
            start_date=data.start_date,
            end_date=data.end_date,
            reference=data.reference,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
        )
        return ContractRead.of(contract)

    @post(
        "/programmes/{code:str}/checklists",
        operation_id="pbf_checklists_create",
        summary="Store a quality checklist",
        opt={PERMISSION: Permission.PBF_MANAGE},
    )
    async def create_checklist(
        self,
        code: FromPath[ProgrammeCode],
        data: JSONBody[ChecklistCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> dict[str, Any]:
        """Sections of items (each item an activity of the quality package) with maximum scores."""
        checklist = QualityChecklist(
            uuid7(),
            uuid7(),
            data.code,
            data.name,
            data.package,
            use_cases.checklist_sections(msgspec.to_builtins(data.sections)),
        )
        stored = await use_cases.add_checklist(
            code, checklist, principal=principal, store=uow.pbf, audit=uow.audit
        )
        return {"id": str(stored.id), "code": stored.code, "max_total": str(stored.max_total)}

    @put(
        "/programmes/{code:str}/budgets/{period:str}",
        operation_id="pbf_budgets_set",
        summary="Set a period's budget envelope",
        opt={PERMISSION: Permission.PBF_MANAGE},
    )
    async def set_budget(
        self,
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        data: JSONBody[BudgetSet],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> dict[str, str]:
        """When the period's invoices exceed it they are scaled or capped to fit exactly."""
        budget = await use_cases.set_budget(
            code,
            period,
            data.amount,
            data.policy,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
        )
        return {
            "period": budget.period,
            "amount": format(budget.amount, "f"),
            "policy": budget.policy.value,
        }

    @post(
        "/programmes/{code:str}/adjustments",
        operation_id="pbf_adjustments_create",
        summary="Carry an adjustment to a later payment",
        opt={PERMISSION: Permission.PBF_VALIDATE},
    )
    async def create_adjustment(
        self,
        code: FromPath[ProgrammeCode],
        data: JSONBody[AdjustmentCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> dict[str, str]:
        """Added to (or taken from) the facility's invoice of ``apply_period``."""
        adjustment = Adjustment(
            uuid7(),
            uuid7(),
            data.org_unit_id,
            "",
            data.payment_rule,
            data.origin_period,
            data.apply_period,
            data.amount,
            data.reason,
            principal.user_id,
        )
        stored = await use_cases.add_adjustment(
            code, adjustment, principal=principal, store=uow.pbf, audit=uow.audit
        )
        return {"id": str(stored.id), "amount": format(stored.amount, "f")}

    @post(
        "/programmes/{code:str}/periods/{period:str}/lock",
        operation_id="pbf_periods_lock",
        summary="Lock a period",
        opt={PERMISSION: Permission.PBF_VALIDATE},
        status_code=200,
    )
    async def lock_period(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        data: JSONBody[LockChange],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> LockRead:
        """Nothing of a locked period can change, and it is not recomputed."""
        lock = await use_cases.set_lock(
            code,
            period,
            locked=True,
            reason=data.reason,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return _lock(lock)

    @post(
        "/programmes/{code:str}/periods/{period:str}/reopen",
        operation_id="pbf_periods_reopen",
        summary="Reopen a locked period",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=200,
    )
    async def reopen_period(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        data: JSONBody[LockChange],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> LockRead:
        """A manager reopens a period, saying why; the reopening is audited."""
        lock = await use_cases.set_lock(
            code,
            period,
            locked=False,
            reason=data.reason,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return _lock(lock)


__all__ = ["UUID", "PbfProgrammeController"]
