"""PBF PDF exports: a facility invoice with its explained lines, and a period's summary, in
the caller's language (``Accept-Language``: French, Arabic right to left, or English)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from afiya.adapters.documents.invoice_pdf import MEDIA_TYPE, FpdfInvoiceRenderer
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.i18n import request_translator
from afiya.api.pbf.schemas import ProgrammeCode
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.pbf import computing
from afiya.domain.pbf.use_cases import get_programme

Req = Request[Any, Any, Any]


def _renderer(request: Req) -> FpdfInvoiceRenderer:
    """Built once per process (raises ``FontMissing`` without the DejaVu fonts)."""
    extras = request.app.state.container.extras
    if "pbf.invoice_pdf" not in extras:
        extras["pbf.invoice_pdf"] = FpdfInvoiceRenderer()
    return extras["pbf.invoice_pdf"]  # type: ignore[no-any-return]


def _pdf(content: bytes, filename: str, language: str) -> Response[bytes]:
    return Response(
        content,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Language": language,
        },
    )


class PbfDocumentController(Controller):
    path = "/api/v1/pbf"
    tags = ["pbf"]

    @get(
        "/invoices/{invoice_id:uuid}/pdf",
        operation_id="pbf_invoices_pdf",
        summary="Export an invoice (PDF)",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def invoice_pdf(
        self, request: Req, invoice_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> Response[bytes]:
        """The facility's invoice with every line's formula, equation and inputs, the
        rule-set version hash, the totals and each payer's part, in the language of
        ``Accept-Language`` (fr, ar, en). Refused outside the caller's facilities."""
        found = await computing.read_invoice(invoice_id, principal=principal, store=uow.pbf)
        programme = await uow.pbf.programme_of_computation(found.computation_id)
        assert programme is not None  # an invoice belongs to a computation of a programme
        facility = (await uow.pbf.facilities([found.org_unit_id]))[found.org_unit_id]
        translate = request_translator(request)
        content = _renderer(request).invoice(
            found,
            programme=programme,
            facility=facility,
            translate=translate,
            language=translate.language,
            rtl=translate.rtl,
            issued_at=request.app.state.container.clock.now(),
        )
        name = f"pbf-{programme.code}-{found.period}-{facility.code or facility.uid}.pdf"
        return _pdf(content, name, translate.language)

    @get(
        "/programmes/{code:str}/periods/{period:str}/invoices.pdf",
        operation_id="pbf_invoices_summary_pdf",
        summary="Export a period's invoice summary (PDF)",
        opt={PERMISSION: Permission.PBF_READ},
    )
    async def summary_pdf(
        self,
        request: Req,
        code: FromPath[ProgrammeCode],
        period: FromPath[str],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[bytes]:
        """The period's invoices in the caller's scope (facility, period, payment rule,
        total), the grand total, the payers' parts and the rule-set version hash."""
        programme = await get_programme(code, store=uow.pbf)
        computation, found = await computing.read_invoices(
            code, period, org_unit_id=None, principal=principal, store=uow.pbf
        )
        facilities = await uow.pbf.facilities(list({i.org_unit_id for i in found}))
        translate = request_translator(request)
        content = _renderer(request).summary(
            computation,
            found,
            programme=programme,
            facilities=facilities,
            translate=translate,
            language=translate.language,
            rtl=translate.rtl,
            issued_at=request.app.state.container.clock.now(),
        )
        return _pdf(content, f"pbf-{code}-{period}-invoices.pdf", translate.language)
