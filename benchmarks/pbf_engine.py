"""Benchmark of the PBF engine at national scale; prints figures, asserts nothing.

Synthetic programme: a monthly quantity package (40 activities, 5 formulas each, tariffs
from a decision table by facility group), a quarterly quality package (20 indicators), a
district zone formula and a quarterly payment rule with an equity bonus by region and two
payers, for N facilities over 12 months. Equations are counted as hesabu counts them (one
per formula x activity x facility x period) and compared with hesabu's ~10,000 per second.

    .venv/bin/python benchmarks/pbf_engine.py                  # 3,000 facilities
    .venv/bin/python benchmarks/pbf_engine.py --facilities 200 --reference 10
"""

from __future__ import annotations

import argparse
import resource
import time
from decimal import Decimal

import numpy as np

from afiya.adapters.compute import ArrayInputs, NumpyEquationEvaluator
from afiya.domain.pbf import (
    Activity,
    DecisionTable,
    Formula,
    Frequency,
    OrgUnit,
    Package,
    PackageKind,
    PayerShare,
    PaymentRule,
    RuleSet,
    ScalarEvaluator,
    build_invoices,
    plan_calculation,
)
from afiya.domain.shared.money import MRU

HESABU_EQUATIONS_PER_SECOND = 10_000
YEAR = 2024


def rule_set(activities: int, indicators: int) -> RuleSet:
    codes = [f"q{i:02d}" for i in range(activities)]
    tariffs = "\n".join(f"*,{c},{100 + 25 * i}" for i, c in enumerate(codes))
    hospital = "\n".join(f"hospital,{c},{200 + 40 * i}" for i, c in enumerate(codes[:10]))
    quantity = Package(
        code="quantity",
        name="Quantité",
        kind=PackageKind.QUANTITY,
        frequency=Frequency.MONTHLY,
        states=("claimed", "verified", "validated"),
        activities=tuple(Activity(c, f"Indicator {c}") for c in codes),
        activity_formulas=(
            Formula(
                "difference_percentage",
                "IF(verified_is_null = 1, 0, SAFE_DIV(ABS(claimed - verified), verified) * 100)",
            ),
            Formula("qtt_percent_rule", "IF(difference_percentage <= 5, validated, 0)"),
            Formula("monthly_sanction", "IF(difference_percentage > 5, 1, 0)"),
            Formula(
                "quarterly_sanction",
                "IF(SUM(%{monthly_sanction_current_quarter_values}) > 0, 0, 1)",
            ),
            Formula("amount", "qtt_percent_rule * quarterly_sanction * tariff", money=True),
        ),
        package_formulas=(Formula("quantity_total", "SUM(%{amount_values})", money=True),),
        decision_tables=(
            DecisionTable.parse(
                "tariffs", f"in:group,in:activity_code,out:tariff\n{tariffs}\n{hospital}"
            ),
        ),
    )
    quality = Package(
        code="quality",
        name="Qualité",
        kind=PackageKind.QUALITY,
        frequency=Frequency.QUARTERLY,
        states=("obtained",),
        activities=tuple(
            Activity(f"k{i:02d}", f"Criterion {i}", {"max_score": Decimal(5 + i % 6)})
            for i in range(indicators)
        ),
        activity_formulas=(
            Formula("points", "IF(obtained_is_null = 1, 0, MIN(obtained, max_score))"),
        ),
        package_formulas=(
            Formula("quality_score", "SAFE_DIV(SUM(%{points_values}), SUM(%{max_score_values}))"),
            Formula(
                "quality_bonus",
                "SCORE_TABLE(quality_score * 100, 0, 50, 0, 50, 70, 0.1, 70, 101, 0.25, 0)",
            ),
        ),
        zone_formulas=(Formula("district_quality", "AVG(%{quality_score_values})"),),
        zone_level=3,
    )
    equity = "in:level_2,out:equity_bonus\n*,0\n" + "\n".join(
        f"r{r:02d},{Decimal(r % 4) / 10}" for r in range(0, 15, 3)
    )
    payment = PaymentRule(
        code="payment",
        name="Paiement trimestriel",
        frequency=Frequency.QUARTERLY,
        packages=("quantity", "quality"),
        formulas=(
            Formula("quantity_amount", "quantity_total", money=True),
            Formula("quality_amount", "quantity_amount * quality_bonus", money=True),
            Formula("equity_amount", "quantity_amount * equity_bonus", money=True),
            Formula(
                "total", "ROUND(quantity_amount + quality_amount + equity_amount, 2)", money=True
            ),
        ),
        amount_formula="total",
        payers=(PayerShare("state", Decimal(60)), PayerShare("donor", Decimal(40))),
        decision_tables=(DecisionTable.parse("equity", equity),),
    )
    return RuleSet(
        "national", 1, f"{YEAR}01", None, MRU, (quantity, quality), payment_rules=(payment,)
    )


