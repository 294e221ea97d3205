"""Throughput of the clinical record's pure rules and of PDF rendering.

Prints: vital-sign rounds validated per second (6 readings each, with unit conversion),
lab results flagged per second (range selection by sex and age), ICD-10 codes validated
per second (the shipped WHO list), timeline pages merged from 8 sources for a patient
with 5,000 events (first page and a page deep in the history, by cursor), and PDF
discharge letters rendered per second in French and Arabic. Sizes are bounded; run once:

    .venv/bin/python benchmarks/clinical_rules.py
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from afiya.adapters.documents import FpdfDocumentRenderer
from afiya.adapters.i18n import Translator
from afiya.adapters.icd10 import SimpleIcd10Catalogue
from afiya.domain.clinical.documents import ClinicalDocument, build_discharge_letter
from afiya.domain.clinical.icd10 import check_code
from afiya.domain.clinical.measurements import Reading, record_observations
from afiya.domain.clinical.results import LabResult, ReferenceRange, ResultStatus, record_result
from afiya.domain.clinical.timeline import ItemType, item, make_query, merge, order
from afiya.domain.shared.i18n import Message
from afiya.domain.shared.ids import uuid7
from tests.unit.clinical.factories import (
    DOCTOR,
    NOW,
    PATIENT,
    T0,
    diagnoses_for,
    discharged_home,
    document_input,
)

SEED = 20260320
ROUNDS = 5_000
RESULTS = 20_000
CODES = 20_000
EVENTS = 5_000
PAGES = 200
LETTERS = 10


def _rate(label: str, count: int, run: Callable[[], None]) -> None:
    start = time.perf_counter()
    run()
    elapsed = time.perf_counter() - start
    print(f"{label:<58} {count / elapsed:>12,.0f} /s  ({count:,} in {elapsed:.2f} s)")


def vitals() -> None:
    rng = random.Random(SEED)
    rounds = [
        [
            Reading("temperature", str(round(rng.uniform(96, 104), 1)), "[degF]"),
            Reading("pulse", rng.randint(50, 140)),
            Reading("respiratory_rate", rng.randint(12, 40)),
            Reading("systolic", rng.randint(100, 180)),
            Reading("diastolic", rng.randint(50, 95)),
            Reading("weight", str(round(rng.uniform(100, 220), 1)), "[lb_av]"),
        ]
        for _ in range(ROUNDS)
    ]
    ids = [uuid7() for _ in range(6)]

    def run() -> None:
        for readings in rounds:
            record_observations(
                readings,
                ids=ids,
                patient_id=PATIENT,
                encounter_id=None,
                effective_at=T0,
                recorded_by=DOCTOR,
                now=NOW,
            )

    _rate("vital-sign rounds (6 readings, 2 conversions)", ROUNDS, run)


def results() -> None:
    rng = random.Random(SEED)
    ranges = (
        ReferenceRange("g/dL", Decimal(12), Decimal(16), Decimal(5), Decimal(20)),
        ReferenceRange("g/dL", Decimal(13), Decimal(17), Decimal(5), Decimal(20), sex="male"),
        ReferenceRange(
            "g/dL",
            Decimal(11),
            Decimal(14),
            Decimal(5),
            Decimal(20),
            age_from_days=183,
            age_to_days=1826,
        ),
        ReferenceRange("g/dL", Decimal(14), Decimal(22), Decimal(9), Decimal(25), age_to_days=29),
    )
    base = LabResult(
        uuid7(), PATIENT, None, "718-7", "Hb", ResultStatus.FINAL, T0, T0, DOCTOR, unit="g/dL"
    )
    cases = [
        (
            replace(base, value=Decimal(rng.randint(30, 190)) / 10),
            rng.choice(["female", "male"]),
            rng.randint(0, 30_000),
        )
        for _ in range(RESULTS)
    ]
    critical = 0

    def run() -> None:
        nonlocal critical
        for result, sex, age in cases:
            if record_result(result, ranges=ranges, sex=sex, age_days=age, now=NOW)[1] is not None:  # type: ignore[arg-type]
                critical += 1

    _rate("lab results flagged (4 ranges by sex and age)", RESULTS, run)
    print(f"{'  of which critical':<58} {critical:>12,}")


def icd10() -> None:
    catalogue = SimpleIcd10Catalogue()
    rng = random.Random(SEED)
    pool = [c for c, _ in catalogue.search("", limit=20_000)]
    typed = [rng.choice(pool).replace(".", "").lower() for _ in range(CODES)]

    def run() -> None:
        for code in typed:
            check_code("code", code, catalogue)

    _rate(f"ICD-10 codes validated (WHO list of {len(pool):,} codes)", CODES, run)


def timeline() -> None:
    rng = random.Random(SEED)
    types = list(ItemType)[:8]
    items = [
        item(
            types[i % 8],
            uuid7(),
            T0 - timedelta(minutes=rng.randrange(5 * 365 * 24 * 60)),
            Message("x"),
        )
        for i in range(EVENTS)
    ]
    sources = [order([e for e in items if e.type is t]) for t in types]
    first = merge(sources, make_query(limit=50))
    cursor = first.next_cursor
    deep = None
    for _ in range(60):  # page 61: 3,000 items in
        deep = merge(sources, make_query(limit=50, cursor=cursor))
        cursor = deep.next_cursor
    assert deep is not None
    assert cursor is not None

    def timed(query_cursor: str | None) -> list[float]:
        samples = []
        for _ in range(PAGES):
            start = time.perf_counter()
            merge(sources, make_query(limit=50, cursor=query_cursor))
            samples.append((time.perf_counter() - start) * 1000)
        return samples

    for label, query_cursor in (("first page", None), ("page 62 (by cursor)", cursor)):
        samples = sorted(timed(query_cursor))
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(
            f"{'timeline merge, 5,000 events in memory, ' + label:<58} "
            f"median {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms"
        )


def documents() -> None:
    renderer = FpdfDocumentRenderer()
    catalogue = SimpleIcd10Catalogue()
    stay = discharged_home()
    data = document_input(stay, diagnoses_for(stay))
    for language in ("fr", "ar"):
        letter = build_discharge_letter(data, catalogue, language)
        translate = Translator(language)
        size = 0

        def run(letter: ClinicalDocument = letter, translate: Translator = translate) -> None:
            nonlocal size
            for _ in range(LETTERS):
                size = len(renderer.render(letter, translate))

        _rate(f"discharge letters rendered to PDF ({language})", LETTERS, run)
        print(f"{'  PDF size':<58} {size:>12,} bytes")


if __name__ == "__main__":
    vitals()
    results()
    icd10()
    timeline()
    documents()
