"""Clinical documents rendered to PDF with fpdf2, in French or Arabic.

Arabic is written right to left and its letters take different forms at the start,
middle and end of a word; a PDF holds glyphs, not letters, so both the bidirectional
reordering and the shaping happen here: fpdf2's text shaping (``set_text_shaping``) runs
HarfBuzz (``uharfbuzz``) and the Unicode bidirectional algorithm on each line. The PDF
keeps a ToUnicode map, so text extracted from it (pdftotext, pypdf) comes back in
logical order: a search for the patient's Arabic name finds it.

Font: DejaVu Sans (Latin, Arabic and the symbols used), from the Debian package
``fonts-dejavu-core``, which ``tools/bootstrap.sh`` installs. Without it rendering fails
at once with :class:`FontMissing` rather than producing boxes in place of letters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from afiya.domain.clinical.documents import ClinicalDocument, Line
from afiya.domain.shared.i18n import Message

DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVuSans"
LABEL_WIDTH = 55.0  # mm, the label column of "label: value" lines
MARGIN = 18.0


class FontMissing(RuntimeError):
    """The fonts documents need are not installed."""


class PdfPage(FPDF):
    """A page with the footer every clinical document carries."""

    footer_text = ""
    rtl = False

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(90, 90, 90)
        page = f"{self.page_no()}/{{nb}}"
        self.set_text_shaping(use_shaping_engine=True, direction="ltr")
        self.cell(0, 5, self.footer_text, align="R" if self.rtl else "L")
        self.set_x(self.l_margin)
        self.cell(0, 5, page, align="L" if self.rtl else "R")


class FpdfDocumentRenderer:
    """:class:`~afiya.domain.clinical.ports.DocumentRenderer` producing A4 PDF files."""

    media_type = "application/pdf"

    def __init__(self, font_dir: Path = DEFAULT_FONT_DIR) -> None:
        missing = [name for name in FONT_FILES.values() if not (font_dir / name).is_file()]
        if missing:
            raise FontMissing(
                f"fonts {', '.join(missing)} not found in {font_dir}: install the Debian "
                "package fonts-dejavu-core (tools/bootstrap.sh does) or set the font directory"
            )
        self._font_dir = font_dir

    def render(self, document: ClinicalDocument, translate: Callable[[str], str]) -> bytes:
        """Render ``document`` in its language; ``translate`` maps msgids to that language."""
        pdf = PdfPage(format="A4", unit="mm")
        pdf.rtl = document.rtl
        for style, name in FONT_FILES.items():
            pdf.add_font(FAMILY, style, str(self._font_dir / name))
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_creation_date(document.issued_at)
        pdf.set_lang(document.language)
        pdf.set_title(text_of(document.title, translate))
        pdf.set_author(document.author)
        pdf.set_creator("Afiya")
        if document.rtl:
            pdf.set_text_shaping(
                use_shaping_engine=True, direction="rtl", script="arab", language="ara"
            )
        else:
            # shaping also for French documents: they carry the Arabic name
            pdf.set_text_shaping(use_shaping_engine=True)
        pdf.footer_text = document.reference
        pdf.add_page()
        document_header(pdf, document)
        page_title(pdf, text_of(document.title, translate))
        for section in document.sections:
            section_heading(pdf, text_of(section.heading, translate), document.rtl)
            for line in section.lines:
                document_line(pdf, line, translate, document.rtl)
        for note in document.notes:
            pdf.ln(2)
            pdf.set_font(FAMILY, "", 8)
            write_cell(pdf, 0, 4, text_of(note, translate), "R" if document.rtl else "L")
        signature_block(pdf, document, translate)
        return bytes(pdf.output())


def _direction(text: str) -> str:
    """The paragraph direction of ``text``: that of its first strong character.

    As HTML's ``dir="auto"``: an Arabic label reads right to left, a Latin name, a phone
    number or a date left to right even in an Arabic document (they are only aligned
    right), so that "+222 45 25 21 35" is not printed with its groups reversed.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def write_cell(
    pdf: FPDF, width: float, height: float, text: str, align: str, **options: Any
) -> None:
    """One paragraph, shaped (Arabic letters joined) and laid out in its own direction."""
    if _direction(text) == "rtl":
        pdf.set_text_shaping(
            use_shaping_engine=True, direction="rtl", script="arab", language="ara"
        )
    else:
        # shaping stays on: a Latin paragraph may still quote an Arabic name
        pdf.set_text_shaping(use_shaping_engine=True, direction="ltr")
    pdf.multi_cell(width, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT, **options)


def text_of(value: str | Message, translate: Callable[[str], str]) -> str:
    return value.render(translate) if isinstance(value, Message) else value


def document_header(pdf: FPDF, document: ClinicalDocument) -> None:
    facility = document.facility
    top = pdf.get_y()
    pdf.set_font(FAMILY, "B", 12)
    # bilingual letterhead as in Mauritanian facilities: French left, Arabic right
    pdf.set_xy(MARGIN, top)
    write_cell(pdf, pdf.epw / 2, 6, facility.name, "L")
    left_bottom = pdf.get_y()
    if facility.name_ar:
        pdf.set_xy(MARGIN + pdf.epw / 2, top)
        write_cell(pdf, pdf.epw / 2, 6, facility.name_ar, "R")
    pdf.set_y(max(left_bottom, pdf.get_y()))
    pdf.set_font(FAMILY, "", 9)
    for text in (facility.authority, facility.address, facility.phone):
        if text:
            write_cell(pdf, 0, 4.5, text, "C")
    pdf.ln(2)
    pdf.set_draw_color(40, 90, 140)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(4)


def page_title(pdf: FPDF, title: str) -> None:
    pdf.set_font(FAMILY, "B", 16)
    write_cell(pdf, 0, 9, title, "C")
    pdf.ln(2)


def section_heading(pdf: FPDF, heading: str, rtl: bool) -> None:
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 11)
    pdf.set_fill_color(228, 236, 245)
    write_cell(pdf, 0, 7, heading, "R" if rtl else "L", fill=True)
    pdf.ln(1)


def document_line(pdf: FPDF, line: Line, translate: Callable[[str], str], rtl: bool) -> None:
    value = text_of(line.value, translate)
    align = "R" if rtl else "L"
    pdf.set_font(FAMILY, "", 10)
    if line.label is None:
        write_cell(pdf, 0, 5.5, value, align)
        return
    label = text_of(line.label, translate)
    value_width = pdf.epw - LABEL_WIDTH
    # the label column sits on the reading side: left in French, right in Arabic
    label_x = pdf.w - MARGIN - LABEL_WIDTH if rtl else MARGIN
    value_x = MARGIN if rtl else MARGIN + LABEL_WIDTH
    if pdf.will_page_break(11):
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_font(FAMILY, "B", 10)
    pdf.set_xy(label_x, top)
    write_cell(pdf, LABEL_WIDTH, 5.5, label, align)
    label_bottom = pdf.get_y()
    pdf.set_font(FAMILY, "", 10)
    pdf.set_xy(value_x, top)
    write_cell(pdf, value_width, 5.5, value, align)
    pdf.set_y(max(label_bottom, pdf.get_y()))


def signature_block(pdf: FPDF, document: ClinicalDocument, translate: Callable[[str], str]) -> None:
    pdf.ln(8)
    pdf.set_font(FAMILY, "", 10)
    text = text_of(document.signature, translate)
    # the signature closes the page on the side opposite the reading start
    write_cell(pdf, 0, 5.5, text, "L" if document.rtl else "R")
