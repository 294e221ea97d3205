"""Checks a set of rules before it becomes a knowledge base; lists every problem."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from afiya.domain.prescribing.model import is_atc_code
from afiya.domain.prescribing.safety.alerts import AlertKind, Origin
from afiya.domain.prescribing.safety.codes import normalize_unit, parse_icd10_pattern
from afiya.domain.prescribing.safety.rules import (
    AgeCriterion,
    AllergyRule,
    Analyte,
    ConditionCriterion,
    ContraindicationRule,
    Criterion,
    DoseRule,
    DrugClass,
    DrugSelector,
    DuplicateRule,
    InteractionRule,
    LabCriterion,
    PregnancyCriterion,
    Rule,
)
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

CONTRAINDICATION_KINDS = frozenset(
    {AlertKind.CONDITION, AlertKind.AGE, AlertKind.PREGNANCY, AlertKind.RENAL, AlertKind.LAB}
)
ALLERGY_KINDS = frozenset({AlertKind.ALLERGY, AlertKind.CROSS_REACTIVITY})
KNOWN_DOSE_UNITS = frozenset({"mg", "g", "mcg", "ug", "iu", "mmol", "ml"})


class _Problems:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, where: str, msgid: str, **params: object) -> None:
        self.items.append(FieldError(where, Message(msgid, params)))


def validate_rules(
    rules: Sequence[Rule],
    classes: Mapping[str, DrugClass],
    analytes: Mapping[str, Analyte],
) -> list[FieldError]:
    """Every problem in ``rules``: duplicate ids, unknown classes, bad codes, missing text."""
    problems = _Problems()
    for cls in classes.values():
        for code in (*cls.atc, *cls.exclude):
            if not is_atc_code(code):
                problems.add(f"classes.{cls.id}", N_("{code} is not a valid ATC code."), code=code)
    seen: dict[str, Rule] = {}
    for rule in rules:
        rid = rule.meta.id
        where = f"rules.{rid}"
        if rid in seen:
            problems.add(where, N_("Duplicate rule id {id}."), id=rid)
        seen[rid] = rule
        _check_meta(rule, where, problems)
        for sel_name, selector in _selectors(rule):
            _check_selector(selector, f"{where}.{sel_name}", classes, problems)
        _check_specific(rule, where, analytes, problems)
    for rule in rules:
        target = rule.meta.supersedes
        if target is None:
            continue
        where = f"rules.{rule.meta.id}.supersedes"
        if rule.meta.origin is not Origin.LOCAL:
            problems.add(where, N_("Only a local rule may supersede another rule."))
        elif target not in seen or seen[target].meta.origin is not Origin.NATIONAL:
            problems.add(where, N_("Unknown national rule {id}."), id=target)
    return problems.items


def _check_meta(rule: Rule, where: str, problems: _Problems) -> None:
    meta = rule.meta
    if not meta.id or meta.id.strip() != meta.id:
        problems.add(where, N_("A rule id must be a non-empty word without spaces around it."))
    if meta.version < 1:
        problems.add(f"{where}.version", N_("The version must be 1 or more."))
    missing = meta.advice.missing()
    if missing:
        problems.add(
            f"{where}.advice", N_("Missing translation: {languages}."), languages=", ".join(missing)
        )
    if not meta.source.title.strip():
        problems.add(f"{where}.source", N_("Every rule needs a source."))


def _selectors(rule: Rule) -> Iterable[tuple[str, DrugSelector]]:
    if isinstance(rule, ContraindicationRule | DoseRule):
        yield "drugs", rule.drugs
    elif isinstance(rule, InteractionRule):
        yield "a", rule.a
        yield "b", rule.b
    elif isinstance(rule, AllergyRule):
        if rule.allergen is not None:
            yield "allergen", rule.allergen
        if rule.reactant is not None:
            yield "reactant", rule.reactant
    elif rule.group is not None:
        yield "group", rule.group


def _check_selector(
    selector: DrugSelector, where: str, classes: Mapping[str, DrugClass], problems: _Problems
) -> None:
    if not selector.atc and not selector.classes:
        problems.add(where, N_("A drug selector needs ATC codes or classes."))
    for code in (*selector.atc, *selector.exclude):
        if not is_atc_code(code):
            problems.add(where, N_("{code} is not a valid ATC code."), code=code)
    for name in selector.classes:
        if name not in classes:
            problems.add(where, N_("Unknown drug class {name}."), name=name)


def _check_specific(
    rule: Rule, where: str, analytes: Mapping[str, Analyte], problems: _Problems
) -> None:
    if isinstance(rule, ContraindicationRule):
        if rule.kind not in CONTRAINDICATION_KINDS:
            problems.add(f"{where}.kind", N_("Kind {kind} is not allowed here."), kind=rule.kind)
        if not rule.when_any and not rule.requires:
            problems.add(where, N_("A contraindication needs at least one criterion."))
        for criterion in (*rule.when_any, *rule.requires, *rule.unless_any):
            _check_criterion(criterion, where, analytes, problems)
    elif isinstance(rule, AllergyRule):
        if rule.kind not in ALLERGY_KINDS:
            problems.add(f"{where}.kind", N_("Kind {kind} is not allowed here."), kind=rule.kind)
        if rule.match == "cross" and (rule.allergen is None or rule.reactant is None):
            problems.add(where, N_("A cross-reactivity rule needs an allergen and a reactant."))
    elif isinstance(rule, DuplicateRule):
        if rule.match == "same_group" and rule.group is None:
            problems.add(where, N_("A group duplicate rule needs a group."))
        for code in rule.exempt:
            if not is_atc_code(code):
                problems.add(f"{where}.exempt", N_("{code} is not a valid ATC code."), code=code)
    elif isinstance(rule, DoseRule):
        _check_dose(rule, where, problems)


def _check_dose(rule: DoseRule, where: str, problems: _Problems) -> None:
    limits = rule.limits
    values = [
        limits.max_per_dose,
        limits.max_per_day,
        limits.max_per_kg_per_dose,
        limits.max_per_kg_per_day,
        limits.min_per_kg_per_dose,
        limits.min_per_kg_per_day,
    ]
    if all(v is None for v in values):
        problems.add(f"{where}.limits", N_("A dose rule needs at least one limit."))
    if any(v is not None and v <= 0 for v in values):
        problems.add(f"{where}.limits", N_("Dose limits must be positive."))
    if normalize_unit(rule.unit) not in KNOWN_DOSE_UNITS:
        problems.add(f"{where}.unit", N_("Unknown dose unit {unit}."), unit=rule.unit)
    if rule.hard_limit_factor <= 1 or not 0 <= rule.tolerance < 0.5:
        problems.add(
            where, N_("The hard-limit factor must exceed 1 and the tolerance be 0 to 0.5.")
        )


def _check_criterion(
    criterion: Criterion, where: str, analytes: Mapping[str, Analyte], problems: _Problems
) -> None:
    if isinstance(criterion, ConditionCriterion):
        if not criterion.codes:
            problems.add(where, N_("A condition criterion needs ICD-10 codes."))
        for code in criterion.codes:
            try:
                parse_icd10_pattern(code)
            except ValueError:
                problems.add(where, N_("{code} is not an ICD-10 code or range."), code=code)
    elif isinstance(criterion, LabCriterion):
        if criterion.analyte not in analytes:
            problems.add(where, N_("Unknown analyte {name}."), name=criterion.analyte)
        if criterion.below is None and criterion.at_least is None and criterion.above is None:
            problems.add(where, N_("A laboratory criterion needs a threshold."))
        if criterion.within_hours <= 0:
            problems.add(where, N_("The time window must be positive."))
    elif isinstance(criterion, AgeCriterion):
        if criterion.min_days is None and criterion.below_days is None:
            problems.add(where, N_("An age criterion needs a bound."))
    elif isinstance(criterion, PregnancyCriterion) and (
        criterion.min_weeks is not None
        and criterion.below_weeks is not None
        and criterion.min_weeks >= criterion.below_weeks
    ):
        problems.add(where, N_("The pregnancy weeks range is empty."))
