"""Use cases of the figure table, the built-in :class:`FigureSource`.

Other modules (statistics, surveys, PBF until its results plug in as a source of their
own) write the figures they want in DHIS2 here: one value per figure code, Afiya unit and
DHIS2 period. A push reads them through the mappings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.dhis2.errors import InvalidPeriod
from afiya.domain.dhis2.periods import Period
from afiya.domain.dhis2.sync_model import Figure
from afiya.domain.dhis2.sync_ports import FigureTable
from afiya.domain.orgunits.ports import OrgUnitRepository
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

FIGURE_CODE = re.compile(r"^[a-z][a-z0-9_.\-]{0,99}$")
MAX_VALUE_LENGTH = 50_000


async def _check(
    items: Sequence[tuple[str, UUID, str]], *, principal: Principal, units: OrgUnitRepository
) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[tuple[str, UUID, str]] = set()
    unit_paths: dict[UUID, str | None] = {}
    for index, (code, unit_id, period) in enumerate(items):
        where = f"figures.{index}"
        if not FIGURE_CODE.match(code):
            errors.append(
                FieldError(
                    f"{where}.figure",
                    Message(
                        N_(
                            "A figure code is lower-case letters, digits, dots, dashes or "
                            "underscores, starting with a letter."
                        )
                    ),
                    "format",
                )
            )
        try:
            Period.parse(period)
        except InvalidPeriod as exc:
            errors.append(FieldError(f"{where}.period", exc.reason, "format"))
        if unit_id not in unit_paths:
            unit = await units.get(unit_id)
            unit_paths[unit_id] = unit.path if unit else None
        path = unit_paths[unit_id]
        if path is None:
            errors.append(
                FieldError(
                    f"{where}.org_unit_id", Message(N_("Unknown organisation unit.")), "not_found"
                )
            )
        else:
            authorize(principal, Permission.DHIS2_MANAGE, path)
        if (code, unit_id, period) in seen:
            errors.append(
                FieldError(
                    where, Message(N_("The same figure, unit and period appear twice.")), "unique"
                )
            )
        seen.add((code, unit_id, period))
    return errors


async def put_figures(
    figures: Sequence[Figure],
    *,
    principal: Principal,
    table: FigureTable,
    units: OrgUnitRepository,
    audit: AuditLog,
) -> tuple[int, int, int]:
    """Create or replace figures; return (created, updated, unchanged).

    Rules: every figure names a known unit inside the caller's sub-trees and a valid
    DHIS2 period; a figure appears once per request; every invalid item is reported.
    Periods are stored in DHIS2's canonical form (``2026W03`` becomes ``2026W3``).
    """
    authorize(principal, Permission.DHIS2_MANAGE)
    errors = await _check(
        [(f.figure, f.org_unit_id, f.period) for f in figures], principal=principal, units=units
    )
    for index, figure in enumerate(figures):
        if figure.value is not None and len(figure.value) > MAX_VALUE_LENGTH:
            errors.append(
                FieldError(
                    f"figures.{index}.value", Message(N_("The value is too long.")), "length"
                )
            )
    if errors:
        raise ValidationFailed(errors)
    canonical = [
        Figure(f.figure, f.org_unit_id, Period.parse(f.period).id, f.value, f.comment)
        for f in figures
    ]
    result = await table.upsert(canonical)
    await audit.record(
        AuditRecord(
            "dhis2.figures.put",
            "dhis2_figure",
            None,
            details={"created": result[0], "updated": result[1], "unchanged": result[2]},
        )
    )
    return result


async def mark_figures_paid(
    keys: Sequence[tuple[str, UUID, str]],
    paid_at: datetime,
    *,
    principal: Principal,
    table: FigureTable,
    units: OrgUnitRepository,
    audit: AuditLog,
) -> int:
    """Record that money was paid on figures; a later change in DHIS2 raises an alert."""
    authorize(principal, Permission.DHIS2_MANAGE)
    errors = await _check(keys, principal=principal, units=units)
    if errors:
        raise ValidationFailed(errors)
    marked = await table.mark_paid(
        [(code, unit, Period.parse(period).id) for code, unit, period in keys], paid_at
    )
    await audit.record(
        AuditRecord("dhis2.figures.paid", "dhis2_figure", None, details={"marked": marked})
    )
    return marked
