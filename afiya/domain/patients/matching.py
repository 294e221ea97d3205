"""Probabilistic identity matching of two patients (Fellegi–Sunter), and blocking keys.

Each compared trait adds a weight: log2(m/u), where m is how often true duplicates agree
that way and u how often two different people do. The weights are summed with the prior
log-odds and turned into a probability that both records are the same person. Every
weight comes with a reason a registration clerk can read ("names sound alike: Mouhamed ≈
Mohamed"). Weights and thresholds are parameters; the defaults, and why, are in
docs/adr/0102-patient-matching.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from itertools import combinations
from typing import Literal, NamedTuple

from afiya.domain.patients.names import (
    MINT,
    OULD,
    PARTICLES,
    NameAgreement,
    canonical_name,
    compare_name_tokens,
    is_common_name,
    name_tokens,
    normalize_name,
    phonetic_key,
)
from afiya.domain.shared.i18n import N_, Message

Sex = Literal["female", "male", "other", "unknown"]


@dataclass(frozen=True, slots=True)
class PersonTraits:
    """What identity matching needs to know about one person.

    Attributes:
        given_names: given name(s) as typed, any script.
        family_name: family name or "Ould X" / "Mint X" filiation, as typed.
        sex: administrative sex; ``other``/``unknown`` are not compared.
        birth_date: date of birth; with ``birth_year_estimated`` only its year counts
            (placeholders such as 1 January).
        birth_year: year of birth when no date is known.
        birth_year_estimated: the year is a guess ("about 1980"): tolerance widens.
        phone_key: normalised phone number or, better, its keyed blind index.
        phone_shared: the number is known to serve several people (a family phone).
        national_id_key: NNI (or its blind index); only equality is used.
        region: wilaya / region name or code.
        district: moughataa / cercle / department name or code.
    """

    given_names: str = ""
    family_name: str = ""
    sex: Sex | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    birth_year_estimated: bool = False
    phone_key: str | None = None
    phone_shared: bool = False
    national_id_key: str | None = None
    region: str | None = None
    district: str | None = None


class MatchDecision(StrEnum):
    MATCH = "match"
    POSSIBLE = "possible"
    NON_MATCH = "non_match"


@dataclass(frozen=True, slots=True)
class MatchReason:
    """One piece of evidence: a stable ``code``, text for the clerk, and its weight (bits)."""

    code: str
    message: Message
    weight: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Probability that two records are one person, the decision, and the evidence."""

    score: float
    decision: MatchDecision
    reasons: tuple[MatchReason, ...]
    certain: bool = False


@dataclass(frozen=True, slots=True)
class MatchWeights:
    """Evidence weights in bits (log2 of m/u), and the prior log-odds of a match."""

    prior_log2: float = -10.0
    name_exact: float = 6.0
    name_exact_common: float = 2.5
    name_variant: float = 4.5
    name_variant_common: float = 2.0
    name_phonetic: float = 4.0
    name_phonetic_common: float = 2.0
    name_phonetic_short: float = 0.5
    name_similar: float = 1.5
    name_similar_common: float = 0.0
    name_different: float = -4.5
    name_distinct: float = -5.5
    name_missing: float = -0.5
    name_missing_max: int = 2
    patronym_reversed: float = -6.0
    filiation_differs: float = -2.0
    birth_date_same: float = 7.0
    birth_date_swapped: float = 3.0
    birth_date_same_year: float = 1.0
    birth_year_same: float = 4.0
    birth_year_same_estimated: float = 3.0
    birth_year_within_tolerance: float = 2.5
    birth_year_one_apart: float = -1.0
    birth_year_near_estimated: float = -2.0
    birth_year_far: float = -5.0
    estimated_tolerance_years: int = 2
    sex_same: float = 1.0
    sex_differs: float = -6.0
    phone_same: float = 5.0
    phone_same_shared: float = 1.0
    phone_differs: float = -0.5
    nni_same: float = 20.0
    nni_differs: float = -10.0
    address_same_district: float = 1.0
    address_same_region: float = 0.3
    address_differs: float = -0.5
    similar_threshold: float = 0.9


