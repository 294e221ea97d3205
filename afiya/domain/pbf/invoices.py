"""Invoices: the output boundary, where doubles become exact Decimal amounts.

One invoice per payment rule, facility and payment period. Its lines are the values of
the money formulas and of the package and payment formulas for that facility and period;
amounts are quantized to the currency's minor unit (ROUND_HALF_UP) and the total is split
between payers so that the parts add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal

from afiya.domain.pbf.engine.plan import Plan, Scope, Template
from afiya.domain.pbf.model import PaymentRule
from afiya.domain.pbf.periods import Frequency, parse_period, quarter_of
from afiya.domain.pbf.ports import Results
from afiya.domain.shared.money import Currency, quantize, split_by_percentages

#: Doubles carry 15-17 significant digits; reading them at 15 first drops binary noise
#: (200.00000000000003 is 200, 2.6749999999999998 is 2.675) before rounding to the minor
#: unit, so ROUND_HALF_UP acts on the number the formula meant.
_SIGNIFICANT = Context(prec=15, rounding=ROUND_HALF_EVEN)


def to_decimal(value: float) -> Decimal:
    """A computed double as a Decimal of at most 15 significant digits (no negative zero)."""
    result = _SIGNIFICANT.create_decimal(repr(value))
    return Decimal(0) if result.is_zero() else result


def to_money(value: float, currency: Currency) -> Decimal:
    """A computed double as an amount, exact to the currency's minor unit."""
    return quantize(to_decimal(value), currency)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One value on an invoice: a formula of a package (or payment rule) for a period."""

    source: str  # package or payment rule code
    formula: str
    activity: str | None
    period: str
    value: Decimal
    money: bool

    @property
    def template(self) -> str:
        return f"{self.source}.{self.formula}"


@dataclass(frozen=True, slots=True)
class PayerPart:
    payer: str
    percent: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Invoice:
    """What a facility is paid under one payment rule for one period.

    ``computed_total`` is the rule's amount formula; ``total`` is what is paid once the
    budget envelope is applied (the same unless the envelope was exceeded).
    """

    payment_rule: str
    org_unit_id: str
    period: str
    currency: str
    lines: tuple[InvoiceLine, ...]
    computed_total: Decimal
    total: Decimal
    payers: tuple[PayerPart, ...]
    rule_set_hash: str
    simulated: bool = False

    @property
    def budget_adjustment(self) -> Decimal:
        return self.total - self.computed_total


def split_between_payers(
    total: Decimal, rule: PaymentRule, currency: Currency
) -> tuple[PayerPart, ...]:
    """The payers' parts of ``total``, summing exactly to it."""
    if not rule.payers:
        return ()
    parts = split_by_percentages(total, {p.payer: p.percent for p in rule.payers}, currency)
    return tuple(PayerPart(p.payer, p.percent, parts[p.payer]) for p in rule.payers)


def _invoice_periods(plan: Plan, frequency: Frequency) -> list[str]:
    periods: dict[str, None] = {}
    for code in plan.periods:
        period = parse_period(code)
        if frequency is Frequency.QUARTERLY:
            periods[quarter_of(period).code] = None
        else:
            periods.update(dict.fromkeys(period.months()))
    return list(periods)


def _within(template: Template, invoice_period: str) -> list[int]:
    """Positions of the template's periods that belong on an invoice for ``invoice_period``."""
    wanted = parse_period(invoice_period)
    return [
        i
        for i, code in enumerate(template.periods)
        if wanted.contains(parse_period(code)) or parse_period(code).contains(wanted)
    ]


def _shown(template: Template) -> bool:
    return template.formula.money or template.scope in (Scope.PACKAGE, Scope.PAYMENT)


def build_invoices(plan: Plan, results: Results, *, simulated: bool = False) -> tuple[Invoice, ...]:
    """Assemble the invoices of every payment rule of the plan for the requested periods."""
    currency = plan.currency
    tables = {t.key: results.table(t.key) for t in plan.templates if _shown(t)}
    positions = {
        t.rows: {rid: i for i, rid in enumerate(plan.row_sets[t.rows])} for t in plan.templates
    }

    # Amounts repeat a lot (zeros, quantity x tariff): convert each distinct double once.
    amounts: dict[float, Decimal] = {}
    numbers: dict[float, Decimal] = {}

    def line(template: Template, a: int, row: int, p: int) -> InvoiceLine:
        raw = tables[template.key][a][row][p]
        memo = amounts if template.formula.money else numbers
        value = memo.get(raw)
        if value is None:
            value = to_money(raw, currency) if template.formula.money else to_decimal(raw)
            memo[raw] = value
        activity = template.activities[a] if template.activities else None
        return InvoiceLine(
            template.owner,
            template.formula.code,
            activity,
            template.periods[p],
            value,
            template.formula.money,
        )

    invoices: list[Invoice] = []
    for rule in plan.rule_set.payment_rules:
        owners = (*rule.packages, rule.code)
        templates = [t for t in plan.templates if t.owner in owners and _shown(t)]
        templates = [t for t in templates if t.scope is not Scope.ZONE]
        amount = next(t for t in templates if t.key == f"{rule.code}.{rule.amount_formula}")
        for period in _invoice_periods(plan, rule.frequency):
            columns = {t.key: _within(t, period) for t in templates}
            for org_unit in plan.row_sets[f"rule:{rule.code}"]:
                lines: list[InvoiceLine] = []
                for t in templates:
                    row = positions[t.rows].get(org_unit, -1)
                    if row < 0:
                        continue
                    for a in range(t.activity_count):
                        lines.extend(line(t, a, row, p) for p in columns[t.key])
                row = positions[amount.rows][org_unit]
                total = to_money(tables[amount.key][0][row][amount.periods.index(period)], currency)
                invoices.append(
                    Invoice(
                        payment_rule=rule.code,
                        org_unit_id=org_unit,
                        period=period,
                        currency=currency.code,
                        lines=tuple(lines),
                        computed_total=total,
                        total=total,
                        payers=split_between_payers(total, rule, currency),
                        rule_set_hash=plan.rule_set_hash,
                        simulated=simulated,
                    )
                )
    return tuple(invoices)
