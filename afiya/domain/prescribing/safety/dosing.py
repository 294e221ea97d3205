"""Dose-range checks by age, weight and route (mg/kg/day, absolute maxima, minima).

Only orders with a dose are checked. When a rule applies but cannot be evaluated (no
weight for a mg/kg limit, a unit that does not convert), and no rule for the same
ingredient found a problem, one ``info`` alert says what is missing: an unverifiable
paediatric dose must not look like a verified one.
"""

from __future__ import annotations

from dataclasses import dataclass

from afiya.domain.prescribing.model import Ingredient, MedicationOrderDraft
from afiya.domain.prescribing.safety import messages as msg
from afiya.domain.prescribing.safety.alerts import Alert, AlertKind, Evidence, Severity, strongest
from afiya.domain.prescribing.safety.checks import make_alert
from afiya.domain.prescribing.safety.codes import convert_amount, fmt, normalize_unit
from afiya.domain.prescribing.safety.knowledge_base import DrugProfile
from afiya.domain.prescribing.safety.patient_view import PatientView, age_evidence
from afiya.domain.prescribing.safety.rules import DoseRule
from afiya.domain.shared.i18n import Message


def ingredient_amount(
    order: MedicationOrderDraft, ingredient: Ingredient, unit: str
) -> float | None:
    """Amount of ``ingredient`` in one dose of ``order``, in ``unit``; None if unknown.

    A dose in mg of a single-ingredient product is that amount. A dose in tablets, mL,
    vials... goes through the ingredient's strength (``250 mg`` per ``5 mL``). A mass
    dose of a combination (``960 mg`` of co-trimoxazole) is shared out in proportion
    to the strengths.
    """
    dose, dose_unit = order.dose, order.dose_unit
    if dose is None or not dose_unit:
        return None
    product = order.product
    direct = convert_amount(dose, dose_unit, unit)
    strength = ingredient.strength
    if direct is not None and len(product.ingredients) == 1:
        return direct
    if strength is not None:
        per = normalize_unit(strength.per_unit)
        if normalize_unit(dose_unit) == per:
            return convert_amount(dose * strength.value / strength.per_value, strength.unit, unit)
        as_per = convert_amount(dose, dose_unit, strength.per_unit)
        if as_per is not None and per in ("ml", "l"):
            amount = as_per * strength.value / strength.per_value
            return convert_amount(amount, strength.unit, unit)
    if direct is not None:
        return _share_of_combination(order, ingredient, unit)
    return None


def _share_of_combination(
    order: MedicationOrderDraft, ingredient: Ingredient, unit: str
) -> float | None:
    strengths = [i.strength for i in order.product.ingredients]
    if ingredient.strength is None or any(s is None for s in strengths):
        return None
    masses = [convert_amount(s.value / s.per_value, s.unit, unit) for s in strengths if s]
    mine = convert_amount(
        ingredient.strength.value / ingredient.strength.per_value, ingredient.strength.unit, unit
    )
    total_dose = convert_amount(order.dose or 0.0, order.dose_unit or "", unit)
    if mine is None or total_dose is None or any(m is None for m in masses):
        return None
    total = sum(m for m in masses if m is not None)
    return total_dose * mine / total if total > 0 else None


@dataclass(slots=True)
class _Outcome:
    violations: list[tuple[Severity, str, dict[str, object], Evidence]]
    missing: list[str]


def _evaluate(
    rule: DoseRule, ing_name: str, amount: float, order: MedicationOrderDraft, view: PatientView
) -> _Outcome:
    lim, unit, tol = rule.limits, rule.unit, rule.tolerance
    weight = view.context.weight_kg
    per_day = amount * order.frequency_per_day if order.frequency_per_day else None
    out = _Outcome([], [])

    def above(value: float | None, limit: float | None, msgid: str, code: str) -> None:
        if value is None or limit is None or value <= limit * (1 + tol):
            return
        severity = (
            Severity.CONTRAINDICATED
            if value >= limit * rule.hard_limit_factor
            else Severity.WARNING
        )
        params: dict[str, object] = {
            "ingredient": ing_name,
            "value": fmt(value),
            "limit": fmt(limit),
            "unit": unit,
        }
        ev = Evidence("dose", code, f"{fmt(value)} > {fmt(limit)} {unit}", value, unit)
        out.violations.append((severity, msgid, params, ev))

    def below(value: float | None, limit: float | None, msgid: str, code: str) -> None:
        if value is None or limit is None or value >= limit * (1 - tol):
            return
        params: dict[str, object] = {
            "ingredient": ing_name,
            "value": fmt(value),
            "limit": fmt(limit),
            "unit": unit,
        }
        ev = Evidence("dose", code, f"{fmt(value)} < {fmt(limit)} {unit}", value, unit)
        out.violations.append((Severity.WARNING, msgid, params, ev))

    above(amount, lim.max_per_dose, msg.DOSE_ABOVE_PER_DOSE, "max_per_dose")
    if lim.max_per_day is not None and per_day is None:
        out.missing.append("frequency")
    above(per_day, lim.max_per_day, msg.DOSE_ABOVE_PER_DAY, "max_per_day")
    per_kg = (
        lim.max_per_kg_per_dose,
        lim.max_per_kg_per_day,
        lim.min_per_kg_per_dose,
        lim.min_per_kg_per_day,
    )
    if any(v is not None for v in per_kg):
        if weight is None:
            out.missing.append("weight")
        else:
            kg_dose = amount / weight
            kg_day = per_day / weight if per_day is not None else None
            if kg_day is None and (lim.max_per_kg_per_day or lim.min_per_kg_per_day):
                out.missing.append("frequency")
            above(
                kg_dose, lim.max_per_kg_per_dose, msg.DOSE_ABOVE_PER_KG_DOSE, "max_per_kg_per_dose"
            )
            above(kg_day, lim.max_per_kg_per_day, msg.DOSE_ABOVE_PER_KG_DAY, "max_per_kg_per_day")
            below(
                kg_dose, lim.min_per_kg_per_dose, msg.DOSE_BELOW_PER_KG_DOSE, "min_per_kg_per_dose"
            )
            below(kg_day, lim.min_per_kg_per_day, msg.DOSE_BELOW_PER_KG_DAY, "min_per_kg_per_day")
    return out


