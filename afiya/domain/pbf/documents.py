"""Rule sets as data: a JSON document in, a checked :class:`RuleSet` out, and back.

Ministries change tariffs, weights and thresholds every year, so a rule-set version is a
document (packages, activities and their constants, formulas, decision tables as CSV text,
payment rules and payers) stored as is. Reading one reports every problem at once: the
structure, the decision tables and every formula (unknown variable, cycle...) by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from afiya.domain.pbf.decision_tables import DecisionTable
from afiya.domain.pbf.engine.planner import plan_calculation
from afiya.domain.pbf.errors import (
    DecisionTableError,
    FormulaError,
    PeriodInvalid,
    PlanningError,
    field_error,
    invalid_rule_set,
)
from afiya.domain.pbf.model import (
    Activity,
    Formula,
    OrgUnit,
    Package,
    PackageKind,
    PayerShare,
    PaymentRule,
    RuleSet,
)
from afiya.domain.pbf.periods import Frequency, parse_period, quarter_of
from afiya.domain.pbf.validation import validate_rule_set
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_
from afiya.domain.shared.money import Currency

Document = Mapping[str, Any]
E = TypeVar("E", PackageKind, Frequency)


class _Reader:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def decimal(self, path: str, raw: object) -> Decimal:
        try:
            value = Decimal(str(raw))
            if value.is_finite():
                return value
        except (InvalidOperation, ValueError):
            pass
        self.errors.append(field_error(path, N_("{value} is not a number."), value=str(raw)))
        return Decimal(0)

    def tables(self, path: str, raw: Sequence[Mapping[str, Any]]) -> tuple[DecisionTable, ...]:
        tables = []
        for i, table in enumerate(raw):
            try:
                tables.append(DecisionTable.parse(str(table["name"]), str(table["source"])))
            except (DecisionTableError, PeriodInvalid) as exc:
                self.errors.append(FieldError(f"{path}.{i}.source", exc.message, exc.code))
        return tuple(tables)

    def enum(self, path: str, kind: type[E], raw: object) -> E:
        try:
            return kind(str(raw))
        except ValueError:
            self.errors.append(field_error(path, N_("{value} is not allowed here."), value=raw))
            return next(iter(kind))


def _formulas(raw: Sequence[Mapping[str, Any]]) -> tuple[Formula, ...]:
    return tuple(
        Formula(
            str(f["code"]),
            str(f["expression"]),
            str(f.get("description") or ""),
            bool(f.get("money", False)),
        )
        for f in raw
    )


def _package(reader: _Reader, path: str, raw: Mapping[str, Any]) -> Package:
    activities = tuple(
        Activity(
            str(a["code"]),
            str(a.get("name") or a["code"]),
            {
                str(k): reader.decimal(f"{path}.activities.{i}.constants.{k}", v)
                for k, v in (a.get("constants") or {}).items()
            },
        )
        for i, a in enumerate(raw.get("activities") or ())
    )
    return Package(
        code=str(raw["code"]),
        name=str(raw.get("name") or raw["code"]),
        kind=reader.enum(f"{path}.kind", PackageKind, raw.get("kind")),
        frequency=reader.enum(f"{path}.frequency", Frequency, raw.get("frequency")),
        states=tuple(str(s) for s in raw.get("states") or ()),
        activities=activities,
        activity_formulas=_formulas(raw.get("activity_formulas") or ()),
        package_formulas=_formulas(raw.get("package_formulas") or ()),
        zone_formulas=_formulas(raw.get("zone_formulas") or ()),
        zone_level=raw.get("zone_level"),
        org_unit_groups=frozenset(str(g) for g in raw.get("org_unit_groups") or ()),
        decision_tables=reader.tables(f"{path}.decision_tables", raw.get("decision_tables") or ()),
    )


def _payment_rule(reader: _Reader, path: str, raw: Mapping[str, Any]) -> PaymentRule:
    return PaymentRule(
        code=str(raw["code"]),
        name=str(raw.get("name") or raw["code"]),
        frequency=reader.enum(f"{path}.frequency", Frequency, raw.get("frequency")),
        packages=tuple(str(p) for p in raw.get("packages") or ()),
        formulas=_formulas(raw.get("formulas") or ()),
        amount_formula=str(raw.get("amount_formula") or ""),
        payers=tuple(
            PayerShare(str(p["payer"]), reader.decimal(f"{path}.payers.{i}.percent", p["percent"]))
            for i, p in enumerate(raw.get("payers") or ())
        ),
        decision_tables=reader.tables(f"{path}.decision_tables", raw.get("decision_tables") or ()),
    )


def rule_set_from_document(
    document: Document,
    *,
    programme: str,
    version: int,
    valid_from: str,
    valid_to: str | None,
    currency: Currency,
    check_formulas: bool = True,
) -> RuleSet:
    """Build and check a rule set from its document.

    Raises:
        RuleSetInvalid: listing every problem: periods, decision tables, structure
            (duplicates, unknown packages, payer percentages) and, with
            ``check_formulas``, the first formula error of the rules (it names its equation).
    """
    reader = _Reader()
    for name, code in (("valid_from", valid_from), ("valid_to", valid_to)):
        if code is not None:
            try:
                if parse_period(code).frequency is not Frequency.MONTHLY:
                    raise PeriodInvalid(code)
            except PeriodInvalid as exc:
                reader.errors.append(FieldError(name, exc.message, exc.code))
    packages = tuple(
        _package(reader, f"packages.{i}", p) for i, p in enumerate(document.get("packages") or ())
    )
    rules = tuple(
        _payment_rule(reader, f"payment_rules.{i}", r)
        for i, r in enumerate(document.get("payment_rules") or ())
    )
    if reader.errors:
        raise invalid_rule_set(reader.errors)
    rule_set = RuleSet(programme, version, valid_from, valid_to, currency, packages, rules)
    validate_rule_set(rule_set)
    if check_formulas:
        _check_formulas(rule_set)
    return rule_set


def _check_formulas(rule_set: RuleSet) -> None:
    """Plan the rules for one synthetic facility: names, functions, arity and cycles."""
    facility = OrgUnit("check", "check", ("country", "region", "district"))
    quarter = quarter_of(parse_period(rule_set.valid_from)).code
    try:
        plan_calculation(rule_set, [facility], [quarter])
    except FormulaError as exc:
        raise invalid_rule_set([FieldError("formulas", exc.message, exc.code)]) from None
    except (PlanningError, DecisionTableError):
        pass  # depends on the facilities' facts; checked when computing


def _formula_doc(formulas: Sequence[Formula]) -> list[dict[str, Any]]:
    return [
        {"code": f.code, "expression": f.expression, "description": f.description, "money": f.money}
        for f in formulas
    ]


def _tables_doc(tables: Sequence[DecisionTable]) -> list[dict[str, str]]:
    return [{"name": t.name, "source": t.source} for t in tables]


def document_of(rule_set: RuleSet) -> dict[str, Any]:
    """The JSON document of a rule set (the inverse of :func:`rule_set_from_document`)."""
    return {
        "packages": [
            {
                "code": p.code,
                "name": p.name,
                "kind": p.kind.value,
                "frequency": p.frequency.value,
                "states": list(p.states),
                "activities": [
                    {
                        "code": a.code,
                        "name": a.name,
                        "constants": {k: format(v, "f") for k, v in a.constants.items()},
                    }
                    for a in p.activities
                ],
                "activity_formulas": _formula_doc(p.activity_formulas),
                "package_formulas": _formula_doc(p.package_formulas),
                "zone_formulas": _formula_doc(p.zone_formulas),
                "zone_level": p.zone_level,
                "org_unit_groups": sorted(p.org_unit_groups),
                "decision_tables": _tables_doc(p.decision_tables),
            }
            for p in rule_set.packages
        ],
        "payment_rules": [
            {
                "code": r.code,
                "name": r.name,
                "frequency": r.frequency.value,
                "packages": list(r.packages),
                "formulas": _formula_doc(r.formulas),
                "amount_formula": r.amount_formula,
                "payers": [{"payer": s.payer, "percent": format(s.percent, "f")} for s in r.payers],
                "decision_tables": _tables_doc(r.decision_tables),
            }
            for r in rule_set.payment_rules
        ],
    }
