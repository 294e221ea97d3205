"""Allergy, contraindication, interaction and duplicate-therapy checks."""

from __future__ import annotations

from afiya.domain.prescribing.model import (
    AllergyFact,
    MedicationFact,
    MedicationOrderDraft,
    is_atc_code,
)
from afiya.domain.prescribing.safety import messages as msg
from afiya.domain.prescribing.safety.alerts import Alert, AlertKind, Evidence, Severity
from afiya.domain.prescribing.safety.knowledge_base import DrugProfile
from afiya.domain.prescribing.safety.patient_view import PatientView
from afiya.domain.prescribing.safety.rules import AllergyRule, DuplicateRule, Rule
from afiya.domain.shared.i18n import Message


def make_alert(
    rule: Rule,
    severity: Severity,
    kind: AlertKind,
    message: Message,
    evidence: tuple[Evidence, ...],
    detail: Message | None = None,
) -> Alert:
    meta = rule.meta
    return Alert(
        severity=severity,
        rule_id=meta.id,
        rule_version=meta.version,
        kind=kind,
        message=message,
        evidence=evidence,
        advice=meta.advice,
        source=meta.source,
        origin=meta.origin,
        detail=detail,
    )


# -- allergies ------------------------------------------------------------------------


def allergy_severity(rule: AllergyRule, allergy: AllergyFact) -> Severity | None:
    """Severity of an allergy alert; None when the allergy does not count.

    A refuted (or entered-in-error) allergy raises nothing. High or unassessed
    criticality takes the rule's ``high_criticality_severity``; low criticality its
    ``severity``. An *unconfirmed* allergy of low criticality is lowered one step,
    while an unconfirmed allergy of high or unknown criticality is not: an unverified
    history of anaphylaxis is treated as real until someone tests and refutes it.
    ``presumed`` counts as confirmed.
    """
    if allergy.verification in ("refuted", "entered-in-error"):
        return None
    low = allergy.criticality == "low"
    severity = rule.severity if low else rule.high_criticality_severity
    if low and allergy.verification == "unconfirmed":
        severity = severity.lowered()
    return severity


def _allergen_codes(allergy: AllergyFact, view: PatientView) -> frozenset[str]:
    code = allergy.substance_code
    codes = set(view.kb.substance_codes(code))
    if is_atc_code(code):
        codes.add(code)
    return frozenset(codes)


def _allergy_evidence(allergy: AllergyFact) -> Evidence:
    crit = allergy.criticality or "unable-to-assess"
    name = allergy.display or allergy.substance_code
    return Evidence("allergy", allergy.substance_code, f"{name} ({allergy.verification}, {crit})")


def check_allergies(
    order: MedicationOrderDraft, profile: DrugProfile, view: PatientView
) -> list[Alert]:
    """Direct allergy alerts, else the strongest cross-reactivity alert, per allergy."""
    alerts: list[Alert] = []
    for allergy in view.context.allergies:
        if allergy.verification in ("refuted", "entered-in-error"):
            continue
        direct = False
        for rule in view.kb.allergy_rules:
            severity = allergy_severity(rule, allergy)
            message = _direct_allergy_message(rule, allergy, order, profile)
            if severity is None or message is None:
                continue
            direct = True
            evidence = (_allergy_evidence(allergy),)
            alerts.append(make_alert(rule, severity, rule.kind, message, evidence))
        if direct:  # the direct alert already says it all for this allergy
            continue
        cross = _cross_reactivity(order, profile, view, allergy, order.effective_route)
        if cross is not None:
            alerts.append(cross)
    return alerts


def _direct_allergy_message(
    rule: AllergyRule, allergy: AllergyFact, order: MedicationOrderDraft, profile: DrugProfile
) -> Message | None:
    """The message when ``allergy`` names an ingredient or a class of the product."""
    product, code = order.product, allergy.substance_code
    name = allergy.display or code
    if rule.match == "same_substance" and allergy.substance_kind == "ingredient":
        hit = next((i for i in product.ingredients if code in (i.code, i.atc)), None)
        if hit is None and code == product.atc:
            hit = product.ingredients[0]
        if hit is None:
            return None
        params = {"drug": product.name, "ingredient": hit.inn, "substance": name}
        return Message(msg.ALLERGY_SUBSTANCE, params)
    if rule.match == "recorded_class" and allergy.substance_kind == "atc_class":
        if not any(c.startswith(code) for c in profile.codes):
            return None
        return Message(msg.ALLERGY_CLASS, {"drug": product.name, "atc_class": code})
    return None


def _cross_reactivity(
    order: MedicationOrderDraft,
    profile: DrugProfile,
    view: PatientView,
    allergy: AllergyFact,
    route: str | None,
) -> Alert | None:
    """The strongest cross-reactivity alert for one allergy, if any."""
    allergen = _allergen_codes(allergy, view)
    best: Alert | None = None
    for rule, selector, matched in profile.reactant_of:
        if rule.match != "cross" or not selector.route_ok(route):
            continue
        if view.kb.selector(rule.meta.id, "allergen").matching_code(allergen) is None:
            continue
        severity = allergy_severity(rule, allergy)
        if severity is None or (best is not None and best.severity.rank >= severity.rank):
            continue
        ingredient = next(
            (i.inn for i in order.product.ingredients if i.atc == matched), order.product.name
        )
        message = Message(
            msg.CROSS_REACTIVITY,
            {
                "drug": order.product.name,
                "ingredient": ingredient,
                "substance": allergy.display or allergy.substance_code,
            },
        )
        best = make_alert(rule, severity, rule.kind, message, (_allergy_evidence(allergy),))
    return best


