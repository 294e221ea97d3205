"""Discharge letters and hospitalisation reports rendered to PDF, read back as text.

The text is extracted with pypdf (and pdftotext when poppler is installed): the Arabic
letter must hold the patient's Arabic name in logical order, the French one the
diagnosis title; positions show that the Arabic layout runs right to left.
"""

from __future__ import annotations

import io
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
from pypdf import PdfReader

from afiya.adapters.documents import FontMissing, FpdfDocumentRenderer
from afiya.adapters.i18n import Translator
from afiya.adapters.icd10 import SimpleIcd10Catalogue
from afiya.domain.clinical.documents import (
    ClinicalDocument,
    build_discharge_letter,
    build_hospitalisation_report,
)
from tests.conftest import needs_fonts, needs_pdftotext
from tests.unit.clinical.factories import (
    diagnoses_for,
    died_after_transfer,
    discharged_home,
    document_input,
)

CATALOGUE = SimpleIcd10Catalogue()
ARABIC_NAME = "فاطمة بنت أحمد"

try:
    RENDERER: FpdfDocumentRenderer | None = FpdfDocumentRenderer()
except FontMissing:  # pragma: no cover - depends on the machine
    RENDERER = None


def _letter(language: str) -> ClinicalDocument:
    stay = discharged_home()
    return build_discharge_letter(document_input(stay, diagnoses_for(stay)), CATALOGUE, language)


def _render(document: ClinicalDocument) -> bytes:
    assert RENDERER is not None
    return RENDERER.render(document, Translator(document.language))


@lru_cache(maxsize=2)
def _letter_pdf(language: str) -> bytes:
    return _render(_letter(language))


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _positions(pdf: bytes) -> dict[str, tuple[float, float]]:
    """x and y of every text run on the first page, by its text."""
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            found.setdefault(text.strip(), (tm[4] * cm[0] + cm[4], tm[5]))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return found


@needs_fonts
def test_arabic_letter_holds_the_arabic_name_in_logical_order() -> None:
    pdf = _letter_pdf("ar")
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    assert ARABIC_NAME in text
    assert ARABIC_NAME[::-1] not in text  # not stored in visual (reversed) order
    assert "رسالة الخروج" in text  # the title, translated
    assert "التشخيص الرئيسي" in text  # "Primary diagnosis"
    assert "NKC-2026-000123" in text


@needs_fonts
def test_arabic_layout_runs_right_to_left() -> None:
    pdf = _letter_pdf("ar")
    where = _positions(pdf)
    page_middle = 595.28 / 2
    label_x, label_y = where["الاسم بالعربية"]  # "Name in Arabic"
    value_x, value_y = where[ARABIC_NAME]
    assert label_y == pytest.approx(value_y)  # same row
    assert label_x > page_middle and value_x < label_x  # label on the right, value to its left
    french = _positions(_letter_pdf("fr"))
    assert french["Nom"][0] < page_middle and french["Fatimata AHMED"][0] > french["Nom"][0]


@needs_fonts
def test_french_letter_holds_the_diagnosis_title_and_translated_labels() -> None:
    text = _text(_letter_pdf("fr"))
    assert "Lettre de sortie" in text
    assert "Diagnostic principal" in text
    assert "E11.9 — Type 2 diabetes mellitus without complications" in text
    assert "Essential (primary) hypertension" in text
    assert "Les libellés CIM-10 sont donnés en anglais" in text
    assert ARABIC_NAME in text  # the Arabic name also appears in the French letter
    assert "Établi le 20/03/2026 12:00 par Dr Mohamed Lemine Ould Sidi" in text


@needs_fonts
def test_report_of_a_death_in_both_languages() -> None:
    stay = died_after_transfer()
    for language, expected in (
        (
            "fr",
            [
                "Compte rendu d'hospitalisation",
                "Cause initiale du décès",
                "A41.9 — Sepsis, unspecified",
                "4 jours",
            ],
        ),
        ("ar", ["تقرير الاستشفاء", "السبب الأساسي للوفاة", "A41.9 — Sepsis, unspecified", "وفاة"]),
    ):
        document = build_hospitalisation_report(
            document_input(stay, diagnoses_for(stay)), CATALOGUE, language
        )
        text = _text(_render(document))
        for fragment in expected:
            assert fragment in text, (language, fragment)


@needs_fonts
@needs_pdftotext
def test_pdftotext_also_reads_the_arabic_name(tmp_path: Path) -> None:
    path = tmp_path / "letter.pdf"
    path.write_bytes(_letter_pdf("ar"))
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    # pdftotext wraps runs of the other direction in bidi marks: remove them to compare
    cleaned = "".join(c for c in text if c not in "\u202a\u202b\u202c\u200e\u200f")
    assert ARABIC_NAME in cleaned


def test_missing_font_fails_at_start_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FontMissing, match="fonts-dejavu-core"):
        FpdfDocumentRenderer(font_dir=tmp_path)