@dataclass(frozen=True, slots=True)
class MatchThresholds:
    """Decision cut-offs on the score: ``match`` >= 0.9 (about 13 bits of net evidence
    at the default prior), ``possible`` >= 0.2 (about 8 bits): clerk review."""

    match: float = 0.9
    possible: float = 0.2


DEFAULT_WEIGHTS = MatchWeights()
DEFAULT_THRESHOLDS = MatchThresholds()


@dataclass(frozen=True, slots=True)
class PreparedTraits:
    """Traits with names normalised and keyed once, for scoring against many candidates."""

    traits: PersonTraits
    tokens: tuple[str, ...]
    given: str | None
    filiation: str | None
    patronym: str | None
    birth_year: int | None
    exact_birth_date: date | None
    region: str
    district: str


@lru_cache(maxsize=65536)  # names repeat a lot in a registry; pure function
def _prepare_names(
    given_names: str, family_name: str
) -> tuple[tuple[str, ...], str | None, str | None, str | None]:
    """Core tokens, first given name, filiation particle and patronym of a name."""
    given_tokens = name_tokens(given_names, keep_particles=False)
    all_tokens = name_tokens(given_names, family_name)
    filiation = patronym = None
    for i, token in enumerate(all_tokens[:-1]):
        if token in (OULD, MINT) and all_tokens[i + 1] not in PARTICLES:
            filiation, patronym = token, all_tokens[i + 1]
            break
    core = tuple(t for t in all_tokens if t not in PARTICLES)
    return core, given_tokens[0] if given_tokens else None, filiation, patronym


def prepare(traits: PersonTraits) -> PreparedTraits:
    """Normalise a person's names and birth data once (see :func:`score_pair`)."""
    core, given, filiation, patronym = _prepare_names(traits.given_names, traits.family_name)
    exact = None if traits.birth_year_estimated else traits.birth_date
    year = traits.birth_date.year if traits.birth_date else traits.birth_year
    return PreparedTraits(
        traits=traits,
        tokens=core,
        given=given if given else (core[0] if core else None),
        filiation=filiation,
        patronym=patronym,
        birth_year=year,
        exact_birth_date=exact,
        region=normalize_name(traits.region or ""),
        district=normalize_name(traits.district or ""),
    )


def _display(token: str) -> str:
    return token.capitalize()


def _reason(code: str, msgid: str, weight: float, /, **params: object) -> MatchReason:
    return MatchReason(code, Message(msgid, params), weight)


def _token_weight(a: str, b: str, level: NameAgreement, w: MatchWeights) -> float:
    common = is_common_name(a) or is_common_name(b)
    if level is NameAgreement.EXACT:
        return w.name_exact_common if common else w.name_exact
    if level is NameAgreement.VARIANT:
        return w.name_variant_common if common else w.name_variant
    if level is NameAgreement.PHONETIC:
        if len(phonetic_key(a)) <= 2:  # one consonant: too many names share it
            return w.name_phonetic_short
        return w.name_phonetic_common if common else w.name_phonetic
    if level is NameAgreement.SIMILAR:
        return w.name_similar_common if common else w.name_similar
    return w.name_distinct if level is NameAgreement.DISTINCT else w.name_different


_NAME_REASONS = {
    NameAgreement.EXACT: ("name_same", N_("same name: {name}")),
    NameAgreement.VARIANT: ("name_variant", N_("known forms of one name: {a} ≈ {b}")),
    NameAgreement.PHONETIC: ("name_phonetic", N_("names sound alike: {a} ≈ {b}")),
    NameAgreement.SIMILAR: ("name_similar", N_("names are spelled alike: {a} ≈ {b}")),
    NameAgreement.DIFFERENT: ("name_different", N_("names differ: {a} / {b}")),
    NameAgreement.DISTINCT: ("name_distinct", N_("different names that sound alike: {a} / {b}")),
}


class _Names(NamedTuple):
    """What the name evidence depends on (a cache key: names repeat across a registry)."""

    tokens: tuple[str, ...]
    given: str | None
    filiation: str | None
    patronym: str | None
    sex_known: bool


def _names(p: PreparedTraits) -> _Names:
    return _Names(p.tokens, p.given, p.filiation, p.patronym, p.traits.sex in ("female", "male"))


