"""PBF workflow routes: declare, verify and validate (JSON for mobile entry, or a filled
XLSX/CSV template), templates, quality evaluations and counter-verifications."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from afiya.adapters.files.spreadsheets import (
    CSV,
    XLSX,
    UnreadableFile,
    read_table,
    write_csv,
    write_xlsx,
)
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.pbf.schemas import (
    CounterVerificationIn,
    DeclarationRead,
    EntriesIn,
    EvaluationIn,
    EvaluationRead,
    ProgrammeCode,
    StepReportRead,
)
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.pbf import imports, workflow_cases
from afiya.domain.pbf.records import Step, StepEntry
from afiya.domain.pbf.tabular import unreadable_file
from afiya.domain.shared.errors import FieldError, ValidationFailed

MAX_FILE = 60 * 1024 * 1024


async def _entries(
    request: Request[Any, Any, Any],
    code: str,
    step: Step,
    data: EntriesIn,
    principal: Any,
    uow: Any,
) -> StepReportRead:
    report = await workflow_cases.record_step(
        code,
        step,
        [
            StepEntry(e.org_unit_id, e.period, e.package, e.activity, e.value, e.comment)
            for e in data.entries
        ],
        principal=principal,
        store=uow.pbf,
        audit=uow.audit,
        clock=request.app.state.container.clock,
    )
    return StepReportRead(report.created, report.updated)


async def _import(
    request: Request[Any, Any, Any],
    code: str,
    step: Step,
    filename: str | None,
    principal: Any,
    uow: Any,
) -> StepReportRead:
    body = await request.body()
    try:
        header, rows = read_table(body, filename, request.headers.get("content-type"))
    except UnreadableFile:
        raise ValidationFailed([FieldError("file", unreadable_file())]) from None
    report = await imports.import_file(
        code,
        step,
        header,
        rows,
        principal=principal,
        store=uow.pbf,
        audit=uow.audit,
        clock=request.app.state.container.clock,
    )
    return StepReportRead(report.created, report.updated)


class PbfWorkflowController(Controller):
    path = "/api/v1/pbf/programmes/{code:str}"
    tags = ["pbf"]

    @post(
        "/declarations/declare",
        operation_id="pbf_declare",
        summary="Declare quantities",
        opt={PERMISSION: Permission.PBF_DECLARE},
        status_code=200,
    )
    async def declare(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        data: JSONBody[EntriesIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> StepReportRead:
        """Mobile or web entry of the facility's ``claimed`` values; all rows or none.
        Re-sending the same entries is harmless (offline retries)."""
        return await _entries(request, code, Step.DECLARE, data, principal, uow)

    @post(
        "/declarations/verify",
        operation_id="pbf_verify",
        summary="Record verified quantities",
        opt={PERMISSION: Permission.PBF_VERIFY},
        status_code=200,
    )
    async def verify(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        data: JSONBody[EntriesIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> StepReportRead:
        """The verification agency's ``verified`` values (``null``: not verifiable)."""
        return await _entries(request, code, Step.VERIFY, data, principal, uow)

    @post(
        "/declarations/validate",
        operation_id="pbf_validate",
        summary="Record validated quantities",
        opt={PERMISSION: Permission.PBF_VALIDATE},
        status_code=200,
    )
    async def validate(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        data: JSONBody[EntriesIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> StepReportRead:
        """The committee's ``validated`` values, after verification."""
        return await _entries(request, code, Step.VALIDATE, data, principal, uow)

    @get(
        "/declarations",
        operation_id="pbf_declarations_list",
        summary="List declarations",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def list_declarations(
        self,
        code: FromPath[ProgrammeCode],
        principal: CurrentPrincipal,
        uow: Uow,
        period: Annotated[str, QueryParameter(max_length=7)],
        org_unit_id: FromQuery[UUID | None] = None,
    ) -> list[DeclarationRead]:
        """Values and workflow status (who and when at each step) in the caller's scope."""
        found = await workflow_cases.list_declarations(
            code, period, org_unit_id=org_unit_id, principal=principal, store=uow.pbf
        )
        return [DeclarationRead.of(d) for d in found]

    @get(
        "/templates/{period:str}",
        operation_id="pbf_template",
        summary="Download a data-entry template",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def template(
        self,
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        principal: CurrentPrincipal,
        uow: Uow,
        step: FromQuery[Step] = Step.DECLARE,
        format: FromQuery[Literal["xlsx", "csv"]] = "xlsx",
    ) -> Response[bytes]:
        """One row per contracted facility and activity; fill the step's column and import it."""
        header, rows = await imports.template_for(
            code, period, step, principal=principal, store=uow.pbf
        )
        name = f"pbf-{code}-{period}-{step.value}.{format}"
        content = (
            write_csv(header, rows) if format == "csv" else write_xlsx([(period, header, rows)])
        )
        return Response(
            content,
            media_type=CSV if format == "csv" else XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @post(
        "/imports/declare",
        operation_id="pbf_import_declare",
        summary="Import declared quantities",
        opt={PERMISSION: Permission.PBF_DECLARE},
        status_code=200,
        request_max_body_size=MAX_FILE,
    )
    async def import_declare(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        principal: CurrentPrincipal,
        uow: Uow,
        filename: FromQuery[str | None] = None,
    ) -> StepReportRead:
        """Body: the filled XLSX or CSV. Every invalid row is listed (422), and then
        nothing is imported."""
        return await _import(request, code, Step.DECLARE, filename, principal, uow)

    @post(
        "/imports/verify",
        operation_id="pbf_import_verify",
        summary="Import verified quantities",
        opt={PERMISSION: Permission.PBF_VERIFY},
        status_code=200,
        request_max_body_size=MAX_FILE,
    )
    async def import_verify(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        principal: CurrentPrincipal,
        uow: Uow,
        filename: FromQuery[str | None] = None,
    ) -> StepReportRead:
        """Body: the filled XLSX or CSV of the verification step."""
        return await _import(request, code, Step.VERIFY, filename, principal, uow)

    @post(
        "/imports/validate",
        operation_id="pbf_import_validate",
        summary="Import validated quantities",
        opt={PERMISSION: Permission.PBF_VALIDATE},
        status_code=200,
        request_max_body_size=MAX_FILE,
    )
    async def import_validate(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        principal: CurrentPrincipal,
        uow: Uow,
        filename: FromQuery[str | None] = None,
    ) -> StepReportRead:
        """Body: the filled XLSX or CSV of the validation step."""
        return await _import(request, code, Step.VALIDATE, filename, principal, uow)

    @post(
        "/quality-evaluations",
        operation_id="pbf_quality_evaluate",
        summary="Record a quality evaluation",
        opt={PERMISSION: Permission.PBF_VERIFY},
        status_code=200,
    )
    async def evaluate(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        data: JSONBody[EvaluationIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> EvaluationRead:
        """Quarterly checklist scores, each between 0 and the item's maximum."""
        evaluation = await workflow_cases.record_evaluation(
            code,
            data.checklist,
            data.org_unit_id,
            data.period,
            data.scores,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return EvaluationRead.of(evaluation)

    @post(
        "/counter-verifications",
        operation_id="pbf_counter_verify",
        summary="Record a community counter-verification",
        opt={PERMISSION: Permission.PBF_VERIFY},
        status_code=200,
    )
    async def counter_verify(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[ProgrammeCode],
        data: JSONBody[CounterVerificationIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> dict[str, Any]:
        """Patients sampled, found and confirming the service; read by the penalty formulas."""
        cv = await workflow_cases.record_counter_verification(
            code,
            data.org_unit_id,
            data.period,
            data.package,
            data.activity,
            sampled=data.sampled,
            found=data.found,
            confirmed=data.confirmed,
            principal=principal,
            store=uow.pbf,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return {
            "id": str(cv.id),
            "sampled": cv.sampled,
            "found": cv.found,
            "confirmed": cv.confirmed,
        }
