"""Data-entry files: the template of a period and the import of a filled one."""

from __future__ import annotations

from collections.abc import Sequence

from afiya.domain.access.policy import Principal, authorize, scope_of
from afiya.domain.audit.ports import AuditLog
from afiya.domain.pbf.errors import PeriodInvalid
from afiya.domain.pbf.ports import PbfStore
from afiya.domain.pbf.records import Step
from afiya.domain.pbf.tabular import columns, parse_rows, template_rows
from afiya.domain.pbf.use_cases import get_programme, load_programme
from afiya.domain.pbf.workflow_cases import STEP_PERMISSION, StepReport, contracted, record_step
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import FieldError, ValidationFailed


async def template_for(
    programme_code: str,
    period: str,
    step: Step,
    *,
    principal: Principal,
    store: PbfStore,
) -> tuple[tuple[str, ...], list[list[str]]]:
    """Header and rows of the data-entry template of a period, for the caller's facilities."""
    authorize(principal, STEP_PERMISSION[step])
    programme = await get_programme(programme_code, store=store)
    try:
        rule_set = (await load_programme(programme, store=store)).rule_set_for(period)
    except PeriodInvalid as exc:
        raise ValidationFailed([FieldError("period", exc.message, exc.code)]) from None
    contracts = [
        c
        for c in await store.contracts(programme.id, scope_of(principal))
        if contracted([c], c.org_unit_id, period)
    ]
    facilities = await store.facilities(list(dict.fromkeys(c.org_unit_id for c in contracts)))
    ordered = sorted(facilities.values(), key=lambda f: f.path)
    declarations = await store.declarations(programme.id, [period], scope_of(principal))
    return columns(step), template_rows(rule_set, ordered, period, step, declarations)


async def import_file(
    programme_code: str,
    step: Step,
    header: Sequence[object],
    rows: Sequence[Sequence[object]],
    *,
    principal: Principal,
    store: PbfStore,
    audit: AuditLog,
    clock: Clock,
) -> StepReport:
    """Import a filled template: every row checked (cells, then the workflow rules of
    :func:`record_step`), every error reported with its row number, nothing imported
    unless every row is valid."""
    authorize(principal, STEP_PERMISSION[step])
    code_column = next(
        (i for i, h in enumerate(header) if str(h).strip().lower() == "org_unit_code"), None
    )
    codes = sorted(
        {
            str(r[code_column]).strip()
            for r in rows
            if code_column is not None and len(r) > code_column and r[code_column] is not None
        }
    )
    facilities = await store.facilities_by_code(codes)
    parsed = parse_rows(header, rows, step, facilities)
    if any(e.field == "header" for e in parsed.errors):
        raise ValidationFailed(parsed.errors)
    return await record_step(
        programme_code,
        step,
        parsed.entries,
        principal=principal,
        store=store,
        audit=audit,
        clock=clock,
        row_numbers=parsed.row_numbers,
        known_errors=parsed.errors,
    )
