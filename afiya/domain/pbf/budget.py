"""Budget envelopes: bringing a period's invoices within what the programme can pay.

When the invoices of a period add up to more than the envelope, they are reduced so that
they add up to exactly the envelope, to the minor unit:

* ``scale`` (pro rata): every invoice keeps the same share of the total it had, rounded by
  the largest-remainder method;
* ``cap`` (a common ceiling, max-min fair): invoices below a ceiling are paid in full and
  the others are paid the ceiling, chosen so the budget is used exactly; small facilities
  are protected, large ones absorb the shortfall.

Only positive invoices take part; an invoice of zero or less is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from afiya.domain.pbf.invoices import Invoice, split_between_payers
from afiya.domain.pbf.model import BudgetEnvelope, BudgetPolicy, RuleSet
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.money import (
    Currency,
    MoneyError,
    allocate,
    from_minor_units,
    quantize,
    to_minor_units,
)


def _capped(totals: Sequence[Decimal], budget: Decimal, currency: Currency) -> list[Decimal]:
    """Water-filling: pay each ``min(total, ceiling)`` with the ceiling that spends ``budget``."""
    units = [to_minor_units(t, currency) for t in totals]
    left = to_minor_units(budget, currency)
    order = sorted(range(len(units)), key=lambda i: (units[i], i))
    paid = [0] * len(units)
    for position, i in enumerate(order):
        still = len(order) - position
        if units[i] * still <= left:  # below the ceiling: paid in full
            paid[i] = units[i]
            left -= units[i]
            continue
        # Everyone from here on is above the ceiling left / still: share what is left
        # equally, the odd units going to the earliest invoices.
        capped = order[position:]
        shares = allocate(from_minor_units(left, currency), [Decimal(1)] * still, currency)
        for j, share in zip(sorted(capped), shares, strict=True):
            paid[j] = to_minor_units(share, currency)
        break
    return [from_minor_units(p, currency) for p in paid]


def apply_budget(
    invoices: Sequence[Invoice], envelope: BudgetEnvelope, rule_set: RuleSet
) -> tuple[Invoice, ...]:
    """Apply ``envelope`` to the invoices of its period; other invoices are unchanged.

    Raises:
        MoneyError: when the envelope is negative.
    """
    currency = rule_set.currency
    budget = quantize(envelope.amount, currency)
    if budget < 0:
        raise MoneyError(Message(N_("A budget envelope cannot be negative.")))
    concerned = [
        i for i, inv in enumerate(invoices) if inv.period == envelope.period and inv.total > 0
    ]
    totals = [invoices[i].total for i in concerned]
    if sum(totals, Decimal(0)) <= budget:
        return tuple(invoices)
    if envelope.policy is BudgetPolicy.SCALE:
        new_totals = allocate(budget, totals, currency)
    else:
        new_totals = _capped(totals, budget, currency)
    rules = {rule.code: rule for rule in rule_set.payment_rules}
    adjusted = list(invoices)
    for i, total in zip(concerned, new_totals, strict=True):
        invoice = invoices[i]
        payers = split_between_payers(total, rules[invoice.payment_rule], currency)
        adjusted[i] = replace(invoice, total=total, payers=payers)
    return tuple(adjusted)