def _band(rule: DoseRule, view: PatientView) -> str:
    """``in``, ``out`` or the missing fact (``age``/``weight``) for the rule's band."""
    ctx = view.context
    if rule.min_age_days is not None or rule.below_age_days is not None:
        if ctx.age is None:
            return "age"
        if rule.min_age_days is not None and ctx.age.days < rule.min_age_days:
            return "out"
        if rule.below_age_days is not None and ctx.age.days >= rule.below_age_days:
            return "out"
    if rule.min_weight_kg is not None or rule.below_weight_kg is not None:
        if ctx.weight_kg is None:
            return "weight"
        if rule.min_weight_kg is not None and ctx.weight_kg < rule.min_weight_kg:
            return "out"
        if rule.below_weight_kg is not None and ctx.weight_kg >= rule.below_weight_kg:
            return "out"
    return "in"


_MISSING_MESSAGE = {
    "unit": msg.DOSE_UNIT_UNKNOWN,
    "age": msg.DOSE_NEEDS_AGE,
    "weight": msg.DOSE_NEEDS_WEIGHT,
    "frequency": msg.DOSE_NEEDS_FREQUENCY,
}


def check_dose(order: MedicationOrderDraft, profile: DrugProfile, view: PatientView) -> list[Alert]:
    if order.dose is None or not profile.dose_rules:
        return []
    route = order.effective_route
    per_ingredient: dict[str, list[tuple[DoseRule, Ingredient]]] = {}
    for rule, selector, ingredient in profile.dose_rules:
        if selector.route_ok(route):
            per_ingredient.setdefault(ingredient.code, []).append((rule, ingredient))
    alerts: list[Alert] = []
    for rules in per_ingredient.values():
        found, unverifiable = [], []
        for rule, ingredient in rules:
            band = _band(rule, view)
            if band == "out":
                continue
            if band != "in":
                unverifiable.append((rule, ingredient, band))
                continue
            amount = ingredient_amount(order, ingredient, rule.unit)
            if amount is None:
                unverifiable.append((rule, ingredient, "unit"))
                continue
            outcome = _evaluate(rule, ingredient.inn, amount, order, view)
            if outcome.violations:
                found.append(_violation_alert(rule, outcome, view))
            elif outcome.missing:
                unverifiable.append((rule, ingredient, outcome.missing[0]))
        alerts.extend(found)
        if not found and unverifiable:
            rule, ingredient, reason = min(
                unverifiable, key=lambda u: list(_MISSING_MESSAGE).index(u[2])
            )
            params = {
                "ingredient": ingredient.inn,
                "unit": order.dose_unit or "",
                "rule_unit": rule.unit,
            }
            message = Message(_MISSING_MESSAGE[reason], params)
            evidence = (
                Evidence("dose", "dose", f"{fmt(order.dose)} {order.dose_unit}", order.dose),
            )
            alerts.append(make_alert(rule, Severity.INFO, AlertKind.DOSE, message, evidence))
    return alerts


def _violation_alert(rule: DoseRule, outcome: _Outcome, view: PatientView) -> Alert:
    severity = strongest(*(v[0] for v in outcome.violations))
    first = next(v for v in outcome.violations if v[0] is severity)
    params = first[2]
    evidence = [v[3] for v in outcome.violations]
    ctx = view.context
    if ctx.weight_kg is not None:
        evidence.append(
            Evidence("weight", "weight", f"{fmt(ctx.weight_kg)} kg", ctx.weight_kg, "kg")
        )
    if ctx.age is not None:
        evidence.append(age_evidence(ctx.age.days, ctx.age.completed_years))
    return make_alert(rule, severity, AlertKind.DOSE, Message(first[1], params), tuple(evidence))
