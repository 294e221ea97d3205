"""Compile a rule set against facilities and periods into a :class:`Plan`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from afiya.domain.pbf.engine.graph import toposort
from afiya.domain.pbf.engine.nodes import Source, SourceKind
from afiya.domain.pbf.engine.params import ParamBuilder, current_month_table
from afiya.domain.pbf.engine.parser import check_array_positions, parse
from afiya.domain.pbf.engine.plan import ParamTable, Plan, Scope, Template
from afiya.domain.pbf.engine.resolve import LEVEL_REFERENCE, Resolver, Symbol
from afiya.domain.pbf.engine.rows import UNITS, RowIndex
from afiya.domain.pbf.errors import PlanningError
from afiya.domain.pbf.model import Formula, OrgUnit, Package, PaymentRule, RuleSet
from afiya.domain.pbf.periods import Frequency, Period, parse_period, quarter_of
from afiya.domain.pbf.validation import validate_rule_set
from afiya.domain.shared.i18n import N_, Message


def _error(msgid: str, **params: object) -> PlanningError:
    return PlanningError(Message(msgid, params))


def _periods(rule_set: RuleSet, periods: Sequence[str]) -> tuple[list[Period], list[Period]]:
    """The requested periods, and the quarters computed to serve them."""
    requested = sorted({parse_period(p) for p in periods})
    if not requested:
        raise _error(N_("A calculation needs at least one period."))
    for period in requested:
        if period.last - period.first > 2:
            raise _error(N_("{period} is neither a month nor a quarter."), period=period.code)
        if not rule_set.covers(period):
            raise _error(
                N_("Rule set {programme} v{version} does not cover {period}."),
                programme=rule_set.programme,
                version=rule_set.version,
                period=period.code,
            )
    return requested, sorted({quarter_of(p) for p in requested})


@dataclass(frozen=True, slots=True)
class _Shell:
    """A template before its expression is resolved."""

    key: str
    scope: Scope
    owner: str
    formula: Formula
    activities: tuple[str, ...]
    rows: str
    frequency: Frequency
    resolver: Resolver


class _Planner:
    def __init__(self, rule_set: RuleSet, facilities: Sequence[OrgUnit], quarters: list[Period]):
        self.rule_set = rule_set
        self.facilities = tuple(facilities)
        self.rows = RowIndex(self.facilities)
        self.rows.add("facilities", [ou.id for ou in self.facilities])
        self.by_frequency = {
            Frequency.MONTHLY: tuple(m for q in quarters for m in q.months()),
            Frequency.QUARTERLY: tuple(q.code for q in quarters),
        }
        self.activity_uses: dict[str, int] = {}
        for package in rule_set.packages:
            for activity in package.activities:
                self.activity_uses[activity.code] = self.activity_uses.get(activity.code, 0) + 1
        self.activities = tuple(self.activity_uses)
        self.params: dict[str, ParamTable] = {}
        for frequency, codes in self.by_frequency.items():
            table = current_month_table(frequency, codes)
            self.params[table.key] = table
        self.shells: list[_Shell] = []

    def _builtin(self, frequency: Frequency, rows: str) -> Symbol:
        key = f"builtin.current_month.{frequency}"
        return Symbol(
            Source(SourceKind.PARAM, key),
            frequency,
            self.rows.identity(rows),
            periods=self.by_frequency[frequency],
            windows=False,
        )

    def _members(self, package: Package) -> list[OrgUnit]:
        groups = package.org_unit_groups
        return [ou for ou in self.facilities if not groups or ou.groups & groups]

    def _shell(
        self,
        key: str,
        scope: Scope,
        owner: str,
        formula: Formula,
        *,
        rows: str,
        frequency: Frequency,
        resolver: Resolver,
        activities: tuple[str, ...] = (),
    ) -> None:
        self.shells.append(
            _Shell(key, scope, owner, formula, activities, rows, frequency, resolver)
        )

    def add_package(self, package: Package) -> None:
        members = self._members(package)
        rows = self.rows.add(f"package:{package.code}", [ou.id for ou in members])
        frequency, code = package.frequency, package.code
        periods = self.by_frequency[frequency]
        same = self.rows.identity(rows)
        builder = ParamBuilder(code, rows, members, periods, package.decision_tables)
        positions = tuple(range(len(package.activities)))
        in_axis = tuple(self.activities.index(a.code) for a in package.activities)
        symbols: dict[str, Symbol] = {"current_month": self._builtin(frequency, rows)}
        for name in builder.activity_level_names(package.activities):
            table = builder.table(name, package.activities)
            self.params[table.key] = table
            symbols[name] = Symbol(
                Source(SourceKind.PARAM, table.key), frequency, same, positions, periods, False
            )
        for name in builder.row_level_names():
            if name in symbols:  # also an activity constant: the table overrides it per row
                continue
            table = builder.table(name, None)
            self.params[table.key] = table
            symbols[name] = Symbol(
                Source(SourceKind.PARAM, table.key), frequency, same, None, periods, False
            )
        own_unit = self.rows.to_ancestor(rows, UNITS, None)
        for state in package.states:
            for kind, name in ((SourceKind.INPUT, state), (SourceKind.IS_NULL, f"{state}_is_null")):
                symbols[name] = Symbol(Source(kind, state, frequency), frequency, own_unit, in_axis)
        for formula in package.activity_formulas:
            source = Source(SourceKind.RESULT, f"{code}.{formula.code}")
            symbols[formula.code] = Symbol(source, frequency, same, positions, periods)
        for formula in package.package_formulas:
            source = Source(SourceKind.RESULT, f"{code}.{formula.code}")
            symbols[formula.code] = Symbol(source, frequency, same, None, periods)
        zone_symbols: dict[str, Symbol] = {}
        member_maps: tuple[str, ...] = ()
        if package.zone_formulas and package.zone_level is not None:
            zones = self.rows.zones(f"zones:{code}", rows, package.zone_level, code)
            to_zone = self.rows.to_ancestor(rows, zones, package.zone_level)
            member_maps = tuple(self.rows.members(zones, rows, package.zone_level))
            zone_symbols["current_month"] = self._builtin(frequency, zones)
            for formula in package.package_formulas:
                source = Source(SourceKind.RESULT, f"{code}.{formula.code}")
                zone_symbols[formula.code] = Symbol(
                    source, frequency, "", None, periods, only_list=True
                )
            for formula in package.zone_formulas:
                source = Source(SourceKind.RESULT, f"{code}.{formula.code}")
                symbols[formula.code] = Symbol(source, frequency, to_zone, None, periods)
                zone_symbols[formula.code] = Symbol(
                    source, frequency, self.rows.identity(zones), None, periods
                )

        def level_reference(name: str) -> Symbol | None:
            match = LEVEL_REFERENCE.match(name)
            if match is None or match["state"] not in package.states:
                return None
            kind = SourceKind.IS_NULL if match["null"] else SourceKind.INPUT
            rows_map = self.rows.to_ancestor(rows, UNITS, int(match["level"]))
            return Symbol(Source(kind, match["state"], frequency), frequency, rows_map, in_axis)

        def resolver(key: str, scope: Scope, table: dict[str, Symbol]) -> Resolver:
            return Resolver(
                key, scope, frequency, periods, table, level_reference, member_maps=member_maps
            )

        activity_codes = tuple(a.code for a in package.activities)
        for formula in package.activity_formulas:
            key = f"{code}.{formula.code}"
            self._shell(
                key,
                Scope.ACTIVITY,
                code,
                formula,
                activities=activity_codes,
                rows=rows,
                frequency=frequency,
                resolver=resolver(key, Scope.ACTIVITY, symbols),
            )
        for formula in package.package_formulas:
            key = f"{code}.{formula.code}"
            self._shell(
                key,
                Scope.PACKAGE,
                code,
                formula,
                rows=rows,
                frequency=frequency,
                resolver=resolver(key, Scope.PACKAGE, symbols),
            )
        for formula in package.zone_formulas:
            key = f"{code}.{formula.code}"
            self._shell(
                key,
                Scope.ZONE,
                code,
                formula,
                rows=f"zones:{code}",
                frequency=frequency,
                resolver=resolver(key, Scope.ZONE, zone_symbols),
            )

    def add_payment_rule(self, rule: PaymentRule) -> None:
        packages = [self.rule_set.package(code) for code in rule.packages]
        wanted = {ou.id for package in packages for ou in self._members(package)}
        members = [ou for ou in self.facilities if ou.id in wanted]
        rows = self.rows.add(f"rule:{rule.code}", [ou.id for ou in members])
        frequency, code = rule.frequency, rule.code
        periods = self.by_frequency[frequency]
        same = self.rows.identity(rows)
        symbols: dict[str, Symbol] = {"current_month": self._builtin(frequency, rows)}
        builder = ParamBuilder(code, rows, members, periods, rule.decision_tables)
        for name in builder.row_level_names():
            table = builder.table(name, None)
            self.params[table.key] = table
            symbols[name] = Symbol(
                Source(SourceKind.PARAM, table.key), frequency, same, None, periods, False
            )
        seen: dict[str, Symbol] = {}
        for package in packages:
            to_package = self.rows.between(rows, f"package:{package.code}")
            for formula in package.package_formulas:
                source = Source(SourceKind.RESULT, f"{package.code}.{formula.code}")
                symbol = Symbol(
                    source,
                    package.frequency,
                    to_package,
                    None,
                    self.by_frequency[package.frequency],
                    ambiguous=formula.code in seen,
                )
                seen[formula.code] = symbol
        for formula in rule.formulas:
            source = Source(SourceKind.RESULT, f"{code}.{formula.code}")
            clash = formula.code in seen
            seen[formula.code] = Symbol(source, frequency, same, None, periods, ambiguous=clash)
        symbols.update(seen)
        for formula in rule.formulas:
            key = f"{code}.{formula.code}"
            self._shell(
                key,
                Scope.PAYMENT,
                code,
                formula,
                rows=rows,
                frequency=frequency,
                resolver=Resolver(key, Scope.PAYMENT, frequency, periods, symbols),
            )

    def build(self, requested: list[Period]) -> Plan:
        templates: dict[str, Template] = {}
        input_periods: dict[str, set[str]] = {}
        for shell in self.shells:
            resolver = shell.resolver
            expression = resolver.resolve(parse(shell.formula.expression, equation=shell.key))
            check_array_positions(expression, equation=shell.key)
            for frequency, codes in resolver.input_periods.items():
                input_periods.setdefault(frequency, set()).update(codes)
            templates[shell.key] = Template(
                shell.key,
                shell.scope,
                shell.owner,
                shell.formula,
                shell.activities,
                shell.rows,
                self.by_frequency[shell.frequency],
                shell.frequency,
                expression,
                tuple(resolver.dependencies),
            )
        order = toposort(list(templates), {k: t.dependencies for k, t in templates.items()})
        return Plan(
            rule_set=self.rule_set,
            rule_set_hash=self.rule_set.content_hash(),
            currency=self.rule_set.currency,
            facilities=self.facilities,
            periods=tuple(p.code for p in requested),
            months=self.by_frequency[Frequency.MONTHLY],
            quarters=self.by_frequency[Frequency.QUARTERLY],
            activities=self.activities,
            units=self.rows.sets[UNITS],
            input_periods={f: tuple(sorted(codes)) for f, codes in input_periods.items()},
            row_sets=dict(self.rows.sets),
            row_maps=dict(self.rows.maps),
            params=self.params,
            templates=tuple(templates[k] for k in order),
            shared_activities=frozenset(
                code for code, count in self.activity_uses.items() if count > 1
            ),
        )


def plan_calculation(
    rule_set: RuleSet, facilities: Sequence[OrgUnit], periods: Sequence[str]
) -> Plan:
    """Compile ``rule_set`` for ``facilities`` over ``periods`` (months or quarters).

    Whole quarters are computed, so that quarter windows and quarterly packages are
    complete whichever months are asked for.

    Raises:
        RuleSetInvalid: when the rule set's structure is wrong.
        FormulaError: (a subclass) for a formula that does not parse or resolve, or a cycle.
        PlanningError: when facilities, periods or decision tables do not fit.
    """
    validate_rule_set(rule_set)
    requested, quarters = _periods(rule_set, periods)
    ids = [ou.id for ou in facilities]
    if len(set(ids)) != len(ids):
        raise _error(N_("A facility is listed twice in the calculation."))
    planner = _Planner(rule_set, facilities, quarters)
    for package in rule_set.packages:
        planner.add_package(package)
    for rule in rule_set.payment_rules:
        planner.add_payment_rule(rule)
    return planner.build(requested)
