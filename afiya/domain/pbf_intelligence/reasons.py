"""Wording of anomaly reasons and plan choices for a district officer.

Every text is a :class:`Message` (English msgid + parameters) translated by the outer
rings; numbers are passed already rounded so each language formats the same figure.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from afiya.domain.pbf_intelligence.model import Reason, RiskCategory
from afiya.domain.shared.i18n import N_, Message

# How each model feature reads when it weighs on the expected value. ``effect`` is the
# signed percentage by which the feature moves the expectation (the model is
# multiplicative: log-link contributions).
_COUNT = "count"
_PERCENT = "percent"
_PLAIN = "plain"
FEATURE_WORDING: dict[str, tuple[str, str]] = {
    "lag_1": (_COUNT, N_("Last month's figure ({value}) moves the expected value by {effect}%.")),
    "lag_2": (
        _COUNT,
        N_("The figure two months ago ({value}) moves the expected value by {effect}%."),
    ),
    "lag_3": (
        _COUNT,
        N_("The figure three months ago ({value}) moves the expected value by {effect}%."),
    ),
    "lag_12": (
        _COUNT,
        N_(
            "The figure for the same month last year ({value}) moves the expected value by "
            "{effect}%."
        ),
    ),
    "mean_3": (
        _COUNT,
        N_("The average of the last 3 months ({value}) moves the expected value by {effect}%."),
    ),
    "mean_6": (
        _COUNT,
        N_("The average of the last 6 months ({value}) moves the expected value by {effect}%."),
    ),
    "std_6": (
        _COUNT,
        N_(
            "The month-to-month variation of the last 6 months ({value}) moves the expected value "
            "by {effect}%."
        ),
    ),
    "validated_mean_6": (
        _COUNT,
        N_(
            "The average validated at recent verifications ({value}) moves the expected value by "
            "{effect}%."
        ),
    ),
    "gap_ratio_facility": (
        _PERCENT,
        N_(
            "The facility's past gap between declared and validated ({value}%) moves the expected "
            "value by {effect}%."
        ),
    ),
    "gap_ratio_indicator": (
        _PERCENT,
        N_("The past gap on this indicator ({value}%) moves the expected value by {effect}%."),
    ),
    "peer_expected": (
        _COUNT,
        N_(
            "Facilities of the same level in the district, scaled to this population ({value}), "
            "move the expected value by {effect}%."
        ),
    ),
    "national_expected": (
        _COUNT,
        N_(
            "Facilities of the same level nationwide, scaled to this population ({value}), move the"
            " expected value by {effect}%."
        ),
    ),
    "peer_trend": (
        _PERCENT,
        N_(
            "The change among peer facilities this month ({value}% of their recent average) moves "
            "the expected value by {effect}%."
        ),
    ),
    "parent_declared": (
        _COUNT,
        N_(
            "The related indicator declared this month ({value}) moves the expected value by "
            "{effect}%."
        ),
    ),
    "hmis": (
        _COUNT,
        N_(
            "The HMIS (DHIS2) figure for this month ({value}) moves the expected value by "
            "{effect}%."
        ),
    ),
    "population": (
        _COUNT,
        N_("The catchment population ({value}) moves the expected value by {effect}%."),
    ),
    "month": (_PLAIN, N_("The season (month {value}) moves the expected value by {effect}%.")),
    "level": (_PLAIN, N_("The level of the facility moves the expected value by {effect}%.")),
    "indicator": (
        _PLAIN,
        N_("The usual volume of this indicator moves the expected value by {effect}%."),
    ),
}

# Features whose contribution says nothing a district officer can check.
UNEXPLAINED_FEATURES = frozenset({"indicator"})


def _round_count(value: float) -> float | int:
    return round(value) if abs(value) >= 10 else round(value, 1)


def feature_reason(feature: str, value: float, log_contribution: float) -> Reason | None:
    """Reason for one model feature, or ``None`` when it cannot be worded or is missing.

    Args:
        feature: the model's feature name (see :data:`FEATURE_WORDING`).
        value: the feature's value for this row (``nan`` when missing).
        log_contribution: the feature's contribution to the log of the expected value.
    """
    wording = FEATURE_WORDING.get(feature)
    if wording is None or feature in UNEXPLAINED_FEATURES or math.isnan(value):
        return None
    kind, msgid = wording
    shown: float | int
    if kind == _PERCENT:
        shown = round(value * 100)
    elif kind == _COUNT:
        shown = _round_count(value)
    else:
        shown = int(value)
    effect = round((math.exp(log_contribution) - 1.0) * 100)
    params = {"value": shown, "effect": f"{effect:+d}"}
    return Reason(f"feature:{feature}", Message(msgid, params), abs(log_contribution))


def residual_reason(declared: int, expected: float, upper: float, z: float) -> Reason:
    """The declared value against the model's expectation and its usual range."""
    return Reason(
        "residual",
        Message(
            N_(
                "Declared {declared}, while about {expected} was expected (usual range up to "
                "{upper})."
            ),
            {
                "declared": declared,
                "expected": _round_count(expected),
                "upper": _round_count(upper),
            },
        ),
        max(z, 0.0),
    )


