"""Latency of the medication-safety check: prints p50/p95 for a heavy patient.

Patient: 20 active medications, 5 allergies, 10 problems, 6 recent lab results.
Orders: every product of the formulary seed in turn, with a dose, repeated ROUNDS times.
Run: ``.venv/bin/python benchmarks/safety_engine.py`` (about ten seconds).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from afiya.adapters.knowledge import YamlKnowledgeLoader
from afiya.domain.prescribing.model import (
    Age,
    AllergyFact,
    ConditionFact,
    LabFact,
    MedicationFact,
    MedicationOrderDraft,
    PatientContext,
)
from afiya.domain.prescribing.safety import check

ROUNDS = 8
AS_OF = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
MEDICATIONS = [
    "warfarin-5-tab", "enalapril-5-tab", "spironolactone-25-tab", "digoxin-250-tab",
    "amiodarone-200-tab", "simvastatin-20-tab", "metformin-1000-tab", "insulin-nph-100-inj",
    "tld-300-300-50-tab", "rhze-150-75-400-275-tab", "cotrimoxazole-800-160-tab",
    "omeprazole-20-cap", "clopidogrel-75-tab", "furosemide-40-tab", "paracetamol-500-tab",
    "ferrous-sulfate-200-tab", "calcium-carbonate-1250-tab", "fluoxetine-20-cap",
    "carbamazepine-200-tab", "lithium-300-tab",
]  # fmt: skip
ALLERGIES = [
    AllergyFact("J01C", "atc_class", "confirmed", "high"),
    AllergyFact("sulfadoxine", verification="unconfirmed", criticality="low"),
    AllergyFact("ibuprofen", verification="confirmed", criticality="low"),
    AllergyFact("ciprofloxacin", verification="presumed"),
    AllergyFact("gentamicin", verification="refuted"),
]
CONDITIONS = [
    "E11.9", "N18.4", "I10", "I50.0", "J45.9", "K74.6", "D55.0", "F32.9", "B20", "A15.0",
]  # fmt: skip
LABS = [
    ("98979-8", 24, "mL/min/1.73m2", 48),
    ("2823-3", 5.4, "mmol/L", 12),
    ("15074-8", 13.2, "mmol/L", 3),
    ("718-7", 9.8, "g/dL", 72),
    ("2160-0", 2.6, "mg/dL", 48),
    ("1975-2", 18, "umol/L", 72),
]


def main() -> None:
    started = time.perf_counter()
    loader = YamlKnowledgeLoader()
    kb = loader.load()
    formulary = loader.load_formulary()
    load_ms = (time.perf_counter() - started) * 1000

    context = PatientContext(
        as_of=AS_OF,
        age=Age.from_years(67),
        weight_kg=58,
        sex="male",
        allergies=tuple(ALLERGIES),
        conditions=tuple(ConditionFact(code) for code in CONDITIONS),
        medications=tuple(MedicationFact(product=formulary.get(code)) for code in MEDICATIONS),
        labs=tuple(
            LabFact(loinc, value, unit, AS_OF - timedelta(hours=hours))
            for loinc, value, unit, hours in LABS
        ),
    )
    rng = random.Random(7)
    orders = []
    for product in formulary:
        unit = product.ingredients[0].strength.per_unit if product.ingredients[0].strength else "mg"
        orders.append(
            MedicationOrderDraft(
                product=product,
                dose=rng.choice([1, 2, 500]),
                dose_unit=rng.choice([unit, "mg"]),
                frequency_per_day=rng.choice([1, 2, 3, 4]),
            )
        )

    cold = time.perf_counter()
    check(orders[0], context, kb)
    cold_ms = (time.perf_counter() - cold) * 1000

    timings, alert_counts = [], []
    for _ in range(ROUNDS):
        rng.shuffle(orders)
        for draft in orders:
            t0 = time.perf_counter()
            alerts = check(draft, context, kb)
            timings.append((time.perf_counter() - t0) * 1000)
            alert_counts.append(len(alerts))

    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"knowledge base {kb.release.version}: {len(kb.rules)} rules, {len(formulary)} products")
    print(f"load (YAML + validation + indexes): {load_ms:.0f} ms")
    print("patient: 20 active medications, 5 allergies, 10 problems, 6 labs")
    print(f"first check (cold product profiles): {cold_ms:.2f} ms")
    print(
        f"checks: {len(timings)}  p50 {p50:.3f} ms  p95 {p95:.3f} ms  p99 {p99:.3f} ms  "
        f"max {timings[-1]:.3f} ms"
    )
    print(f"alerts per check: mean {statistics.mean(alert_counts):.1f}, max {max(alert_counts)}")


if __name__ == "__main__":
    main()
