"""YAML rule entries to domain rules (see docs/adr/0103 for the file format)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, cast

from afiya.adapters.knowledge import schema as s
from afiya.adapters.knowledge.schema import Invalid
from afiya.domain.prescribing.model import DAYS_PER_YEAR
from afiya.domain.prescribing.safety.alerts import (
    AlertKind,
    LocalizedText,
    Origin,
    RuleSource,
    Severity,
)
from afiya.domain.prescribing.safety.rules import (
    AgeCriterion,
    AllergyMatch,
    AllergyRule,
    BreastfeedingCriterion,
    ConditionCriterion,
    ContraindicationRule,
    Criterion,
    DoseLimits,
    DoseRule,
    DrugSelector,
    DuplicateMatch,
    DuplicateRule,
    InteractionRule,
    LabCriterion,
    Mechanism,
    PregnancyCriterion,
    Rule,
    RuleExample,
    RuleMeta,
    SexCriterion,
)
from afiya.domain.shared.i18n import N_

ROUTE_GROUPS = {
    "systemic": ("oral", "iv", "im", "sc", "rectal", "sublingual", "buccal", "intraosseous"),
    "parenteral": ("iv", "im", "sc", "intraosseous"),
}
SEVERITIES = tuple(s.value for s in Severity)
META_KEYS = ("id", "version", "source", "advice", "test_cases", "supersedes", "note")

ExampleParser = Callable[[Any, str], RuleExample]


def localized(value: Any, path: str) -> LocalizedText:
    data = s.mapping(value, path, required=("en", "fr", "ar"))
    return LocalizedText(
        en=s.text(data["en"], f"{path}.en"),
        fr=s.text(data["fr"], f"{path}.fr"),
        ar=s.text(data["ar"], f"{path}.ar"),
    )


def selector(value: Any, path: str) -> DrugSelector:
    data = s.mapping(value, path, optional=("atc", "classes", "exclude", "routes"))
    routes: list[str] = []
    for route in s.text_list(data.get("routes", []), f"{path}.routes"):
        routes.extend(ROUTE_GROUPS.get(route.lower(), (route.lower(),)))
    return DrugSelector(
        atc=s.text_list(data.get("atc", []), f"{path}.atc"),
        classes=s.text_list(data.get("classes", []), f"{path}.classes"),
        exclude=s.text_list(data.get("exclude", []), f"{path}.exclude"),
        routes=tuple(dict.fromkeys(routes)),
    )


def _days(data: Mapping[str, Any], path: str, prefix: str) -> int | None:
    """``{prefix}_days``, ``_months`` or ``_years`` as whole days."""
    per_unit = {"days": 1.0, "months": DAYS_PER_YEAR / 12, "years": DAYS_PER_YEAR}
    found = [u for u in per_unit if f"{prefix}_{u}" in data]
    if not found:
        return None
    if len(found) > 1:
        raise Invalid(path, N_("Give the {name} bound in one unit only."), name=prefix)
    unit = found[0]
    return round(s.number(data[f"{prefix}_{unit}"], f"{path}.{prefix}_{unit}") * per_unit[unit])


_AGE_KEYS = tuple(f"{p}_{u}" for p in ("min", "below") for u in ("days", "months", "years"))


def criterion(value: Any, path: str) -> Criterion:
    if not isinstance(value, Mapping) or not value:
        raise Invalid(path, N_("Expected a mapping."))
    key = next(iter(value))
    if key == "condition":
        s.mapping(value, path, required=("condition",))
        return ConditionCriterion(s.text_list(value["condition"], f"{path}.condition"))
    if key == "lab":
        data = s.mapping(
            value,
            path,
            required=("lab",),
            optional=("below", "at_least", "above", "within_hours", "use"),
        )
        return LabCriterion(
            analyte=s.text(data["lab"], f"{path}.lab"),
            below=s.optional_number(data, "below", path),
            at_least=s.optional_number(data, "at_least", path),
            above=s.optional_number(data, "above", path),
            within_hours=s.optional_number(data, "within_hours", path) or 24 * 90,
            use=cast(
                Literal["latest", "any"],
                s.choice(data.get("use", "latest"), f"{path}.use", ("latest", "any")),
            ),
        )
    if key == "age":
        s.mapping(value, path, required=("age",))
        data = s.mapping(value["age"], f"{path}.age", optional=_AGE_KEYS)
        return AgeCriterion(_days(data, f"{path}.age", "min"), _days(data, f"{path}.age", "below"))
    if key == "pregnancy":
        s.mapping(value, path, required=("pregnancy",))
        data = s.mapping(
            value["pregnancy"] or {},
            f"{path}.pregnancy",
            optional=("min_weeks", "below_weeks", "when_weeks_unknown"),
        )
        return PregnancyCriterion(
            min_weeks=s.integer(data["min_weeks"], path) if "min_weeks" in data else None,
            below_weeks=s.integer(data["below_weeks"], path) if "below_weeks" in data else None,
            when_weeks_unknown=s.boolean(data.get("when_weeks_unknown", True), path),
        )
    if key == "breastfeeding":
        s.mapping(value, path, required=("breastfeeding",))
        if value["breastfeeding"] is not True:
            raise Invalid(path, N_("Expected true or false."))
        return BreastfeedingCriterion()
    if key == "sex":
        s.mapping(value, path, required=("sex",))
        sex = s.choice(value["sex"], f"{path}.sex", ("female", "male"))
        return SexCriterion(cast(Literal["female", "male"], sex))
    raise Invalid(f"{path}.{key}", N_("Unknown field {name}."), name=str(key))


def _criteria(data: Mapping[str, Any], key: str, path: str) -> tuple[Criterion, ...]:
    return tuple(criterion(v, p) for p, v in s.items(data.get(key, []), f"{path}.{key}"))


def _severity(data: Mapping[str, Any], key: str, path: str) -> Severity:
    return Severity(s.choice(data[key], f"{path}.{key}", SEVERITIES))


class RuleParser:
    """Parses the rules of one file; ``sources`` resolves ``source.ref`` citations."""

    def __init__(
        self, sources: Mapping[str, RuleSource], origin: Origin, example: ExampleParser
    ) -> None:
        self.sources = sources
        self.origin = origin
        self.example = example

    def meta(self, data: Mapping[str, Any], path: str) -> RuleMeta:
        src = s.mapping(data["source"], f"{path}.source", required=("ref",), optional=("detail",))
        ref = s.text(src["ref"], f"{path}.source.ref")
        if ref not in self.sources:
            raise Invalid(f"{path}.source.ref", N_("Unknown source {name}."), name=ref)
        base = self.sources[ref]
        detail = s.optional_text(src, "detail", f"{path}.source") or ""
        version = s.integer(data["version"], f"{path}.version")
        examples = tuple(
            self.example(v, p) for p, v in s.items(data.get("test_cases", []), f"{path}.test_cases")
        )
        supersedes = s.optional_text(data, "supersedes", path)
        return RuleMeta(
            id=s.text(data["id"], f"{path}.id"),
            version=version,
            origin=self.origin,
            source=RuleSource(base.title, detail, base.url),
            advice=localized(data["advice"], f"{path}.advice"),
            examples=examples,
            supersedes=supersedes,
        )

    def parse(self, rule_type: str, value: Any, path: str) -> Rule:
        parsers: dict[str, Callable[[Any, str], Rule]] = {
            "contraindication": self.contraindication,
            "allergy": self.allergy,
            "interaction": self.interaction,
            "duplicate": self.duplicate,
            "dose": self.dose,
        }
        parser = parsers.get(rule_type)
        if parser is None:
            raise Invalid(path, N_("Unknown rule type {name}."), name=rule_type)
        return parser(value, path)

    def contraindication(self, value: Any, path: str) -> ContraindicationRule:
        data = s.mapping(
            value,
            path,
            required=("id", "version", "source", "advice", "kind", "severity", "drugs"),
            optional=(*META_KEYS, "when_any", "requires", "unless_any"),
        )
        kinds = ("condition", "age", "pregnancy", "renal", "lab")
        return ContraindicationRule(
            meta=self.meta(data, path),
            kind=AlertKind(s.choice(data["kind"], f"{path}.kind", kinds)),
            severity=_severity(data, "severity", path),
            drugs=selector(data["drugs"], f"{path}.drugs"),
            when_any=_criteria(data, "when_any", path),
            requires=_criteria(data, "requires", path),
            unless_any=_criteria(data, "unless_any", path),
        )

    def allergy(self, value: Any, path: str) -> AllergyRule:
        data = s.mapping(
            value,
            path,
            required=("id", "version", "source", "advice", "kind", "match", "severity"),
            optional=(*META_KEYS, "high_criticality_severity", "allergen", "reactant"),
        )
        match = s.choice(
            data["match"], f"{path}.match", ("same_substance", "recorded_class", "cross")
        )
        severity = _severity(data, "severity", path)
        high = (
            _severity(data, "high_criticality_severity", path)
            if "high_criticality_severity" in data
            else severity
        )
        return AllergyRule(
            meta=self.meta(data, path),
            kind=AlertKind(s.choice(data["kind"], f"{path}.kind", ("allergy", "cross_reactivity"))),
            match=cast(AllergyMatch, match),
            severity=severity,
            high_criticality_severity=high,
            allergen=selector(data["allergen"], f"{path}.allergen") if "allergen" in data else None,
            reactant=selector(data["reactant"], f"{path}.reactant") if "reactant" in data else None,
        )

    def interaction(self, value: Any, path: str) -> InteractionRule:
        data = s.mapping(
            value,
            path,
            required=("id", "version", "source", "advice", "a", "b", "severity", "mechanism"),
            optional=META_KEYS,
        )
        mechanisms = tuple(m.value for m in Mechanism)
        return InteractionRule(
            meta=self.meta(data, path),
            a=selector(data["a"], f"{path}.a"),
            b=selector(data["b"], f"{path}.b"),
            severity=_severity(data, "severity", path),
            mechanism=Mechanism(s.choice(data["mechanism"], f"{path}.mechanism", mechanisms)),
        )

    def duplicate(self, value: Any, path: str) -> DuplicateRule:
        data = s.mapping(
            value,
            path,
            required=("id", "version", "source", "advice", "match", "severity"),
            optional=(*META_KEYS, "group", "exempt"),
        )
        match = s.choice(
            data["match"], f"{path}.match", ("same_ingredient", "same_atc4", "same_group")
        )
        return DuplicateRule(
            meta=self.meta(data, path),
            match=cast(DuplicateMatch, match),
            severity=_severity(data, "severity", path),
            group=selector(data["group"], f"{path}.group") if "group" in data else None,
            exempt=s.text_list(data.get("exempt", []), f"{path}.exempt"),
        )

    def dose(self, value: Any, path: str) -> DoseRule:
        data = s.mapping(
            value,
            path,
            required=("id", "version", "source", "advice", "drugs", "unit", "limits"),
            optional=(*META_KEYS, "age", "weight", "hard_limit_factor", "tolerance"),
        )
        limit_keys = tuple(DoseLimits.__dataclass_fields__)
        lim = s.mapping(data["limits"], f"{path}.limits", optional=limit_keys)
        age = s.mapping(data.get("age", {}), f"{path}.age", optional=_AGE_KEYS)
        weight = s.mapping(
            data.get("weight", {}), f"{path}.weight", optional=("min_kg", "below_kg")
        )
        return DoseRule(
            meta=self.meta(data, path),
            drugs=selector(data["drugs"], f"{path}.drugs"),
            unit=s.text(data["unit"], f"{path}.unit"),
            limits=DoseLimits(
                **{k: s.optional_number(lim, k, f"{path}.limits") for k in limit_keys}
            ),
            min_age_days=_days(age, f"{path}.age", "min"),
            below_age_days=_days(age, f"{path}.age", "below"),
            min_weight_kg=s.optional_number(weight, "min_kg", f"{path}.weight"),
            below_weight_kg=s.optional_number(weight, "below_kg", f"{path}.weight"),
            hard_limit_factor=s.optional_number(data, "hard_limit_factor", path) or 2.0,
            tolerance=s.optional_number(data, "tolerance", path) or 0.0,
        )
