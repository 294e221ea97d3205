"""Amounts printed on PDF invoices: exact to the currency's minor unit, grouped per language."""

from __future__ import annotations

from decimal import Decimal

import pytest

from afiya.adapters.documents.invoice_pdf import format_amount, format_number
from afiya.domain.shared.money import MRU, XOF


@pytest.mark.parametrize(
    ("amount", "language", "expected"),
    [
        (Decimal("98760"), "fr", "98\u202f760,00"),
        (Decimal("98760"), "en", "98,760.00"),
        (Decimal("98760"), "ar", "98,760.00"),  # Latin digits, as Mauritanian invoices
        (Decimal("1234.565"), "fr", "1\u202f234,57"),  # halves away from zero
        (Decimal("-1234.565"), "en", "-1,234.57"),
        (Decimal("0.1") + Decimal("0.2"), "en", "0.30"),
        (Decimal("1234567.891"), "en", "1,234,567.89"),
    ],
)
def test_mru_amounts_have_two_decimals(amount, language, expected):
    assert format_amount(amount, MRU, language) == expected


def test_xof_amounts_have_no_decimals():
    assert format_amount(Decimal("1234.5"), XOF, "fr") == "1\u202f235"
    assert format_amount(Decimal("1234.49"), XOF, "en") == "1,234"


def test_formula_inputs_keep_every_significant_digit():
    assert format_number("21.212121", "en") == "21.212121"
    assert format_number("80.000000", "fr") == "80"
    assert format_number("0.5", "fr") == "0,5"
