"""The knowledge base: validated rules plus the indexes that make a check fast.

Selectors are compiled to ATC prefix sets once; a prefix index maps every prefix to the
rule slots that mention it, so finding the rules about a product costs a handful of
dictionary look-ups per ATC code. Each product's profile is then cached: in a ward the
same few hundred products come back all day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from afiya.domain.prescribing.model import Ingredient, Product, normalize_route
from afiya.domain.prescribing.safety.alerts import Origin
from afiya.domain.prescribing.safety.codes import (
    Icd10Range,
    atc_prefixes,
    normalize_unit,
    parse_icd10_pattern,
)
from afiya.domain.prescribing.safety.rules import (
    AllergyRule,
    Analyte,
    ConditionCriterion,
    ContraindicationRule,
    DoseRule,
    DrugClass,
    DrugSelector,
    DuplicateRule,
    InteractionRule,
    KnowledgeRelease,
    Rule,
)
from afiya.domain.prescribing.safety.validation import validate_rules
from afiya.domain.shared.errors import ValidationFailed

_PROFILE_CACHE_LIMIT = 20_000


class CompiledSelector:
    """A ``DrugSelector`` with classes expanded into ATC prefixes."""

    __slots__ = ("exclude", "include", "routes")

    def __init__(self, selector: DrugSelector, classes: Mapping[str, DrugClass]) -> None:
        include = list(selector.atc)
        exclude = list(selector.exclude)
        for name in selector.classes:
            include.extend(classes[name].atc)
            exclude.extend(classes[name].exclude)
        self.include: tuple[str, ...] = tuple(dict.fromkeys(include))
        self.exclude: tuple[str, ...] = tuple(dict.fromkeys(exclude))
        self.routes = frozenset(normalize_route(r) for r in selector.routes)

    def matching_code(self, codes: Iterable[str]) -> str | None:
        """The first of ``codes`` (in sorted order) the selector takes, if any."""
        for code in sorted(codes):
            if code.startswith(self.include) and not (
                self.exclude and code.startswith(self.exclude)
            ):
                return code
        return None

    def route_ok(self, route: str | None) -> bool:
        return not self.routes or (route is not None and route in self.routes)


@dataclass(frozen=True, slots=True)
class Slot:
    """One selector of one rule (an interaction has two: ``a`` and ``b``)."""

    rule: Rule
    side: str
    selector: CompiledSelector


@dataclass(frozen=True, slots=True)
class DrugProfile:
    """What the knowledge base knows about one product, computed once."""

    product: Product
    codes: frozenset[str]
    ingredient_codes: frozenset[str]
    atc4: frozenset[str]
    contraindications: tuple[tuple[ContraindicationRule, CompiledSelector, str], ...]
    reactant_of: tuple[tuple[AllergyRule, CompiledSelector, str], ...]
    interaction_sides: Mapping[str, tuple[InteractionRule, Mapping[str, CompiledSelector]]]
    duplicate_groups: tuple[tuple[DuplicateRule, str], ...]
    dose_rules: tuple[tuple[DoseRule, CompiledSelector, Ingredient], ...]


class KnowledgeBase:
    """Rules, drug classes, analytes and substance codes, validated and indexed.

    Raises:
        ValidationFailed: on construction, listing every invalid rule.
    """

    def __init__(
        self,
        *,
        release: KnowledgeRelease,
        classes: Iterable[DrugClass],
        analytes: Iterable[Analyte],
        rules: Sequence[Rule],
        substances: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.release = release
        self.classes = {c.id: c for c in classes}
        self.analytes = {a.id: a for a in analytes}
        problems = validate_rules(rules, self.classes, self.analytes)
        if problems:
            raise ValidationFailed(problems)
        superseded = {r.meta.supersedes for r in rules if r.meta.supersedes}
        self.superseded: frozenset[str] = frozenset(s for s in superseded if s)
        self.rules: tuple[Rule, ...] = tuple(r for r in rules if r.meta.id not in self.superseded)
        self._by_id = {r.meta.id: r for r in self.rules}
        self._rank = {r.meta.id: n for n, r in enumerate(self.rules)}
        self.substances: dict[str, frozenset[str]] = dict(substances or {})
        self._icd10: dict[ConditionCriterion, tuple[Icd10Range, ...]] = {}
        self._analyte_by_loinc: dict[str, tuple[Analyte, dict[str, float]]] = {}
        for analyte in self.analytes.values():
            factors = {normalize_unit(u): f for u, f in analyte.conversions}
            factors[normalize_unit(analyte.unit)] = 1.0
            for code in analyte.loinc:
                self._analyte_by_loinc[code] = (analyte, factors)
        self._compiled: dict[tuple[str, str], CompiledSelector] = {}
        self._prefix_index: dict[str, list[Slot]] = {}
        self.allergy_rules: tuple[AllergyRule, ...] = ()
        self.duplicate_rules: tuple[DuplicateRule, ...] = ()
        self._index()
        self._profiles: dict[Product, DrugProfile] = {}

    # -- construction -------------------------------------------------------------

    def _index(self) -> None:
        allergy: list[AllergyRule] = []
        duplicates: list[DuplicateRule] = []
        for rule in self.rules:
            if isinstance(rule, ContraindicationRule):
                self._add_slot(rule, "drugs", rule.drugs)
                for criterion in (*rule.when_any, *rule.requires, *rule.unless_any):
                    if isinstance(criterion, ConditionCriterion):
                        self._icd10[criterion] = tuple(
                            parse_icd10_pattern(c) for c in criterion.codes
                        )
            elif isinstance(rule, InteractionRule):
                self._add_slot(rule, "a", rule.a)
                self._add_slot(rule, "b", rule.b)
            elif isinstance(rule, DoseRule):
                self._add_slot(rule, "drugs", rule.drugs)
            elif isinstance(rule, AllergyRule):
                allergy.append(rule)
                if rule.allergen is not None:
                    self._compile(rule, "allergen", rule.allergen)
                if rule.reactant is not None:
                    self._add_slot(rule, "reactant", rule.reactant)
            else:
                duplicates.append(rule)
                if rule.group is not None:
                    self._add_slot(rule, "group", rule.group)
        self.allergy_rules = tuple(allergy)
        # Most specific first: the duplicate check reports the first rule that applies.
        order = {"same_ingredient": 0, "same_atc4": 1, "same_group": 2}
        self.duplicate_rules = tuple(sorted(duplicates, key=lambda r: order[r.match]))

    def _compile(self, rule: Rule, side: str, selector: DrugSelector) -> CompiledSelector:
        compiled = CompiledSelector(selector, self.classes)
        self._compiled[(rule.meta.id, side)] = compiled
        return compiled

    def _add_slot(self, rule: Rule, side: str, selector: DrugSelector) -> None:
        compiled = self._compile(rule, side, selector)
        slot = Slot(rule, side, compiled)
        for prefix in compiled.include:
            self._prefix_index.setdefault(prefix, []).append(slot)

    # -- look-ups -----------------------------------------------------------------

    def rule(self, rule_id: str) -> Rule | None:
        return self._by_id.get(rule_id)

    def selector(self, rule_id: str, side: str) -> CompiledSelector:
        return self._compiled[(rule_id, side)]

    def icd10_ranges(self, criterion: ConditionCriterion) -> tuple[Icd10Range, ...]:
        ranges = self._icd10.get(criterion)
        if ranges is None:  # a criterion built outside the KB: compile on demand
            ranges = tuple(parse_icd10_pattern(c) for c in criterion.codes)
            self._icd10[criterion] = ranges
        return ranges

    def analyte_for_loinc(self, loinc: str) -> tuple[Analyte, dict[str, float]] | None:
        return self._analyte_by_loinc.get(loinc)

    def local_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.meta.origin is Origin.LOCAL)

    def substance_codes(self, ingredient_code: str) -> frozenset[str]:
        return self.substances.get(ingredient_code, frozenset())

    def profile(self, product: Product) -> DrugProfile:
        """The rules that concern ``product`` (route filters are applied by the checks)."""
        cached = self._profiles.get(product)
        if cached is not None:
            return cached
        if len(self._profiles) >= _PROFILE_CACHE_LIMIT:
            self._profiles.clear()
        profile = self._build_profile(product)
        self._profiles[product] = profile
        return profile

    def _slots_for(self, codes: Iterable[str]) -> list[Slot]:
        found: dict[int, Slot] = {}
        for code in codes:
            for prefix in atc_prefixes(code):
                for slot in self._prefix_index.get(prefix, ()):
                    found.setdefault(id(slot), slot)
        return list(found.values())

    def _build_profile(self, product: Product) -> DrugProfile:
        codes = product.atc_codes()
        contraindications = []
        reactant_of = []
        sides: dict[str, tuple[InteractionRule, dict[str, CompiledSelector]]] = {}
        groups = []
        for slot in self._slots_for(codes):
            rule = slot.rule
            if isinstance(rule, DoseRule):
                continue
            matched = slot.selector.matching_code(codes)
            if matched is None:
                continue
            if isinstance(rule, ContraindicationRule):
                contraindications.append((rule, slot.selector, matched))
            elif isinstance(rule, AllergyRule):
                reactant_of.append((rule, slot.selector, matched))
            elif isinstance(rule, InteractionRule):
                sides.setdefault(rule.meta.id, (rule, {}))[1][slot.side] = slot.selector
            elif isinstance(rule, DuplicateRule):
                groups.append((rule, matched))
        dose_rules = []
        for ing in product.ingredients:
            ing_codes = {ing.atc} if ing.atc else set()
            if product.atc and len(product.ingredients) == 1:
                ing_codes.add(product.atc)
            for slot in self._slots_for(ing_codes):
                if isinstance(slot.rule, DoseRule) and slot.selector.matching_code(ing_codes):
                    dose_rules.append((slot.rule, slot.selector, ing))
        rank = self._rank
        return DrugProfile(
            product=product,
            codes=codes,
            ingredient_codes=frozenset(i.code for i in product.ingredients),
            atc4=frozenset(c[:5] for c in codes if len(c) >= 5),
            contraindications=tuple(sorted(contraindications, key=lambda t: rank[t[0].meta.id])),
            reactant_of=tuple(sorted(reactant_of, key=lambda t: rank[t[0].meta.id])),
            interaction_sides=sides,
            duplicate_groups=tuple(groups),
            dose_rules=tuple(sorted(dose_rules, key=lambda t: rank[t[0].meta.id])),
        )