# -- contraindications -------------------------------------------------------------------


def check_contraindications(
    order: MedicationOrderDraft, profile: DrugProfile, view: PatientView
) -> list[Alert]:
    route = order.effective_route
    alerts = []
    for rule, selector, _matched in profile.contraindications:
        if not selector.route_ok(route):
            continue
        evidence: list[Evidence] = []
        if rule.when_any:
            for criterion in rule.when_any:
                evidence.extend(view.evaluate(criterion) or ())
            if not evidence:
                continue
        required = [view.evaluate(c) for c in rule.requires]
        if any(e is None for e in required):
            continue
        for found in required:
            evidence.extend(found or ())
        if any(view.evaluate(c) is not None for c in rule.unless_any):
            continue
        found_all = tuple(evidence)
        message = msg.finding_message(rule.kind, rule.severity, order.product.name, found_all)
        alerts.append(make_alert(rule, rule.severity, rule.kind, message, found_all))
    return alerts


# -- interactions ------------------------------------------------------------------------


def check_interactions(
    order: MedicationOrderDraft, profile: DrugProfile, view: PatientView
) -> list[Alert]:
    if not profile.interaction_sides:
        return []
    route = order.effective_route
    alerts = []
    for med, med_profile in view.medications:
        shared = profile.interaction_sides.keys() & med_profile.interaction_sides.keys()
        if not shared:
            continue
        med_route = med.effective_route
        for rule_id in sorted(shared):
            rule, mine = profile.interaction_sides[rule_id]
            theirs = med_profile.interaction_sides[rule_id][1]
            if not any(
                one in mine
                and other in theirs
                and mine[one].route_ok(route)
                and theirs[other].route_ok(med_route)
                for one, other in (("a", "b"), ("b", "a"))
            ):
                continue
            message = Message(
                msg.INTERACTION, {"drug": order.product.name, "other_drug": med.product.name}
            )
            evidence = (Evidence("medication", med.product.code, med.product.name),)
            alerts.append(
                make_alert(
                    rule,
                    rule.severity,
                    AlertKind.INTERACTION,
                    message,
                    evidence,
                    detail=rule.mechanism.message,
                )
            )
    return alerts


# -- duplicate therapy -------------------------------------------------------------------


def _exempt(codes: frozenset[str] | set[str], exempt: tuple[str, ...]) -> bool:
    return bool(exempt) and any(c.startswith(exempt) for c in codes)


def check_duplicates(
    order: MedicationOrderDraft, profile: DrugProfile, view: PatientView
) -> list[Alert]:
    """One alert per active medication at most, the most specific that applies:
    a shared ingredient, else the same ATC level-4 group, else a configured class."""
    rules = view.kb.duplicate_rules
    if not rules or not view.context.medications:
        return []
    alerts = []
    for med, med_profile in view.medications:
        evidence = (Evidence("medication", med.product.code, med.product.name),)
        for rule in rules:
            message = _duplicate_message(rule, order, profile, med, med_profile, view)
            if message is not None:
                kind = AlertKind.DUPLICATE_THERAPY
                alerts.append(make_alert(rule, rule.severity, kind, message, evidence))
                break
    return alerts


def _duplicate_message(
    rule: DuplicateRule,
    order: MedicationOrderDraft,
    profile: DrugProfile,
    med: MedicationFact,
    med_profile: DrugProfile,
    view: PatientView,
) -> Message | None:
    names = {"drug": order.product.name, "other_drug": med.product.name}
    if rule.match == "same_ingredient":
        shared = _shared_ingredient(order, med_profile, rule)
        if shared is None:
            return None
        return Message(msg.DUPLICATE_INGREDIENT, {**names, "ingredient": shared})
    if rule.match == "same_atc4":
        groups = sorted(g for g in profile.atc4 & med_profile.atc4 if not _exempt({g}, rule.exempt))
        if not groups:
            return None
        return Message(msg.DUPLICATE_CLASS, {**names, "atc_group": groups[0]})
    in_group = {r.meta.id for r, _code in profile.duplicate_groups}
    if rule.meta.id not in in_group or rule.group is None:
        return None
    if not any(r.meta.id == rule.meta.id for r, _code in med_profile.duplicate_groups):
        return None
    selector = view.kb.selector(rule.meta.id, "group")
    if not (selector.route_ok(order.effective_route) and selector.route_ok(med.effective_route)):
        return None
    if _exempt(profile.codes | med_profile.codes, rule.exempt):
        return None
    group = ", ".join(rule.group.classes or rule.group.atc)
    return Message(msg.DUPLICATE_GROUP, {**names, "group": group})


def _shared_ingredient(
    order: MedicationOrderDraft, med_profile: DrugProfile, rule: DuplicateRule
) -> str | None:
    """INN of an ingredient in both products, unless its code is exempt."""
    theirs = med_profile.product.ingredients
    their_codes = {i.code for i in theirs} | {i.atc for i in theirs if i.atc}
    for ing in order.product.ingredients:
        if ing.code not in their_codes and (ing.atc is None or ing.atc not in their_codes):
            continue
        codes = {ing.atc} if ing.atc else set()
        if order.product.atc:
            codes.add(order.product.atc)
        if not _exempt(codes, rule.exempt):
            return ing.inn
    return None