def jump_reason(declared: int, baseline: float, weight: float) -> Reason:
    """Sudden rise against the facility's own recent months."""
    return Reason(
        "jump",
        Message(
            N_(
                "Sudden rise: {declared} against {baseline} expected from the previous months "
                "and the change among peers."
            ),
            {"declared": declared, "baseline": _round_count(baseline)},
        ),
        weight,
    )


def capacity_reason(per_1000: float, limit: float, weight: float) -> Reason:
    """Above what facilities of this level plausibly deliver per inhabitant."""
    return Reason(
        "capacity",
        Message(
            N_(
                "Above plausible capacity: {per_1000} per 1,000 inhabitants, where facilities "
                "of this level rarely exceed {limit}."
            ),
            {"per_1000": round(per_1000, 1), "limit": round(limit, 1)},
        ),
        weight,
    )


def digit_reason(share: float, weight: float) -> Reason:
    """Digit preference: too many of the facility's recent figures end in 0 or 5."""
    return Reason(
        "digit_preference",
        Message(
            N_(
                "Round numbers: {share}% of this facility's recent figures end in 0 or 5, where"
                " about 20% is expected."
            ),
            {"share": round(share * 100)},
        ),
        weight,
    )


def hmis_reason(declared: int, hmis: float, weight: float) -> Reason:
    """Declared for PBF above the HMIS figure for the same indicator and month."""
    return Reason(
        "hmis_gap",
        Message(
            N_("Declared {declared} for PBF but {hmis} in the HMIS (DHIS2) for the same month."),
            {"declared": declared, "hmis": round(hmis)},
        ),
        weight,
    )


def related_reason(
    parent_code: str, declared: int, parent_value: float, ratio: float, limit: float, weight: float
) -> Reason:
    """Inconsistent with a related indicator (e.g. ANC4 against ANC1)."""
    return Reason(
        "related_indicator",
        Message(
            N_(
                "Inconsistent with {parent}: {declared} against {parent_value}, a ratio of "
                "{ratio} where at most {limit} is usual."
            ),
            {
                "parent": parent_code,
                "declared": declared,
                "parent_value": round(parent_value),
                "ratio": round(ratio, 2),
                "limit": round(limit, 2),
            },
        ),
        weight,
    )


def ranked_by_model_reason(rank: int, total: int, amount: Decimal) -> Message:
    """Why the audit-target model put a facility in the certain part of the plan."""
    return Message(
        N_(
            "Ranked {rank} of {total} by the audit-target model: expected over-declaration of "
            "{amount}."
        ),
        {"rank": rank, "total": total, "amount": amount},
    )


_RULE_RANK = {
    RiskCategory.HIGH: N_(
        "Ranked {rank} of {total} by the fixed rules: high risk, mean gap of {gap}% over the "
        "last {count} verifications."
    ),
    RiskCategory.MEDIUM: N_(
        "Ranked {rank} of {total} by the fixed rules: medium risk, mean gap of {gap}% over the "
        "last {count} verifications."
    ),
    RiskCategory.LOW: N_(
        "Ranked {rank} of {total} by the fixed rules: low risk, mean gap of {gap}% over the "
        "last {count} verifications."
    ),
    RiskCategory.UNKNOWN: N_(
        "Ranked {rank} of {total} by the fixed rules: never verified, so its risk is unknown."
    ),
}

_CATEGORY_EVIDENCE = {
    RiskCategory.HIGH: N_("High risk: mean gap of {gap}% over the last {count} verifications."),
    RiskCategory.MEDIUM: N_("Medium risk: mean gap of {gap}% over the last {count} verifications."),
    RiskCategory.LOW: N_("Low risk: mean gap of {gap}% over the last {count} verifications."),
    RiskCategory.UNKNOWN: N_("Unknown risk: the facility has never been verified."),
}


def category_evidence(category: RiskCategory, gap: float, count: int) -> Message:
    """The rule that put a facility in ``category`` (``gap`` is a ratio, 0.12 = 12 %)."""
    return Message(_CATEGORY_EVIDENCE[category], {"gap": round(gap * 100, 1), "count": count})


def ranked_by_rules_reason(
    rank: int, total: int, category: RiskCategory, gap: float, count: int
) -> Message:
    """Why the fixed rules put a facility in the certain part of the plan."""
    return Message(
        _RULE_RANK[category],
        {"rank": rank, "total": total, "gap": round(gap * 100, 1), "count": count},
    )


def random_draw_reason(drawn: int, pool: int, probability: Fraction) -> Message:
    """Why a facility outside the top of the ranking is in the plan."""
    return Message(
        N_(
            "Drawn at random: {drawn} of the {pool} facilities outside the top of the ranking, "
            "each with a probability of {probability}%."
        ),
        {"drawn": drawn, "pool": pool, "probability": round(float(probability) * 100, 1)},
    )