def facilities(count: int) -> list[OrgUnit]:
    units = []
    for i in range(count):
        region = f"r{i % 15:02d}"
        district = f"{region}d{(i // 15) % 4}"
        group = "hospital" if i % 25 == 0 else "health_centre"
        units.append(
            OrgUnit(f"f{i:05d}", f"Facility {i}", ("mr", region, district), frozenset({group}))
        )
    return units


def inputs(
    seed: int, activities: list[str], units: list[str], months: list[str], quarters: list[str]
) -> ArrayInputs:
    rng = np.random.default_rng(seed)
    periods = months + quarters
    a, u, m, q = len(activities), len(units), len(months), len(quarters)
    shape = (a, u, m + q)
    claimed = np.full(shape, np.nan)
    claimed[:, :, :m] = rng.poisson(40.0, (a, u, m))
    verified = claimed - rng.binomial(4, 0.3, shape)
    verified[rng.random(shape) < 0.1] = np.nan
    validated = verified.copy()
    obtained = np.full(shape, np.nan)
    obtained[:, :, m:] = rng.integers(0, 11, (a, u, q))
    return ArrayInputs(
        activities,
        units,
        periods,
        {"claimed": claimed, "verified": verified, "validated": validated, "obtained": obtained},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=3000)
    parser.add_argument("--activities", type=int, default=40)
    parser.add_argument("--indicators", type=int, default=20)
    parser.add_argument("--reference", type=int, default=10, help="facilities for the scalar run")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rules = rule_set(args.activities, args.indicators)
    units = facilities(args.facilities)
    periods = [f"{YEAR}Q{q}" for q in range(1, 5)]

    start = time.perf_counter()
    plan = plan_calculation(rules, units, periods)
    planned = time.perf_counter()
    data = inputs(
        args.seed, list(plan.activities), list(plan.units), list(plan.months), list(plan.quarters)
    )
    generated = time.perf_counter()
    results = NumpyEquationEvaluator().evaluate(plan, data)
    evaluated = time.perf_counter()
    engine_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    invoices = build_invoices(plan, results)
    invoiced = time.perf_counter()

    equations = plan.equation_count
    engine = (planned - start) + (evaluated - generated)
    total = sum((inv.total for inv in invoices), Decimal(0))
    payers = sum((p.amount for inv in invoices for p in inv.payers), Decimal(0))
    print(f"facilities           {args.facilities:>14,}")
    print(f"activities           {args.activities:>14,} quantity + {args.indicators} quality")
    print(f"periods              {'12 months, 4 quarters':>14}")
    print(f"templates            {len(plan.templates):>14,}")
    print(f"equations            {equations:>14,} (formula x activity x facility x period)")
    print(f"planning             {planned - start:>14.3f} s")
    print(f"evaluation (numpy)   {evaluated - generated:>14.3f} s")
    print(f"engine total         {engine:>14.3f} s")
    hesabu = HESABU_EQUATIONS_PER_SECOND
    print(f"equations / second   {equations / engine:>14,.0f} (hesabu ~{hesabu:,})")
    print(f"speed-up vs hesabu   {equations / engine / HESABU_EQUATIONS_PER_SECOND:>14,.0f} x")
    print(f"invoices             {len(invoices):>14,} in {invoiced - evaluated:.3f} s")
    print(f"invoiced total       {total:>14,} MRU (payer parts sum: {payers == total})")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS)    {engine_peak_mb:>14,.0f} MB after evaluation")
    print(f"                     {peak_mb:>14,.0f} MB after building the invoices")

    if args.reference:
        small = units[: args.reference]
        small_plan = plan_calculation(rules, small, periods)
        small_data = inputs(
            args.seed,
            list(small_plan.activities),
            list(small_plan.units),
            list(small_plan.months),
            list(small_plan.quarters),
        )
        t0 = time.perf_counter()
        reference = ScalarEvaluator().evaluate(small_plan, small_data)
        t1 = time.perf_counter()
        fast = NumpyEquationEvaluator().evaluate(small_plan, small_data)
        same = all(reference.table(t.key) == fast.table(t.key) for t in small_plan.templates)
        n = small_plan.equation_count
        print(
            f"reference (scalar)   {n / (t1 - t0):>14,.0f} equations / s on {n:,} equations "
            f"({args.reference} facilities); identical to numpy: {same}"
        )


if __name__ == "__main__":
    main()
