"""PBF results read as DHIS2 figures (the ``pbf_results`` figure source).

Read-only: it walks the invoices of each period's current computation, a page at a
time, and turns the lines (and invoice totals) a mapping names into figures. What the
codes mean is in :mod:`afiya.domain.dhis2.pbf_figures`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.pbf import (
    PbfComputationRow,
    PbfInvoiceRow,
    PbfPeriodLockRow,
    PbfProgrammeRow,
)
from afiya.domain.dhis2.pbf_figures import (
    PbfFigure,
    overlaps,
    paid_at,
    parse_pbf_figure,
    period_within,
)
from afiya.domain.dhis2.sync_model import Figure, FigureQuery
from afiya.domain.shared.money import currency, quantize

PAGE = 200  # invoices per query: their lines carry explanations and can be long


class SqlPbfFigureSource:
    """Computed PBF values as a :class:`~afiya.domain.dhis2.sync_ports.FigureSource`.

    Rules: only the current computation of each PBF period counts, the newest first, and
    a figure (unit and DHIS2 period) is given once even when several invoices carry its
    line (a quarterly score shows on the invoice of each month); its paid time is the
    lock time of a locked PBF period that overlaps it.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def figures(self, query: FigureQuery) -> AsyncIterator[Figure]:
        for code in query.figures:
            wanted = parse_pbf_figure(code)
            if wanted is None:
                continue
            async for figure in self._figures(code, wanted, query):
                yield figure

    async def _figures(
        self, code: str, wanted: PbfFigure, query: FigureQuery
    ) -> AsyncIterator[Figure]:
        programme_id = (
            await self._session.execute(
                select(PbfProgrammeRow.id).where(
                    PbfProgrammeRow.code == wanted.programme, PbfProgrammeRow.deleted_at.is_(None)
                )
            )
        ).scalar_one_or_none()
        if programme_id is None:
            return
        locks = [
            (row.period, row.locked_at)
            for row in await self._session.execute(
                select(PbfPeriodLockRow.period, PbfPeriodLockRow.locked_at).where(
                    PbfPeriodLockRow.programme_id == programme_id,
                    PbfPeriodLockRow.locked.is_(True),
                    PbfPeriodLockRow.deleted_at.is_(None),
                )
            )
        ]
        computations = [
            row.id
            for row in await self._session.execute(
                select(PbfComputationRow.id, PbfComputationRow.period)
                .where(
                    PbfComputationRow.programme_id == programme_id,
                    PbfComputationRow.current.is_(True),
                    PbfComputationRow.deleted_at.is_(None),
                )
                .order_by(PbfComputationRow.id.desc())  # UUIDv7: the newest first
            )
            if overlaps(row.period, query.start, query.end)
        ]
        seen: set[tuple[UUID, str]] = set()
        for computation_id in computations:
            async for invoice in self._invoices(computation_id):
                for period, value in _values(wanted, invoice):
                    key = (invoice.org_unit_id, period)
                    if key in seen or not period_within(period, query.start, query.end):
                        continue
                    seen.add(key)
                    yield Figure(
                        code, invoice.org_unit_id, period, value, None, paid_at(period, locks)
                    )

    async def _invoices(self, computation_id: UUID) -> AsyncIterator[Any]:
        """A keyset walk by id, so other queries may run between two pages."""
        i = PbfInvoiceRow
        last: UUID | None = None
        while True:
            stmt = select(
                i.id, i.org_unit_id, i.payment_rule, i.period, i.currency, i.total, i.lines
            ).where(i.computation_id == computation_id, i.deleted_at.is_(None))
            if last is not None:
                stmt = stmt.where(i.id > last)
            rows = (await self._session.execute(stmt.order_by(i.id).limit(PAGE))).all()
            if not rows:
                return
            for row in rows:
                yield row
            last = rows[-1].id


def _values(wanted: PbfFigure, invoice: Any) -> list[tuple[str, str]]:
    """(DHIS2 period, value) of the figure on one invoice."""
    if wanted.is_invoice_total(invoice.payment_rule):
        total = quantize(invoice.total, currency(invoice.currency))
        return [(invoice.period, format(total, "f"))]
    return [
        (str(line["period"]), str(line["value"]))
        for line in invoice.lines or ()
        if wanted.matches_line(line)
    ]