def _name_reasons(a: PreparedTraits, b: PreparedTraits, w: MatchWeights) -> list[MatchReason]:
    return list(_name_evidence(_names(a), _names(b), w))


@lru_cache(maxsize=1 << 16)
def _name_evidence(a: _Names, b: _Names, w: MatchWeights) -> tuple[MatchReason, ...]:
    pairs = []
    for i, x in enumerate(a.tokens):
        for j, y in enumerate(b.tokens):
            level = compare_name_tokens(x, y, w.similar_threshold)
            # Greedy alignment, best evidence first; ties are broken on the unordered token
            # pair so that scoring (a, b) and (b, a) aligns tokens of equal weights.
            weight = _token_weight(x, y, level, w)
            pairs.append((-weight, min(x, y), max(x, y), i, j, level))
    pairs.sort(key=lambda p: p[:3])
    used_a: set[int] = set()
    used_b: set[int] = set()
    reasons: list[MatchReason] = []
    for neg_weight, _, _, i, j, level in pairs:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        x, y = a.tokens[i], b.tokens[j]
        shown = level
        if level is NameAgreement.VARIANT and phonetic_key(x) == phonetic_key(y):
            shown = NameAgreement.PHONETIC  # "sound alike" reads better than "known forms"
        code, msgid = _NAME_REASONS[shown]
        if x == y:
            reasons.append(_reason(code, msgid, -neg_weight, name=_display(x)))
        else:
            reasons.append(_reason(code, msgid, -neg_weight, a=_display(x), b=_display(y)))
    unaligned = [t for i, t in enumerate(a.tokens) if i not in used_a]
    unaligned += [t for j, t in enumerate(b.tokens) if j not in used_b]
    for token in sorted(unaligned)[: w.name_missing_max]:
        msgid = N_("name {name} is in only one record")
        reasons.append(_reason("name_missing", msgid, w.name_missing, name=_display(token)))
    reasons.extend(_filiation_reasons(a, b, w))
    return tuple(reasons)


def _alike(x: str | None, y: str | None, w: MatchWeights) -> bool:
    return (
        x is not None
        and y is not None
        and compare_name_tokens(x, y, w.similar_threshold) >= NameAgreement.PHONETIC
    )


def _both_sexes_known(a: PersonTraits, b: PersonTraits) -> bool:
    return a.sex in ("female", "male") and b.sex in ("female", "male")


def _filiation_reasons(a: _Names, b: _Names, w: MatchWeights) -> list[MatchReason]:
    out: list[MatchReason] = []
    if (
        a.patronym
        and b.patronym
        and not _alike(a.patronym, b.patronym, w)
        and _alike(a.given, b.patronym, w)
        and _alike(b.given, a.patronym, w)
    ):
        # "Mohamed Ould Ahmed" and "Ahmed Ould Mohamed": same tokens, but a father and
        # son (or a grandson named after his grandfather), not one person.
        msgid = N_("given name and father's name are swapped ({a} / {b}): perhaps parent and child")
        names = sorted((_display(a.given or ""), _display(b.given or "")))
        out.append(_reason("patronym_reversed", msgid, w.patronym_reversed, a=names[0], b=names[1]))
    if (
        a.filiation
        and b.filiation
        and a.filiation != b.filiation
        and not (a.sex_known and b.sex_known)  # else sex already says it
    ):
        msgid = N_("one record says son of (ould), the other daughter of (mint)")
        out.append(_reason("filiation_differs", msgid, w.filiation_differs))
    return out


def _birth_date_reasons(da: date, db: date, w: MatchWeights) -> list[MatchReason]:
    if da == db:
        msgid = N_("same date of birth: {date}")
        return [_reason("birth_date_same", msgid, w.birth_date_same, date=da.isoformat())]
    first, second = sorted((da.isoformat(), db.isoformat()))
    if da.year == db.year and (da.month, da.day) == (db.day, db.month):
        msgid = N_("dates of birth differ only by a day/month swap: {a} / {b}")
        return [_reason("birth_date_swapped", msgid, w.birth_date_swapped, a=first, b=second)]
    if da.year == db.year:
        msgid = N_("different dates of birth in the same year: {a} / {b}")
        return [_reason("birth_date_same_year", msgid, w.birth_date_same_year, a=first, b=second)]
    return []


