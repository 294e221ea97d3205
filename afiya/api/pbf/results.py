"""PBF result routes: compute (now or as a job), simulate, invoices with explanations,
invoice export (XLSX) and results as DHIS2 ``dataValueSets``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from afiya.adapters.compute import NumpyEquationEvaluator
from afiya.adapters.files.spreadsheets import XLSX, write_xlsx
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.pbf.schemas import (
    ComputationRead,
    InvoiceRead,
    JobScheduled,
    ProgrammeCode,
    SimulationIn,
)
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import authorize
from afiya.domain.pbf import computing
from afiya.domain.pbf.use_cases import get_programme
from afiya.domain.platform.jobs import JobRequest


def _read(result: computing.ComputationResult, *, lines: bool) -> ComputationRead:
    c = result.computation
    # what the caller may see: the invoices of its scope, and their total
    return ComputationRead(
        c.id,
        c.period,
        c.rule_set_hash,
        len(result.invoices),
        sum((i.total for i in result.invoices), Decimal(0)),
        result.simulated,
        [InvoiceRead.of(i, lines=lines) for i in result.invoices],
    )


class PbfResultController(Controller):
    path = "/api/v1/pbf"
    tags = ["pbf"]

    @post(
        "/programmes/{code:str}/periods/{period:str}/compute",
        operation_id="pbf_compute",
        summary="Compute a period's invoices",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=200,
    )
    async def compute(
        self,
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> ComputationRead:
        """Runs the rules on the stored data and stores the invoices (replacing the period's
        previous computation). Refused (409) on a locked period."""
        result = await computing.compute_period(
            code,
            period,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
            evaluator=NumpyEquationEvaluator(),
        )
        return _read(result, lines=False)

    @post(
        "/programmes/{code:str}/periods/{period:str}/compute-job",
        operation_id="pbf_compute_job",
        summary="Compute a period's invoices in the background",
        opt={PERMISSION: Permission.PBF_MANAGE},
        status_code=202,
    )
    async def compute_job(
        self,
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> JobScheduled:
        """For national runs: the job computes with the caller's rights and scope."""
        authorize(principal, Permission.PBF_MANAGE)
        await get_programme(code, store=uow.pbf)
        job_id = await uow.jobs.schedule(
            JobRequest(
                "pbf.compute",
                {
                    "programme": code,
                    "period": period,
                    "user_id": str(principal.user_id),
                    "roles": sorted(principal.roles),
                    "unit_paths": list(principal.unit_paths),
                },
                idempotency_key=f"pbf.compute:{code}:{period}:{uow.clock.now().isoformat()}",
            )
        )
        return JobScheduled(job_id)

    @post(
        "/programmes/{code:str}/periods/{period:str}/simulate",
        operation_id="pbf_simulate",
        summary="Simulate a period's invoices",
        opt={PERMISSION: Permission.PBF_READ},
        status_code=200,
    )
    async def simulate(
        self,
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        data: JSONBody[SimulationIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> ComputationRead:
        """What if the tariffs (or any constant) changed: the same computation, on the
        caller's facilities, with invoices marked simulated. Nothing is written."""
        overrides: dict[tuple[str, str, str], Decimal] = {
            (o.package, o.activity, o.constant): o.value for o in data.constants
        }
        result = await computing.compute_period(
            code,
            period,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
            evaluator=NumpyEquationEvaluator(),
            simulate=True,
            constant_overrides=overrides,
            explain=False,
        )
        return _read(result, lines=True)

    @get(
        "/programmes/{code:str}/periods/{period:str}/invoices",
        operation_id="pbf_invoices_list",
        summary="List a period's invoices",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def invoices(
        self,
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        principal: CurrentPrincipal,
        uow: Uow,
        org_unit_id: FromQuery[UUID | None] = None,
        lines: FromQuery[bool] = False,
    ) -> ComputationRead:
        """The current computation's invoices in the caller's scope."""
        computation, found = await computing.read_invoices(
            code, period, org_unit_id=org_unit_id, principal=principal, store=uow.pbf
        )
        return _read(computing.ComputationResult(computation, tuple(found), False), lines=lines)

    @get(
        "/invoices/{invoice_id:uuid}",
        operation_id="pbf_invoices_get",
        summary="Read an invoice",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def invoice(
        self, invoice_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> InvoiceRead:
        """With every line's formula, equation, inputs and the rule-set hash."""
        found = await computing.read_invoice(invoice_id, principal=principal, store=uow.pbf)
        return InvoiceRead.of(found, lines=True)

    @get(
        "/programmes/{code:str}/periods/{period:str}/invoices.xlsx",
        operation_id="pbf_invoices_export",
        summary="Export a period's invoices (XLSX)",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def export(
        self,
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[bytes]:
        """Sheet ``invoices`` (totals, budget and carried adjustments, payers) and sheet
        ``lines`` (every line with its formula and equation)."""
        _, found = await computing.read_invoices(
            code, period, org_unit_id=None, principal=principal, store=uow.pbf
        )
        facilities = await uow.pbf.facilities(list({i.org_unit_id for i in found}))
        payers = sorted({p["payer"] for i in found for p in i.payers})
        head = [
            "facility_code",
            "facility",
            "payment_rule",
            "period",
            "currency",
            "computed_total",
            "budget_adjustment",
            "carried_adjustments",
            "total",
            *payers,
            "rule_set_hash",
        ]
        rows = [
            [
                facilities[i.org_unit_id].code,
                facilities[i.org_unit_id].name,
                i.payment_rule,
                i.period,
                i.currency,
                i.computed_total,
                i.budget_adjustment,
                i.carried_adjustments,
                i.total,
                *[
                    next((Decimal(p["amount"]) for p in i.payers if p["payer"] == name), Decimal(0))
                    for name in payers
                ],
                i.rule_set_hash,
            ]
            for i in found
        ]
        line_head = [
            "facility_code",
            "payment_rule",
            "invoice_period",
            "source",
            "formula",
            "activity",
            "period",
            "value",
            "expression",
            "equation",
        ]
        line_rows = [
            [
                facilities[i.org_unit_id].code,
                i.payment_rule,
                i.period,
                line["source"],
                line["formula"],
                line["activity"],
                line["period"],
                Decimal(line["value"]),
                line.get("explanation", {}).get("expression"),
                line.get("explanation", {}).get("equation"),
            ]
            for i in found
            for line in i.lines
        ]
        content = write_xlsx([("invoices", head, rows), ("lines", line_head, line_rows)])
        return Response(
            content,
            media_type=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="pbf-{code}-{period}-invoices.xlsx"'
            },
        )

    @get(
        "/programmes/{code:str}/periods/{period:str}/dhis2",
        operation_id="pbf_dhis2_export",
        summary="Results as DHIS2 dataValueSets",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def dhis2(
        self,
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> dict[str, Any]:
        """Lines mapped in the programme's ``dhis2_mapping``, org units by DHIS2 uid."""
        programme = await get_programme(code, store=uow.pbf)
        _, found = await computing.read_invoices(
            code, period, org_unit_id=None, principal=principal, store=uow.pbf
        )
        facilities = await uow.pbf.facilities(list({i.org_unit_id for i in found}))
        return computing.data_value_set(
            found, {k: f.uid for k, f in facilities.items()}, programme.dhis2_mapping
        )
