"""The prescription (ordonnance) as a PDF, with the clinical documents' layout.

Same letterhead, labelled lines, headings, shaping of Arabic and right-to-left layout,
footer and font as :mod:`afiya.adapters.documents.pdf`, whose building blocks are reused
here; only the order of the page differs (no diagnoses, the signature block last).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from afiya.adapters.documents.pdf import (
    DEFAULT_FONT_DIR,
    FAMILY,
    FONT_FILES,
    MARGIN,
    FpdfDocumentRenderer,
    PdfPage,
    document_header,
    document_line,
    page_title,
    section_heading,
    signature_block,
    text_of,
    write_cell,
)
from afiya.domain.prescribing.documents import PrescriptionDocument


class FpdfPrescriptionRenderer:
    """:class:`~afiya.domain.prescribing.ports.PrescriptionRenderer` producing A4 PDFs."""

    media_type = "application/pdf"

    def __init__(self, font_dir: Path = DEFAULT_FONT_DIR) -> None:
        FpdfDocumentRenderer(font_dir)  # raises FontMissing, as clinical documents do
        self._font_dir = font_dir

    def render(self, document: PrescriptionDocument, translate: Callable[[str], str]) -> bytes:
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
            pdf.set_text_shaping(use_shaping_engine=True)
        pdf.footer_text = document.reference
        pdf.add_page()
        layout: Any = document  # the helpers read the same attributes as a ClinicalDocument
        document_header(pdf, layout)
        page_title(pdf, text_of(document.title, translate))
        for section in document.sections:
            section_heading(pdf, text_of(section.heading, translate), document.rtl)
            for line in section.lines:
                document_line(pdf, line, translate, document.rtl)
        for note in document.notes:
            pdf.ln(2)
            pdf.set_font(FAMILY, "", 8)
            write_cell(pdf, 0, 4, text_of(note, translate), "R" if document.rtl else "L")
        signature_block(pdf, layout, translate)
        return bytes(pdf.output())