def _birth_reasons(a: PreparedTraits, b: PreparedTraits, w: MatchWeights) -> list[MatchReason]:
    if a.exact_birth_date and b.exact_birth_date:
        found = _birth_date_reasons(a.exact_birth_date, b.exact_birth_date, w)
        if found:
            return found
    ya, yb = a.birth_year, b.birth_year
    if ya is None or yb is None:
        return []
    ea, eb = a.traits.birth_year_estimated, b.traits.birth_year_estimated
    if (eb, -yb) > (ea, -ya):  # estimated year first, then the earlier: a stable message
        ya, yb, ea, eb = yb, ya, eb, ea
    gap = abs(ya - yb)
    estimated = ea or eb
    tolerance = w.estimated_tolerance_years if estimated else 0
    if gap == 0 and estimated:
        msgid = N_("same birth year: {year} (estimated)")
        return [_reason("birth_year_same", msgid, w.birth_year_same_estimated, year=str(ya))]
    if gap == 0:
        msgid = N_("same birth year: {year}")
        return [_reason("birth_year_same", msgid, w.birth_year_same, year=str(ya))]
    if gap <= tolerance:
        msgid = (
            N_("birth years {a} (estimated) and {b} (estimated) agree")
            if ea and eb
            else N_("birth years {a} (estimated) and {b} agree")
        )
        weight = w.birth_year_within_tolerance
        return [_reason("birth_years_agree", msgid, weight, a=str(ya), b=str(yb))]
    if gap == 1:
        msgid = N_("birth years {a} and {b} are one year apart")
        return [
            _reason("birth_years_one_apart", msgid, w.birth_year_one_apart, a=str(ya), b=str(yb))
        ]
    weight = w.birth_year_near_estimated if estimated and gap <= tolerance + 3 else w.birth_year_far
    msgid = N_("birth years {a} and {b} differ")
    return [_reason("birth_years_differ", msgid, weight, a=str(ya), b=str(yb))]


def _contact_reasons(a: PersonTraits, b: PersonTraits, w: MatchWeights) -> list[MatchReason]:
    out: list[MatchReason] = []
    if _both_sexes_known(a, b):
        if a.sex == b.sex:
            out.append(_reason("sex_same", N_("same sex"), w.sex_same))
        else:
            out.append(_reason("sex_differs", N_("different sex"), w.sex_differs))
    if a.phone_key and b.phone_key:
        if a.phone_key != b.phone_key:
            out.append(_reason("phone_differs", N_("different phone numbers"), w.phone_differs))
        elif a.phone_shared or b.phone_shared:
            # A family often shares one phone: the same number proves little on its own.
            msgid = N_("same phone number, shared by several people")
            out.append(_reason("phone_same_shared", msgid, w.phone_same_shared))
        else:
            out.append(_reason("phone_same", N_("same phone number"), w.phone_same))
    return out


def _address_reasons(a: PreparedTraits, b: PreparedTraits, w: MatchWeights) -> list[MatchReason]:
    if not a.region or not b.region:
        return []
    if a.region != b.region:
        return [_reason("address_differs", N_("different regions"), w.address_differs)]
    if a.district and a.district == b.district:
        msgid = N_("same region and district")
        return [_reason("address_same_district", msgid, w.address_same_district)]
    return [_reason("address_same_region", N_("same region"), w.address_same_region)]


def _as_prepared(person: PersonTraits | PreparedTraits) -> PreparedTraits:
    return person if isinstance(person, PreparedTraits) else prepare(person)


