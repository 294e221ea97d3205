"""PBF invoices and programme summaries rendered to PDF with fpdf2, in French, Arabic or
English.

A facility invoice shows every line with its explainer (the formula as written, the
expanded equation and every value it read) and the SHA-256 hash of the rule-set version
that produced it, then the totals and each payer's part. A programme summary lists the
invoices of a period in the caller's scope with their totals. Amounts are printed exactly
to the currency's minor unit (two decimals for MRU, none for XOF), grouped as the
language writes numbers.

Arabic is laid out right to left and shaped by HarfBuzz, with the fonts and paragraph
helpers of :mod:`afiya.adapters.documents.pdf`: labels sit on the right, formulas,
equations and hashes (Latin text) keep their own left-to-right order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from fpdf import FPDF

from afiya.adapters.documents.pdf import (
    DEFAULT_FONT_DIR,
    FAMILY,
    FONT_FILES,
    MARGIN,
    FontMissing,
    PdfPage,
    write_cell,
)
from afiya.domain.pbf.records import Computation, Facility, ProgrammeRecord, StoredInvoice
from afiya.domain.shared.i18n import N_
from afiya.domain.shared.money import Currency, currency, quantize

MEDIA_TYPE = "application/pdf"
AMOUNT_WIDTH = 45.0  # mm, the amount column
LABEL_WIDTH = 58.0  # mm, the label column of "label: value" lines
#: The rule-set hash is the proof of which rules produced an invoice: printed whole.
HASH_LABEL = N_("Rule-set version hash")


def format_amount(amount: Decimal, money: Currency, language: str) -> str:
    """``amount`` rounded to the currency's minor unit, grouped as ``language`` writes numbers
    (``98 760,00`` in French, ``98,760.00`` in English and Arabic, Latin digits)."""
    exact = quantize(Decimal(amount), money)
    pattern = "#,##0" + ("." + "0" * money.minor_units if money.minor_units else "")
    return format_decimal(exact, format=pattern, locale=language, decimal_quantization=False)


def format_number(value: Decimal | str, language: str) -> str:
    """A formula input or line value as stored (every significant digit), localised."""
    number = Decimal(value)
    digits = max(0, -number.normalize().as_tuple().exponent)  # type: ignore[operator]
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(number, format=pattern, locale=language, decimal_quantization=False)


@dataclass(frozen=True, slots=True)
class _Layout:
    pdf: FPDF
    language: str
    translate: Callable[[str], str]
    rtl: bool

    @property
    def align(self) -> str:
        return "R" if self.rtl else "L"

    def t(self, msgid: str) -> str:
        return self.translate(msgid)


class FpdfInvoiceRenderer:
    """Facility invoices and period summaries of a PBF programme as A4 PDF files."""

    media_type = MEDIA_TYPE

    def __init__(self, font_dir: Path = DEFAULT_FONT_DIR) -> None:
        missing = [name for name in FONT_FILES.values() if not (font_dir / name).is_file()]
        if missing:
            raise FontMissing(
                f"fonts {', '.join(missing)} not found in {font_dir}: install the Debian "
                "package fonts-dejavu-core (tools/bootstrap.sh does) or set the font directory"
            )
        self._font_dir = font_dir

    def invoice(
        self,
        invoice: StoredInvoice,
        *,
        programme: ProgrammeRecord,
        facility: Facility,
        translate: Callable[[str], str],
        language: str,
        rtl: bool,
        issued_at: datetime,
    ) -> bytes:
        """One facility's invoice with its explained lines, totals and payers' parts."""
        money = currency(invoice.currency)
        title = translate(N_("PBF invoice"))
        page = self._start(title, programme, invoice.rule_set_hash, language, rtl, issued_at)
        out = _Layout(page, language, translate, rtl)
        section_heading(out, programme.name, title)
        _pair(out, out.t(N_("Facility")), _facility_name(facility))
        _pair(out, out.t(N_("Period")), invoice.period)
        _pair(out, out.t(N_("Payment rule")), invoice.payment_rule)
        _pair(out, out.t(N_("Currency")), f"{money.code} ({money.name})")
        _hash(out, invoice.rule_set_hash)
        if invoice.simulated:
            _note(out, out.t(N_("Simulation: this invoice is not a payment order.")))
        _section(out, out.t(N_("Lines")))
        for line in invoice.lines:
            _invoice_line(out, line, money)
        _section(out, out.t(N_("Totals")))
        totals = (
            (N_("Computed total"), invoice.computed_total),
            (N_("Budget adjustment"), invoice.budget_adjustment),
            (N_("Adjustments carried from earlier periods"), invoice.carried_adjustments),
        )
        for label, amount in totals:
            _amount_row(out, out.t(label), format_amount(amount, money, language))
        _amount_row(
            out,
            out.t(N_("Total to pay")),
            f"{format_amount(invoice.total, money, language)} {money.code}",
            bold=True,
        )
        if invoice.payers:
            _section(out, out.t(N_("Payers")))
            for part in invoice.payers:
                label = (
                    f"{part['payer']} ({format_number(str(part.get('percent', '0')), language)} %)"
                )
                _amount_row(out, label, format_amount(Decimal(part["amount"]), money, language))
        return bytes(page.output())

    def summary(
        self,
        computation: Computation,
        invoices: Sequence[StoredInvoice],
        *,
        programme: ProgrammeRecord,
        facilities: Mapping[Any, Facility],
        translate: Callable[[str], str],
        language: str,
        rtl: bool,
        issued_at: datetime,
    ) -> bytes:
        """A period's invoices (those given: the caller's scope) with their totals."""
        money = currency(programme.currency)
        title = translate(N_("PBF programme summary"))
        page = self._start(title, programme, computation.rule_set_hash, language, rtl, issued_at)
        out = _Layout(page, language, translate, rtl)
        section_heading(out, programme.name, title)
        _pair(out, out.t(N_("Period")), computation.period)
        _pair(out, out.t(N_("Currency")), f"{money.code} ({money.name})")
        _hash(out, computation.rule_set_hash)
        _pair(out, out.t(N_("Invoices")), str(len(invoices)))
        _section(out, out.t(N_("Invoices")))
        ordered = sorted(
            invoices,
            key=lambda i: (_facility_name(facilities.get(i.org_unit_id)), i.period, i.payment_rule),
        )
        by_payer: dict[str, Decimal] = {}
        for invoice in ordered:
            name = _facility_name(facilities.get(invoice.org_unit_id))
            label = f"{name} · {invoice.period} · {invoice.payment_rule}"
            _amount_row(out, label, format_amount(invoice.total, money, language))
            for part in invoice.payers:
                by_payer[part["payer"]] = by_payer.get(part["payer"], Decimal(0)) + Decimal(
                    part["amount"]
                )
        total = sum((i.total for i in invoices), Decimal(0))
        _amount_row(
            out,
            out.t(N_("Grand total")),
            f"{format_amount(total, money, language)} {money.code}",
            bold=True,
        )
        if by_payer:
            _section(out, out.t(N_("Payers")))
            for payer in sorted(by_payer):
                _amount_row(out, payer, format_amount(by_payer[payer], money, language))
        return bytes(page.output())

    def _start(
        self,
        title: str,
        programme: ProgrammeRecord,
        rule_set_hash: str,
        language: str,
        rtl: bool,
        issued_at: datetime,
    ) -> FPDF:
        pdf = PdfPage(format="A4", unit="mm")
        pdf.rtl = rtl
        for style, name in FONT_FILES.items():
            pdf.add_font(FAMILY, style, str(self._font_dir / name))
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_creation_date(issued_at)
        pdf.set_lang(language)
        pdf.set_title(f"{title} — {programme.name}")
        pdf.set_creator("Afiya")
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr")
        pdf.footer_text = f"{programme.code} · {rule_set_hash[:23]}…"
        pdf.add_page()
        return pdf


def _facility_name(facility: Facility | None) -> str:
    if facility is None:
        return "?"
    return f"{facility.name} ({facility.code})" if facility.code else facility.name


def section_heading(out: _Layout, programme: str, title: str) -> None:
    pdf = out.pdf
    pdf.set_font(FAMILY, "B", 12)
    write_cell(pdf, 0, 6, programme, "C")
    pdf.set_font(FAMILY, "B", 16)
    write_cell(pdf, 0, 9, title, "C")
    pdf.set_draw_color(40, 90, 140)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, pdf.get_y() + 1, pdf.w - MARGIN, pdf.get_y() + 1)
    pdf.ln(4)


def _section(out: _Layout, heading: str) -> None:
    pdf = out.pdf
    if pdf.will_page_break(20):
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 11)
    pdf.set_fill_color(228, 236, 245)
    write_cell(pdf, 0, 7, heading, out.align, fill=True)
    pdf.ln(1)


def _note(out: _Layout, text: str) -> None:
    out.pdf.set_font(FAMILY, "B", 10)
    out.pdf.set_text_color(160, 40, 40)
    write_cell(out.pdf, 0, 6, text, out.align)
    out.pdf.set_text_color(0, 0, 0)


def _columns(out: _Layout, first: float) -> tuple[float, float]:
    """x of the reading-side column (``first`` mm wide) and of the other one."""
    pdf = out.pdf
    if out.rtl:
        return pdf.w - MARGIN - first, MARGIN
    return MARGIN, MARGIN + first


def _pair(out: _Layout, label: str, value: str) -> None:
    """A "label: value" line, the label on the reading side (left, or right in Arabic)."""
    pdf = out.pdf
    if pdf.will_page_break(11):
        pdf.add_page()
    top = pdf.get_y()
    label_x, value_x = _columns(out, LABEL_WIDTH)
    pdf.set_font(FAMILY, "B", 10)
    pdf.set_xy(label_x, top)
    write_cell(pdf, LABEL_WIDTH, 5.5, label, out.align)
    bottom = pdf.get_y()
    pdf.set_font(FAMILY, "", 10)
    pdf.set_xy(value_x, top)
    write_cell(pdf, pdf.epw - LABEL_WIDTH, 5.5, value, out.align)
    pdf.set_y(max(bottom, pdf.get_y()))


def _hash(out: _Layout, value: str) -> None:
    """The rule-set hash on a line of its own, whole (71 characters do not fit beside a
    label): it is what an auditor compares with the stored rule-set version."""
    pdf = out.pdf
    pdf.set_font(FAMILY, "B", 10)
    write_cell(pdf, 0, 5.5, out.t(HASH_LABEL), out.align)
    pdf.set_font(FAMILY, "", 9)
    write_cell(pdf, 0, 5, value, out.align)


def _amount_row(out: _Layout, label: str, amount: str, *, bold: bool = False) -> None:
    """A label and an amount, amounts aligned in their own column (left of it in Arabic)."""
    pdf = out.pdf
    if pdf.will_page_break(11):
        pdf.add_page()
    top = pdf.get_y()
    width = pdf.epw - AMOUNT_WIDTH
    label_x, amount_x = _columns(out, width)
    pdf.set_font(FAMILY, "B" if bold else "", 10)
    pdf.set_xy(label_x, top)
    write_cell(pdf, width, 5.5, label, out.align)
    bottom = pdf.get_y()
    pdf.set_xy(amount_x, top)
    write_cell(pdf, AMOUNT_WIDTH, 5.5, amount, "L" if out.rtl else "R")
    pdf.set_y(max(bottom, pdf.get_y()))


def _invoice_line(out: _Layout, line: Mapping[str, Any], money: Currency) -> None:
    """One invoice line and its explainer: formula, equation and the values it read."""
    pdf = out.pdf
    parts = [f"{line['source']}.{line['formula']}", line.get("activity"), line["period"]]
    label = " · ".join(p for p in parts if p)
    value = (
        format_amount(Decimal(line["value"]), money, out.language)
        if line.get("money")
        else format_number(line["value"], out.language)
    )
    _amount_row(out, label, value, bold=True)
    explanation = line.get("explanation")
    if not explanation:
        return
    pdf.set_font(FAMILY, "", 8)
    pdf.set_text_color(60, 60, 60)
    _pair_small(out, out.t(N_("Formula")), explanation.get("expression", ""))
    _pair_small(out, out.t(N_("Equation")), explanation.get("equation", ""))
    inputs = [
        f"{i['name']} = "
        + (out.t(N_("missing")) if i.get("missing") else format_number(i["value"], out.language))
        for i in explanation.get("inputs", [])
    ]
    if inputs:
        _pair_small(out, out.t(N_("Inputs")), "; ".join(inputs))
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1)


def _pair_small(out: _Layout, label: str, value: str) -> None:
    pdf = out.pdf
    if pdf.will_page_break(8):
        pdf.add_page()
    top = pdf.get_y()
    indent = 6.0
    width = 30.0
    if out.rtl:
        label_x, value_x = pdf.w - MARGIN - indent - width, MARGIN
    else:
        label_x, value_x = MARGIN + indent, MARGIN + indent + width
    value_width = pdf.epw - indent - width
    pdf.set_font(FAMILY, "B", 8)
    pdf.set_xy(label_x, top)
    write_cell(pdf, width, 4, label, out.align)
    bottom = pdf.get_y()
    pdf.set_font(FAMILY, "", 8)
    pdf.set_xy(value_x, top)
    write_cell(pdf, value_width, 4, value, out.align)
    pdf.set_y(max(bottom, pdf.get_y()))
