"""Structural checks of a rule set, reported all at once (formulas are checked by the planner)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from afiya.domain.pbf.errors import PeriodInvalid, field_error, invalid_rule_set
from afiya.domain.pbf.model import Package, PaymentRule, RuleSet
from afiya.domain.pbf.periods import parse_period
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Names every formula can read, so no rule may define them.
BUILTINS = frozenset({"current_month"})


def _identifiers(names: Iterable[tuple[str, str]]) -> list[FieldError]:
    return [
        field_error(path, N_("{name} is not a valid code (letters, digits, _)."), name=name)
        for path, name in names
        if not _IDENTIFIER.match(name)
    ]


def _duplicates(path: str, names: Iterable[str]) -> list[FieldError]:
    counts = Counter(names)
    return [
        field_error(path, N_("{name} is defined more than once."), name=name)
        for name, count in counts.items()
        if count > 1
    ]


def package_parameters(package: Package) -> set[str]:
    """Names of the package's constants and decision-table outputs."""
    names = {name for activity in package.activities for name in activity.constants}
    names.update(out for table in package.decision_tables for out in table.outputs)
    return names


def _check_package(package: Package, path: str) -> list[FieldError]:
    errors = _identifiers(
        [(f"{path}.code", package.code)]
        + [(f"{path}.states", s) for s in package.states]
        + [(f"{path}.activities.{i}.code", a.code) for i, a in enumerate(package.activities)]
        + [(f"{path}.formulas", f.code) for f in package.formulas()]
        + [(f"{path}.activities", name) for name in package_parameters(package)]
    )
    if not package.activities:
        errors.append(field_error(f"{path}.activities", N_("A package needs activities.")))
    errors += _duplicates(f"{path}.activities", (a.code for a in package.activities))
    errors += _duplicates(f"{path}.states", package.states)
    errors += _duplicates(f"{path}.formulas", (f.code for f in package.formulas()))
    formulas = {f.code for f in package.formulas()}
    states = set(package.states) | {f"{s}_is_null" for s in package.states}
    parameters = package_parameters(package)
    for name in sorted((formulas & states) | (formulas & parameters) | (states & parameters)):
        errors.append(
            field_error(
                path, N_("{name} is used for more than one state, formula or constant."), name=name
            )
        )
    for name in sorted((formulas | states | parameters) & BUILTINS):
        errors.append(field_error(path, N_("{name} is a reserved name."), name=name))
    errors += _duplicates(
        f"{path}.decision_tables", (o for t in package.decision_tables for o in t.outputs)
    )
    if package.zone_formulas and (package.zone_level is None or package.zone_level < 1):
        errors.append(
            field_error(f"{path}.zone_level", N_("Zone formulas need a zone level (1 or more)."))
        )
    return errors


def _check_payment_rule(rule: PaymentRule, path: str, packages: set[str]) -> list[FieldError]:
    errors = _identifiers(
        [(f"{path}.code", rule.code)] + [(f"{path}.formulas", f.code) for f in rule.formulas]
    )
    errors += _duplicates(f"{path}.formulas", (f.code for f in rule.formulas))
    errors += _duplicates(f"{path}.payers", (p.payer for p in rule.payers))
    errors += _duplicates(
        f"{path}.decision_tables", (o for t in rule.decision_tables for o in t.outputs)
    )
    for code in rule.packages:
        if code not in packages:
            errors.append(field_error(f"{path}.packages", N_("Unknown package {name}."), name=code))
    if rule.amount_formula not in {f.code for f in rule.formulas}:
        errors.append(
            field_error(
                f"{path}.amount_formula",
                N_("{name} is not one of the rule's formulas."),
                name=rule.amount_formula,
            )
        )
    if rule.payers and sum(p.percent for p in rule.payers) != 100:
        errors.append(
            field_error(f"{path}.payers", N_("The payers' percentages must add up to 100."))
        )
    if any(p.percent < 0 for p in rule.payers):
        errors.append(field_error(f"{path}.payers", N_("A payer's percentage is negative.")))
    return errors


def validate_rule_set(rule_set: RuleSet) -> None:
    """Check codes, duplicates, name clashes, zone levels, payment rules and validity.

    Raises:
        RuleSetInvalid: listing every problem found.
    """
    errors: list[FieldError] = []
    for i, package in enumerate(rule_set.packages):
        errors += _check_package(package, f"packages.{i}")
    errors += _duplicates("packages", (p.code for p in rule_set.packages))
    codes = {p.code for p in rule_set.packages}
    for i, rule in enumerate(rule_set.payment_rules):
        errors += _check_payment_rule(rule, f"payment_rules.{i}", codes)
    errors += _duplicates("payment_rules", [r.code for r in rule_set.payment_rules] + sorted(codes))
    try:
        start = parse_period(rule_set.valid_from)
        if rule_set.valid_to is not None and parse_period(rule_set.valid_to).last < start.first:
            errors.append(field_error("valid_to", N_("The rule set ends before it starts.")))
    except PeriodInvalid as error:
        errors.append(field_error("valid_from", error.message.msgid, **error.message.params))
    if errors:
        raise invalid_rule_set(errors)
