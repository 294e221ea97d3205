"""Identity matching throughput and blocking quality on a synthetic Sahel population.

Prints: names normalised per second (Latin and Arabic script), phonetic keys per second,
records prepared per second, pairs scored per second (prepared and raw), and for a
population with injected duplicates: how many candidate pairs blocking keeps, and how
many true duplicates it keeps (pair completeness). Sizes are bounded; run it once:

    .venv/bin/python benchmarks/patients_matching.py
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import combinations

from afiya.domain.patients.matching import (
    MatchDecision,
    PersonTraits,
    blocking_keys,
    prepare,
    score_pair,
)
from afiya.domain.patients.names import (
    NAME_VARIANTS,
    compare_name_tokens,
    normalize_name,
    phonetic_key,
)

SEED = 20251123
POPULATION = 3_000
DUPLICATES = 300
PAIRS = 20_000
ARABIC_NAMES = 2_000

# fmt: off
MALE = ["Mohamed", "Ahmed", "Sidi", "Cheikh", "Abdallahi", "Brahim", "Moctar", "Oumar",
        "Moussa", "Mamadou", "Amadou", "Boubacar", "Ousmane", "Yacoub", "Tijani", "Salem",
        "Lemine", "Hassan", "Ismail", "Souleymane", "Mahmoud", "Youssouf", "Bilal", "Ely"]
FEMALE = ["Fatimetou", "Aminetou", "Mariem", "Khadijetou", "Aicha", "Zeinebou", "Hawa",
          "Salka", "Mounina", "Vatma", "Lalla", "Oumou", "Coumba", "Kadiatou", "Selma"]
FATHERS = [*MALE, "Bamba", "Boye", "Daddah", "Sidina", "Bellal", "Mbareck", "Abeid", "Taleb"]
SURNAMES = ["Traoré", "Diallo", "Coulibaly", "Keïta", "Diarra", "Touré", "Koné", "Sow", "Ba",
            "Sy", "Camara", "Cissé", "Maïga", "Sangaré", "Kane", "Diop", "Ndiaye", "Issoufou"]
REGIONS = ["Nouakchott Nord", "Trarza", "Brakna", "Gorgol", "Assaba", "Hodh Ech Chargui"]
ARABIC = {"Mohamed": "محمد", "Ahmed": "أحمد", "Sidi": "سيدي", "Fatimetou": "فاطمة",
          "Mariem": "مريم", "Moussa": "موسى", "Cheikh": "الشيخ", "Brahim": "إبراهيم"}
# fmt: on


def _variant(name: str, rng: random.Random) -> str:
    for variants in NAME_VARIANTS.values():
        if name.lower() in variants:
            return rng.choice(sorted(variants)).capitalize()
    return name


def _person(rng: random.Random) -> PersonTraits:
    female = rng.random() < 0.5
    given = rng.choice(FEMALE if female else MALE)
    if rng.random() < 0.6:  # Mauritanian filiation, sometimes written in Arabic
        father = rng.choice(FATHERS)
        family = f"{'Mint' if female else 'Ould'} {father}"
        if rng.random() < 0.3 and given in ARABIC and father in ARABIC:
            given, family = ARABIC[given], f"{'بنت' if female else 'ولد'} {ARABIC[father]}"
    else:
        family = rng.choice(SURNAMES)
    estimated = rng.random() < 0.4
    return PersonTraits(
        given_names=given,
        family_name=family,
        sex="female" if female else "male",
        birth_year=rng.randint(1940, 2024),
        birth_year_estimated=estimated,
        phone_key=f"p{rng.randint(0, POPULATION // 2)}" if rng.random() < 0.7 else None,
        phone_shared=rng.random() < 0.3,
        region=rng.choice(REGIONS),
    )


def _duplicate(person: PersonTraits, rng: random.Random) -> PersonTraits:
    """The same person registered again: other spellings, a year off, maybe no phone."""
    given = " ".join(_variant(t, rng) for t in person.given_names.split())
    family = " ".join(_variant(t, rng) for t in person.family_name.split())
    family = family.replace("Ould ", rng.choice(["Ould ", "O. ", ""]))
    year = person.birth_year
    if year is not None and person.birth_year_estimated:
        year += rng.randint(-2, 2)
    return replace(
        person,
        given_names=given,
        family_name=family,
        birth_year=year,
        phone_key=person.phone_key if rng.random() < 0.7 else None,
    )


def _rate(label: str, count: int, work: Callable[[], object]) -> None:
    start = time.perf_counter()
    work()
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {count:>7} in {elapsed:6.3f} s = {count / elapsed:>10,.0f} /s")


def _blocking(records: Sequence[PersonTraits], truth: set[frozenset[int]]) -> None:
    index: dict[str, list[int]] = defaultdict(list)
    start = time.perf_counter()
    for i, record in enumerate(records):
        for key in blocking_keys(record):
            index[key].append(i)
    elapsed = time.perf_counter() - start
    candidates: set[frozenset[int]] = set()
    for ids in index.values():
        candidates.update(frozenset(pair) for pair in combinations(ids, 2))
    all_pairs = len(records) * (len(records) - 1) // 2
    kept = len(truth & candidates)
    print(f"{'blocking keys computed':<44} {len(records):>7} in {elapsed:6.3f} s")
    print(
        f"blocking: {len(candidates):,} candidate pairs of {all_pairs:,}"
        f" ({100 * len(candidates) / all_pairs:.2f}%), {len(index):,} distinct keys,"
        f" true duplicates kept {kept}/{len(truth)} ({100 * kept / len(truth):.1f}%)"
    )
    flagged = found = 0
    start = time.perf_counter()
    prepared = [prepare(r) for r in records]
    for pair in candidates:
        i, j = sorted(pair)
        if score_pair(prepared[i], prepared[j]).decision is not MatchDecision.NON_MATCH:
            flagged += 1
            found += pair in truth
    elapsed = time.perf_counter() - start
    print(
        f"scoring the candidates: {elapsed:.2f} s; flagged {flagged}, of which true"
        f" duplicates {found} (recall {100 * found / len(truth):.1f}%,"
        f" precision {100 * found / max(flagged, 1):.1f}% on a synthetic population"
        " where many people share common names)"
    )


def main() -> None:
    rng = random.Random(SEED)
    people = [_person(rng) for _ in range(POPULATION)]
    names = [f"{p.given_names} {p.family_name}" for p in people]
    arabic_words = [*ARABIC.values(), "سيدينا", "بوه", "عبد الودود", "الأمين", "خديجة", "حواء"]
    arabic = [
        f"{rng.choice(arabic_words)} {rng.choice(['ولد', 'بنت', 'منت'])} {rng.choice(arabic_words)}"
        for _ in range(ARABIC_NAMES)
    ]
    tokens = [t for n in names for t in normalize_name(n).split()]
    print(f"population {POPULATION}; separate sample of {ARABIC_NAMES} names in Arabic script")
    _rate(
        "normalize_name (Latin script, some Arabic)",
        len(names),
        lambda: [normalize_name(n) for n in names],
    )
    _rate(
        "normalize_name (Arabic script only)",
        len(arabic),
        lambda: [normalize_name(n) for n in arabic],
    )
    _rate("phonetic_key", len(tokens), lambda: [phonetic_key(t) for t in tokens])
    _rate(
        "prepare (normalise + filiation + birth)", len(people), lambda: [prepare(p) for p in people]
    )

    prepared = [prepare(p) for p in people]
    pairs = [(rng.randrange(POPULATION), rng.randrange(POPULATION)) for _ in range(PAIRS)]
    compare_name_tokens.cache_clear()
    _rate(
        "score_pair, prepared, cold token cache",
        PAIRS,
        lambda: [score_pair(prepared[i], prepared[j]) for i, j in pairs],
    )
    _rate(
        "score_pair, prepared, warm token cache",
        PAIRS,
        lambda: [score_pair(prepared[i], prepared[j]) for i, j in pairs],
    )
    raw = pairs[: PAIRS // 4]
    _rate(
        "score_pair, raw traits (prepares each time)",
        len(raw),
        lambda: [score_pair(people[i], people[j]) for i, j in raw],
    )

    originals = rng.sample(range(POPULATION), DUPLICATES)
    records = people + [_duplicate(people[i], rng) for i in originals]
    truth = {frozenset((i, POPULATION + k)) for k, i in enumerate(originals)}
    print(f"\nblocking on {len(records)} records with {DUPLICATES} injected duplicates")
    _blocking(records, truth)


if __name__ == "__main__":
    main()
