"""Budget envelopes: pro-rata scaling and a common cap, exact to the minor unit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.pbf import BudgetEnvelope, BudgetPolicy, Invoice, apply_budget
from afiya.domain.shared.money import MoneyError
from tests.unit.pbf.factories import reference_rule_set

RULES = reference_rule_set()  # MRU, payers state 70 % / world_bank 30 %


def invoice(org_unit: str, total: str, period: str = "201601") -> Invoice:
    amount = Decimal(total)
    return Invoice(
        payment_rule="payment",
        org_unit_id=org_unit,
        period=period,
        currency="MRU",
        lines=(),
        computed_total=amount,
        total=amount,
        payers=(),
        rule_set_hash="sha256:x",
    )


def totals(invoices):
    return [inv.total for inv in invoices]


class TestScale:
    def test_invoices_within_the_budget_are_untouched(self):
        invoices = (invoice("a", "100.00"), invoice("b", "50.00"))
        envelope = BudgetEnvelope("201601", Decimal(150))
        assert apply_budget(invoices, envelope, RULES) == invoices

    def test_invoices_over_the_budget_are_scaled_pro_rata_to_the_exact_budget(self):
        invoices = (invoice("a", "100.00"), invoice("b", "100.00"), invoice("c", "100.00"))
        scaled = apply_budget(invoices, BudgetEnvelope("201601", Decimal(200)), RULES)
        assert totals(scaled) == [Decimal("66.67"), Decimal("66.67"), Decimal("66.66")]
        assert sum(totals(scaled)) == 200
        assert scaled[0].computed_total == Decimal(100)
        assert scaled[0].budget_adjustment == Decimal("-33.33")

    def test_payers_are_split_again_on_the_paid_amount(self):
        scaled = apply_budget(
            (invoice("a", "100.00"), invoice("b", "300.00")),
            BudgetEnvelope("201601", Decimal("100.01")),
            RULES,
        )
        for inv in scaled:
            assert sum(p.amount for p in inv.payers) == inv.total
        assert [(p.payer, p.amount) for p in scaled[0].payers] == [
            ("state", Decimal("17.50")),
            ("world_bank", Decimal("7.50")),
        ]

    def test_other_periods_and_non_positive_invoices_are_left_alone(self):
        invoices = (
            invoice("a", "100.00"),
            invoice("b", "-20.00"),
            invoice("c", "500.00", period="201602"),
        )
        scaled = apply_budget(invoices, BudgetEnvelope("201601", Decimal(50)), RULES)
        assert totals(scaled) == [Decimal(50), Decimal("-20.00"), Decimal("500.00")]


class TestCap:
    def test_small_invoices_are_paid_in_full_and_large_ones_share_a_common_ceiling(self):
        invoices = (invoice("a", "10.00"), invoice("b", "500.00"), invoice("c", "90.00"))
        capped = apply_budget(
            invoices, BudgetEnvelope("201601", Decimal(200), BudgetPolicy.CAP), RULES
        )
        assert totals(capped) == [Decimal("10.00"), Decimal("100.00"), Decimal("90.00")]

    def test_the_ceiling_is_split_to_the_minor_unit(self):
        invoices = tuple(invoice(ou, "100.00") for ou in "abc")
        capped = apply_budget(
            invoices, BudgetEnvelope("201601", Decimal(100), BudgetPolicy.CAP), RULES
        )
        assert totals(capped) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]

    def test_a_negative_envelope_is_refused(self):
        with pytest.raises(MoneyError):
            apply_budget((invoice("a", "1"),), BudgetEnvelope("201601", Decimal(-1)), RULES)


@given(
    st.lists(st.decimals(min_value=0, max_value=10**6, places=2), min_size=1, max_size=15),
    st.decimals(min_value=0, max_value=10**6, places=2),
    st.sampled_from(list(BudgetPolicy)),
)
def test_the_budget_is_never_exceeded_and_used_exactly_when_short(amounts, budget, policy):
    invoices = tuple(invoice(f"f{i}", str(a)) for i, a in enumerate(amounts))
    paid = apply_budget(invoices, BudgetEnvelope("201601", budget, policy), RULES)
    asked = sum(amounts, Decimal(0))
    assert sum(totals(paid), Decimal(0)) == min(asked, budget)
    for before, after in zip(invoices, paid, strict=True):
        assert Decimal(0) <= after.total <= before.total
    if policy is BudgetPolicy.CAP and asked > budget:
        # Max-min fairness: a reduced invoice gets at least as much as any other invoice.
        reduced = [a.total for b, a in zip(invoices, paid, strict=True) if a.total < b.total]
        assert all(r + Decimal("0.01") >= max(totals(paid)) for r in reduced)
