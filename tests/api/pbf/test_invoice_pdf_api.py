"""PDF exports of a facility invoice and of a period's summary, read back as text: the
facility, the exact totals in the currency's minor unit, the explainer lines and the
rule-set hash, in French, English and Arabic (right to left, shaped)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from tests.api.pbf.helpers import facility_user, programme, reference_data, reference_rules
from tests.conftest import needs_fonts

URL = "/api/v1/pbf/programmes/FBR-MR"
A4_MIDDLE = 595.28 / 2

pytestmark = needs_fonts


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _positions(pdf: bytes) -> dict[str, float]:
    """x of every text run of the first page, by its text."""
    found: dict[str, float] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            found.setdefault(text.strip(), tm[4] * cm[0] + cm[4])

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return found


def _glyphs_per_character(pdf: bytes) -> dict[str, set[int]]:
    """From the fonts' ToUnicode maps: the glyph codes drawn for each character."""
    found: dict[str, set[int]] = {}
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        if "/ToUnicode" not in font:
            continue
        cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
        for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
            for glyph, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                chars = bytes.fromhex(text).decode("utf-16-be")
                for char in chars:
                    found.setdefault(char, set()).add(int(glyph, 16))
    return found


async def _computed(client, auth):
    """The reference case with a tariff of 1,234.5 MRU: January pays 80 x 1,234.5."""
    manager = await auth("demo.pbf_manager")
    verifier = await auth("demo.pbf_verifier")
    units = await programme(client, manager, rules=reference_rules(tariff="1234.5"))
    ou = units["CH-TZ"]
    await reference_data(client, manager, verifier, ou)
    computed = await client.post(f"{URL}/periods/2016Q1/compute", headers=manager)
    assert computed.status_code == 200, computed.text
    listing = await client.get(f"{URL}/periods/2016Q1/invoices", headers=manager)
    january = next(i for i in listing.json()["invoices"] if i["period"] == "201601")
    return manager, ou, january, computed.json()["rule_set_hash"]


async def _pdf(client, url, headers, language):
    response = await client.get(url, headers={**headers, "Accept-Language": language})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.headers["content-language"] == language
    assert response.content.startswith(b"%PDF-")
    return response.content


async def test_french_invoice_shows_facility_exact_totals_explainer_and_hash(client, auth):
    manager, ou, january, rule_set_hash = await _computed(client, auth)
    pdf = await _pdf(client, f"/api/v1/pbf/invoices/{january['id']}/pdf", manager, "fr")
    text = _text(pdf)
    assert "Facture FBR" in text
    assert ou["name"] in text and "CH-TZ" in text
    assert rule_set_hash in text
    assert "Total à payer" in text
    assert "98\u202f760,00 MRU" in text  # 80 x 1,234.5, to the khoum's two decimals
    assert "69\u202f132,00" in text and "29\u202f628,00" in text  # 70 % and 30 %
    # the explainer of a line: its formula as written and the expanded equation
    assert "qtt_percent_rule * quarterly_sanction * tariff" in text
    assert f"act2_amount_{ou['uid']}_201601 =" in text
    assert "Formule" in text and "Équation" in text and "Valeurs lues" in text


async def test_english_invoice_groups_amounts_the_english_way(client, auth):
    manager, _, january, rule_set_hash = await _computed(client, auth)
    text = _text(await _pdf(client, f"/api/v1/pbf/invoices/{january['id']}/pdf", manager, "en"))
    assert "PBF invoice" in text and "Total to pay" in text
    assert "98,760.00 MRU" in text
    assert "69,132.00" in text and "29,628.00" in text
    assert rule_set_hash in text


async def test_arabic_invoice_is_shaped_and_laid_out_right_to_left(client, auth):
    manager, ou, january, rule_set_hash = await _computed(client, auth)
    pdf = await _pdf(client, f"/api/v1/pbf/invoices/{january['id']}/pdf", manager, "ar")
    text = _text(pdf)
    title = "فاتورة التمويل القائم على الأداء"
    assert title in text and title[::-1] not in text  # logical order, not visual
    assert ou["name"] in text and rule_set_hash in text
    assert "98,760.00 MRU" in text
    # shaped: Arabic letters are drawn with several contextual forms (initial, medial,
    # final), so one character maps from more than one glyph; unshaped text has one each
    glyphs = _glyphs_per_character(pdf)
    arabic = {c: g for c, g in glyphs.items() if "\u0600" <= c <= "\u06ff"}
    assert arabic, "no Arabic glyphs in the PDF"
    assert any(len(g) > 1 for g in arabic.values())
    # right to left: the "Facility" label is on the right, its value to its left
    where = _positions(pdf)
    label = where["المرفق الصحي"]
    assert label > A4_MIDDLE
    assert min(x for t, x in where.items() if ou["name"] in t) < label


async def test_period_summary_lists_the_invoices_and_the_grand_total(client, auth):
    manager, ou, _, rule_set_hash = await _computed(client, auth)
    url = f"{URL}/periods/2016Q1/invoices.pdf"
    text = _text(await _pdf(client, url, manager, "fr"))
    assert "Récapitulatif du programme FBR" in text
    assert ou["name"] in text
    assert rule_set_hash in text
    for month in ("201601", "201602", "201603"):
        assert month in text
    assert "Total général" in text and "98\u202f760,00 MRU" in text
    arabic = _text(await _pdf(client, url, manager, "ar"))
    assert "المجموع العام" in arabic and "98,760.00 MRU" in arabic


async def test_an_invoice_pdf_is_refused_outside_the_callers_facilities(client, auth):
    _, _, january, _ = await _computed(client, auth)
    elsewhere = await facility_user(client, auth, "pbf.nema", "pbf_verifier", "CH-NEMA")
    response = await client.get(f"/api/v1/pbf/invoices/{january['id']}/pdf", headers=elsewhere)
    assert response.status_code == 403, response.text
    # the summary only lists what the caller may see: nothing here
    summary = await client.get(f"{URL}/periods/2016Q1/invoices.pdf", headers=elsewhere)
    assert summary.status_code == 200
    text = _text(summary.content)
    assert "CH-TZ" not in text
    assert re.search(r"Total général\s*(?<![\d\u202f])0,00 MRU", text), text
