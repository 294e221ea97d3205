"""Loads the versioned medication-safety knowledge base from YAML.

The national release lives in ``afiya/knowledge/medication_safety`` (its
``manifest.yaml`` lists the files in order); local rules written by a facility's
pharmacist live in other directories with the same file format and are marked
``origin: local``. A local rule must come with firing and silent test cases, and it
is refused unless they pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from afiya.adapters.knowledge import schema as s
from afiya.adapters.knowledge.examples import ExampleParser
from afiya.adapters.knowledge.formulary_loader import load_formulary
from afiya.adapters.knowledge.rule_parser import RuleParser
from afiya.adapters.knowledge.schema import SAFE_LOADER, Invalid
from afiya.domain.prescribing.formulary import Formulary
from afiya.domain.prescribing.safety.alerts import Origin, RuleSource
from afiya.domain.prescribing.safety.knowledge_base import KnowledgeBase
from afiya.domain.prescribing.safety.rules import Analyte, DrugClass, KnowledgeRelease, Rule
from afiya.domain.prescribing.safety.self_test import run_examples
from afiya.domain.prescribing.safety.validation import validate_rules
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

KNOWLEDGE_ROOT = Path(__file__).resolve().parents[2] / "knowledge"
SAFETY_DIR = KNOWLEDGE_ROOT / "medication_safety"
FORMULARY_FILE = KNOWLEDGE_ROOT / "formulary" / "who_eml_core.yaml"
_DUPLICATE = N_("{name} is already defined.")
_NEEDS_EXAMPLES = N_("A local rule needs at least one firing and one silent test case.")


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ValidationFailed(
            [
                FieldError(
                    path.name,
                    Message(N_("The file is not valid YAML: {error}"), {"error": str(exc)}),
                )
            ]
        ) from exc


class YamlKnowledgeLoader:
    """Implements ``KnowledgeBaseSource`` over YAML files.

    Args:
        safety_dir: the national release (a directory with ``manifest.yaml``).
        formulary_file: the formulary the examples and substance index use.
        local_dirs: directories of local rules (every ``*.yaml``, sorted by name).
        require_local_examples: refuse local rules without passing test cases.
    """

    def __init__(
        self,
        safety_dir: Path = SAFETY_DIR,
        formulary_file: Path = FORMULARY_FILE,
        *,
        local_dirs: Sequence[Path] = (),
        require_local_examples: bool = True,
    ) -> None:
        self.safety_dir = safety_dir
        self.formulary_file = formulary_file
        self.local_dirs = tuple(local_dirs)
        self.require_local_examples = require_local_examples
        self._formulary: Formulary | None = None

    def load_formulary(self) -> Formulary:
        if self._formulary is None:
            self._formulary = load_formulary(self.formulary_file)
        return self._formulary

    def load(self) -> KnowledgeBase:
        formulary = self.load_formulary()
        digest = hashlib.sha256()
        manifest = s.mapping(
            _read(self.safety_dir / "manifest.yaml"),
            "manifest.yaml",
            required=("knowledge_base", "version", "files"),
            optional=("released", "status", "licence", "notes"),
        )
        national = [
            self.safety_dir / s.text(f, "manifest.files")
            for f in s.text_list(manifest["files"], "manifest.yaml.files")
        ]
        local = [p for d in self.local_dirs for p in sorted(d.glob("*.yaml"))]
        docs: list[tuple[Path, Any, Origin]] = []
        for path in national + local:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
            docs.append((path, _read(path), Origin.NATIONAL if path in national else Origin.LOCAL))
        problems: list[FieldError] = []
        sources: dict[str, RuleSource] = {}
        classes: dict[str, DrugClass] = {}
        analytes: dict[str, Analyte] = {}
        for path, doc, _origin in docs:
            try:
                self._vocabulary(doc, path.name, sources, classes, analytes)
            except Invalid as exc:
                problems.append(FieldError(exc.path, exc.message))
        examples = ExampleParser(formulary, analytes)
        rules: list[Rule] = []
        for path, doc, origin in docs:
            if isinstance(doc, Mapping) and "rules" in doc:
                problems.extend(self._rules(doc, path.name, origin, sources, examples, rules))
        if problems:
            # Report the rules' semantic problems too, so one pass shows everything.
            problems.extend(validate_rules(rules, classes, analytes))
            raise ValidationFailed(problems)
        release = KnowledgeRelease(
            name=s.text(manifest["knowledge_base"], "knowledge_base"),
            version=str(manifest["version"]),
            fingerprint=digest.hexdigest(),
            status=str(manifest.get("status") or ""),
            local_sources=tuple(str(p) for p in local),
        )
        kb = KnowledgeBase(
            release=release,
            classes=classes.values(),
            analytes=analytes.values(),
            rules=rules,
            substances=formulary.substance_atc_codes(),
        )
        self._check_local(kb)
        return kb

    def _vocabulary(
        self,
        doc: Any,
        name: str,
        sources: dict[str, RuleSource],
        classes: dict[str, DrugClass],
        analytes: dict[str, Analyte],
    ) -> None:
        data = s.mapping(
            doc,
            name,
            optional=("sources", "classes", "analytes", "rule_type", "rules", "description"),
        )
        for section, known in (("sources", sources), ("classes", classes), ("analytes", analytes)):
            for key in data.get(section) or {}:
                if key in known:  # a local file must not silently redefine national terms
                    raise Invalid(f"{name}.{section}.{key}", _DUPLICATE, name=str(key))
        for key, value in (data.get("sources") or {}).items():
            path = f"{name}.sources.{key}"
            entry = s.mapping(value, path, required=("title",), optional=("url", "year", "note"))
            sources[str(key)] = RuleSource(
                title=s.text(entry["title"], f"{path}.title"),
                url=s.optional_text(entry, "url", path),
            )
        for key, value in (data.get("classes") or {}).items():
            path = f"{name}.classes.{key}"
            entry = s.mapping(value, path, required=("atc",), optional=("exclude", "description"))
            classes[str(key)] = DrugClass(
                id=str(key),
                atc=s.text_list(entry["atc"], f"{path}.atc"),
                exclude=s.text_list(entry.get("exclude", []), f"{path}.exclude"),
                description=str(entry.get("description") or ""),
            )
        for key, value in (data.get("analytes") or {}).items():
            path = f"{name}.analytes.{key}"
            entry = s.mapping(
                value, path, required=("symbol", "unit", "loinc"), optional=("conversions",)
            )
            conversions = s.mapping(
                entry.get("conversions") or {},
                f"{path}.conversions",
                optional=entry.get("conversions") or {},
            )
            analytes[str(key)] = Analyte(
                id=str(key),
                symbol=s.text(entry["symbol"], f"{path}.symbol"),
                unit=s.text(entry["unit"], f"{path}.unit"),
                loinc=s.text_list(entry["loinc"], f"{path}.loinc"),
                conversions=tuple(
                    (str(u), s.number(f, f"{path}.conversions.{u}")) for u, f in conversions.items()
                ),
            )

    def _rules(
        self,
        doc: Mapping[str, Any],
        name: str,
        origin: Origin,
        sources: Mapping[str, RuleSource],
        examples: ExampleParser,
        into: list[Rule],
    ) -> list[FieldError]:
        problems = []
        try:
            rule_type = s.text(doc.get("rule_type"), f"{name}.rule_type")
            entries = s.items(doc["rules"], f"{name}.rules")
        except Invalid as exc:
            return [FieldError(exc.path, exc.message)]
        parser = RuleParser(sources, origin, examples)
        for path, entry in entries:
            rid = entry.get("id") if isinstance(entry, Mapping) else None
            where = f"{name}.rules.{rid}" if isinstance(rid, str) else path
            try:
                rule = parser.parse(rule_type, entry, where)
            except Invalid as exc:
                problems.append(FieldError(exc.path, exc.message))
                continue
            if origin is Origin.LOCAL and self.require_local_examples:
                expects = {e.expect for e in rule.meta.examples}
                if expects != {"fires", "silent"}:
                    message = Message(_NEEDS_EXAMPLES)
                    problems.append(FieldError(f"{where}.test_cases", message))
                    continue
            into.append(rule)
        return problems

    def _check_local(self, kb: KnowledgeBase) -> None:
        local = kb.local_rules()
        if not local or not self.require_local_examples:
            return
        failed = [o for o in run_examples(kb, local) if not o.passed]
        if failed:
            raise ValidationFailed(
                [
                    FieldError(
                        f"rules.{o.rule_id}.test_cases.{o.index}",
                        Message(
                            N_("Test case {index} of rule {id} fails: expected {expect}."),
                            {"index": o.index, "id": o.rule_id, "expect": o.example.expect},
                        ),
                    )
                    for o in failed
                ]
            )