def score_pair(
    left: PersonTraits | PreparedTraits,
    right: PersonTraits | PreparedTraits,
    *,
    weights: MatchWeights = DEFAULT_WEIGHTS,
    thresholds: MatchThresholds = DEFAULT_THRESHOLDS,
) -> MatchResult:
    """Score how likely two records describe the same person.

    Rules: the same national identity number (NNI) means the same person (score 1, a
    certain match); two different NNIs are strong evidence against. Names are compared as
    token sets, so swapped given and family names and a missing "Ould" do not count
    against a match. A difference of sex is strong evidence against. An estimated birth
    year agrees within two years. A shared phone is weak evidence. Symmetric in its
    arguments.

    Args:
        left: one person (pass :func:`prepare` output when scoring it many times).
        right: the other person.
        weights: evidence weights and prior.
        thresholds: score cut-offs for the decision.

    Returns:
        The score in [0, 1], the decision and the reasons, strongest first.
    """
    a, b = _as_prepared(left), _as_prepared(right)
    reasons: list[MatchReason] = []
    certain = False
    nni_a, nni_b = a.traits.national_id_key, b.traits.national_id_key
    if nni_a and nni_b:
        certain = nni_a == nni_b
        if certain:
            msgid = N_("same national identity number (NNI)")
            reasons.append(_reason("nni_same", msgid, weights.nni_same))
        else:
            msgid = N_("different national identity numbers (NNI)")
            reasons.append(_reason("nni_differs", msgid, weights.nni_differs))
    reasons += _name_reasons(a, b, weights)
    reasons += _birth_reasons(a, b, weights)
    reasons += _contact_reasons(a.traits, b.traits, weights)
    reasons += _address_reasons(a, b, weights)
    evidence = math.fsum(r.weight for r in reasons)  # exact sum: order-independent
    logit = max(-60.0, min(60.0, evidence + weights.prior_log2))
    score = 1.0 if certain else 1.0 / (1.0 + 2.0**-logit)
    if certain or score >= thresholds.match:
        decision = MatchDecision.MATCH
    elif score >= thresholds.possible:
        decision = MatchDecision.POSSIBLE
    else:
        decision = MatchDecision.NON_MATCH
    ordered = sorted(reasons, key=lambda r: (-abs(r.weight), r.code))
    return MatchResult(score, decision, tuple(ordered), certain)


@lru_cache(maxsize=65536)  # names repeat a lot in a registry; pure function
def block_key(token: str) -> str:
    """The phonetic key of a name token's canonical form (Hmeida and Ahmed meet)."""
    return phonetic_key(canonical_name(token) or token)


def _decades(person: PreparedTraits, tolerance: int) -> list[int]:
    if person.birth_year is None:
        return []
    spread = tolerance if person.traits.birth_year_estimated else 0
    years = range(person.birth_year - spread, person.birth_year + spread + 1)
    return sorted({year // 10 for year in years})


def blocking_keys(
    traits: PersonTraits | PreparedTraits, *, weights: MatchWeights = DEFAULT_WEIGHTS
) -> set[str]:
    """Cheap keys to index, so that finding candidates is one ``key IN (...)`` query.

    Two records that :func:`score_pair` could call a possible match share at least one
    key in the usual cases: the same NNI (``id:``) or phone (``ph:``, pass its blind
    index); two names in common in any order (``nn:``, phonetic keys of the canonical
    forms, so Hmeida meets Ahmed); one uncommon name and the birth decade (``nd:``); the
    given name, sex and decade (``gs:``). Estimated years also index the neighbouring
    decade within the tolerance.

    Args:
        traits: the person, raw or prepared.
        weights: for the estimated-year tolerance.

    Returns:
        The keys; up to about 20.
    """
    person = _as_prepared(traits)
    keys: set[str] = set()
    if person.traits.national_id_key:
        keys.add(f"id:{person.traits.national_id_key}")
    if person.traits.phone_key:
        keys.add(f"ph:{person.traits.phone_key}")
    name_keys = sorted({block_key(t) for t in person.tokens[:4]} - {""})
    keys.update(f"nn:{x}|{y}" for x, y in combinations(name_keys, 2))
    if len(name_keys) == 1:
        keys.add(f"n1:{name_keys[0]}")
    decades = _decades(person, weights.estimated_tolerance_years)
    rare = {block_key(t) for t in person.tokens[:4] if not is_common_name(t)} - {""}
    keys.update(f"nd:{k}:{d}" for k in rare for d in decades)
    sex = person.traits.sex
    if person.given and sex in ("female", "male"):
        given = block_key(person.given)
        if decades:
            keys.update(f"gs:{given}:{sex}:{d}" for d in decades)
        else:
            keys.add(f"gs:{given}:{sex}")
    return keys
