"""Money: minor units, ROUND_HALF_UP, exact splits (afiya.domain.shared.money)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.shared.money import (
    MRU,
    XOF,
    Money,
    MoneyError,
    allocate,
    currency,
    quantize,
    split_by_percentages,
)


class TestQuantize:
    @pytest.mark.parametrize(
        ("amount", "money", "expected"),
        [
            ("2.675", MRU, "2.68"),
            ("2.665", MRU, "2.67"),  # half up, not half even
            ("-2.675", MRU, "-2.68"),  # halves away from zero
            ("1500.5", XOF, "1501"),
            ("1499.49", XOF, "1499"),
            ("-0.004", MRU, "0.00"),  # no negative zero on an invoice
        ],
    )
    def test_rounds_half_up_to_the_minor_unit(self, amount, money, expected):
        result = quantize(Decimal(amount), money)
        assert result == Decimal(expected)
        assert str(result) == expected

    def test_currencies_are_looked_up_by_code(self):
        assert currency("mru") is MRU
        assert XOF.quantum == Decimal(1)
        with pytest.raises(MoneyError):
            currency("EUR")


class TestAllocate:
    def test_the_odd_units_go_to_the_largest_remainders(self):
        assert allocate(Decimal("100.00"), [Decimal(1)] * 3, MRU) == [
            Decimal("33.34"),
            Decimal("33.33"),
            Decimal("33.33"),
        ]
        assert allocate(Decimal(10), [Decimal(1), Decimal(2), Decimal(3)], XOF) == [
            Decimal(2),  # 1.67
            Decimal(3),  # 3.33
            Decimal(5),  # 5.00
        ]

    def test_negative_amounts_split_symmetrically(self):
        assert allocate(Decimal(-10), [Decimal(1)] * 3, XOF) == [
            Decimal(-4),
            Decimal(-3),
            Decimal(-3),
        ]

    def test_zero_weights_get_nothing(self):
        assert allocate(Decimal(7), [Decimal(0), Decimal(1)], XOF) == [Decimal(0), Decimal(7)]

    @pytest.mark.parametrize("weights", [[], [Decimal(0)], [Decimal(1), Decimal(-1)]])
    def test_impossible_splits_are_errors(self, weights):
        with pytest.raises(MoneyError):
            allocate(Decimal(1), weights, XOF)


class TestPayerSplit:
    def test_payers_parts_sum_exactly_to_the_total(self):
        parts = split_by_percentages(
            Decimal("1000.01"),
            {"state": Decimal("33.33"), "world_bank": Decimal("33.33"), "gavi": Decimal("33.34")},
            MRU,
        )
        assert sum(parts.values()) == Decimal("1000.01")
        assert parts == {
            "state": Decimal("333.30"),
            "world_bank": Decimal("333.30"),
            "gavi": Decimal("333.41"),
        }

    def test_percentages_must_add_up_to_100(self):
        with pytest.raises(MoneyError) as caught:
            split_by_percentages(Decimal(100), {"a": Decimal(60), "b": Decimal(30)}, XOF)
        assert caught.value.code == "percentages_not_100"


class TestMoney:
    def test_arithmetic_in_one_currency(self):
        total = Money.of("10.005", MRU) + Money.of(5, MRU) - Money.of("0.01", MRU)
        assert total == Money(Decimal("15.00"), MRU)
        assert str(-total) == "-15.00 MRU"

    def test_currencies_do_not_mix_and_amounts_stay_quantized(self):
        with pytest.raises(MoneyError):
            Money.of(1, MRU) + Money.of(1, XOF)
        with pytest.raises(MoneyError):
            Money(Decimal("1.5"), XOF)


amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=2)
weights = st.lists(st.decimals(min_value=0, max_value=10**6, places=3), min_size=1, max_size=12)


@given(amounts, weights, st.sampled_from([MRU, XOF]))
def test_parts_sum_exactly_and_stay_within_one_unit_of_the_exact_share(total, shares, money):
    if sum(shares) == 0:
        shares = [*shares, Decimal(1)]
    parts = allocate(total, shares, money)
    exact_total = quantize(total, money)
    assert sum(parts, Decimal(0)) == exact_total
    weight = sum(Fraction(s) for s in shares)
    for part, share in zip(parts, shares, strict=True):
        assert quantize(part, money) == part
        exact = Fraction(exact_total) * Fraction(share) / weight
        assert abs(Fraction(part) - exact) < Fraction(money.quantum)


@given(amounts, st.lists(st.integers(0, 100), min_size=1, max_size=5))
def test_payer_parts_always_sum_to_the_invoice(total, raw):
    if sum(raw) == 0:
        raw = [*raw, 1]
    # Percentages with two decimals adding up to exactly 100.
    scaled = allocate(Decimal(100), [Decimal(r) for r in raw], MRU)
    parts = split_by_percentages(total, {f"p{i}": s for i, s in enumerate(scaled)}, MRU)
    assert sum(parts.values(), Decimal(0)) == quantize(total, MRU)
