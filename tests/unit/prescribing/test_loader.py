"""The YAML loader: strict validation, local rules, fingerprints, and the formulary seed."""

from __future__ import annotations

import shutil
from pathlib import Path
from textwrap import dedent

import pytest

from afiya.adapters.knowledge import SAFETY_DIR, YamlKnowledgeLoader, load_formulary
from afiya.domain.prescribing.formulary import Formulary
from afiya.domain.prescribing.model import is_atc_code
from afiya.domain.prescribing.safety import Origin, Severity, check
from afiya.domain.shared.errors import ValidationFailed

ADVICE = "advice: {en: Stop., fr: Arrêter., ar: أوقف.}"


def _release(tmp_path: Path, rules_yaml: str) -> Path:
    """A release with the national vocabulary and one rules file."""
    root = tmp_path / "release"
    root.mkdir()
    for name in ("sources.yaml", "vocabulary.yaml"):
        shutil.copy(SAFETY_DIR / name, root / name)
    (root / "rules.yaml").write_text(dedent(rules_yaml), encoding="utf-8")
    (root / "manifest.yaml").write_text(
        "knowledge_base: test\nversion: '1'\nfiles: [sources.yaml, vocabulary.yaml, rules.yaml]\n",
        encoding="utf-8",
    )
    return root


def _local(tmp_path: Path, rules_yaml: str) -> Path:
    local = tmp_path / "local"
    local.mkdir(exist_ok=True)
    (local / "pharmacy.yaml").write_text(dedent(rules_yaml), encoding="utf-8")
    return local


GOOD_RULE = f"""
rule_type: contraindication
rules:
  - id: test-metformin-renal
    version: 1
    kind: renal
    severity: warning
    drugs: {{atc: [A10BA02]}}
    when_any: [{{lab: egfr, below: 60}}]
    source: {{ref: bnf}}
    {ADVICE}
    test_cases:
      - expect: fires
        order: metformin-500-tab
        patient: {{labs: [{{analyte: egfr, value: 50, unit: mL/min/1.73m2}}]}}
      - {{expect: silent, order: metformin-500-tab}}
"""


class TestValidation:
    def test_every_problem_is_listed_with_its_path(self, tmp_path: Path) -> None:
        root = _release(
            tmp_path,
            f"""
            rule_type: contraindication
            rules:
              - id: a
                version: 1
                kind: condition
                severity: warning
                drugs: {{classes: [no_such_class]}}
                when_any: [{{condition: [E14-E10]}}]
                source: {{ref: bnf}}
                {ADVICE}
              - id: b
                version: 1
                kind: condition
                severity: fatal
                drugs: {{atc: [N02BE01]}}
                source: {{ref: bnf}}
                {ADVICE}
              - id: c
                version: 1
                kind: condition
                severity: info
                colour: red
                drugs: {{atc: [N02BE01]}}
                source: {{ref: bnf}}
                {ADVICE}
              - id: d
                version: 1
                kind: condition
                severity: info
                drugs: {{atc: [N02BE01]}}
                when_any: [{{condition: [E11]}}]
                source: {{ref: nowhere}}
                {ADVICE}
              - id: e
                version: 1
                kind: condition
                severity: info
                drugs: {{atc: [N02BE01]}}
                when_any: [{{condition: [E11]}}]
                source: {{ref: bnf}}
                advice: {{en: Stop., fr: Arrêter.}}
            """,
        )

        with pytest.raises(ValidationFailed) as caught:
            YamlKnowledgeLoader(root).load()

        problems = sorted((e.field, e.message.msgid) for e in caught.value.errors)
        assert problems == [
            ("rules.a", "{code} is not an ICD-10 code or range."),
            ("rules.a.drugs", "Unknown drug class {name}."),
            ("rules.yaml.rules.b.severity", "{value} is not one of {allowed}."),
            ("rules.yaml.rules.c.colour", "Unknown field {name}."),
            ("rules.yaml.rules.d.source.ref", "Unknown source {name}."),
            ("rules.yaml.rules.e.advice.ar", "This field is required."),
        ]

    def test_duplicate_ids_are_refused(self, tmp_path: Path) -> None:
        body = GOOD_RULE.split("rules:\n", 1)[1]
        root = _release(tmp_path, GOOD_RULE + body)

        with pytest.raises(ValidationFailed) as caught:
            YamlKnowledgeLoader(root).load()

        assert [e.message.msgid for e in caught.value.errors] == ["Duplicate rule id {id}."]

    def test_a_valid_release_loads_and_its_rule_fires(self, tmp_path: Path) -> None:
        kb = YamlKnowledgeLoader(_release(tmp_path, GOOD_RULE)).load()

        [rule] = kb.rules
        example = rule.meta.examples[0]
        [alert] = check(example.order, example.context, kb)
        assert (alert.rule_id, alert.origin) == ("test-metformin-renal", Origin.NATIONAL)

    def test_fingerprint_follows_the_content(self, tmp_path: Path) -> None:
        root = _release(tmp_path, GOOD_RULE)
        before = YamlKnowledgeLoader(root).load().release.fingerprint
        (root / "rules.yaml").write_text(GOOD_RULE.replace("below: 60", "below: 59"), "utf-8")

        after = YamlKnowledgeLoader(root).load().release.fingerprint

        assert before != after


class TestLocalRules:
    def test_a_local_rule_is_marked_local_and_can_supersede_a_national_one(
        self, tmp_path: Path
    ) -> None:
        local = _local(
            tmp_path,
            GOOD_RULE.replace("test-metformin-renal", "local-metformin-renal")
            .replace("severity: warning", "severity: contraindicated")
            .replace("version: 1", "version: 1\n    supersedes: test-metformin-renal"),
        )

        kb = YamlKnowledgeLoader(_release(tmp_path, GOOD_RULE), local_dirs=[local]).load()

        assert [r.meta.id for r in kb.rules] == ["local-metformin-renal"]
        assert kb.superseded == {"test-metformin-renal"}
        assert kb.rules[0].meta.origin is Origin.LOCAL
        assert kb.release.local_sources == (str(local / "pharmacy.yaml"),)
        example = kb.rules[0].meta.examples[0]
        assert [a.severity for a in check(example.order, example.context, kb)] == [
            Severity.CONTRAINDICATED
        ]

    def test_a_local_rule_without_a_silent_case_is_refused(self, tmp_path: Path) -> None:
        local = _local(
            tmp_path,
            GOOD_RULE.replace("test-metformin-renal", "local-x").replace(
                "      - {expect: silent, order: metformin-500-tab}\n", ""
            ),
        )

        with pytest.raises(ValidationFailed) as caught:
            YamlKnowledgeLoader(_release(tmp_path, GOOD_RULE), local_dirs=[local]).load()

        assert caught.value.errors[0].field == "pharmacy.yaml.rules.local-x.test_cases"

    def test_a_local_rule_whose_case_fails_is_refused(self, tmp_path: Path) -> None:
        local = _local(
            tmp_path,
            GOOD_RULE.replace("test-metformin-renal", "local-y").replace("value: 50", "value: 90"),
        )

        with pytest.raises(ValidationFailed) as caught:
            YamlKnowledgeLoader(_release(tmp_path, GOOD_RULE), local_dirs=[local]).load()

        [error] = caught.value.errors
        assert error.field == "rules.local-y.test_cases.0"
        assert error.message.params == {"index": 0, "id": "local-y", "expect": "fires"}

    def test_a_local_file_cannot_redefine_a_national_class(self, tmp_path: Path) -> None:
        local = _local(tmp_path, "classes:\n  nsaids: {atc: [M01AE]}\n")

        with pytest.raises(ValidationFailed) as caught:
            YamlKnowledgeLoader(_release(tmp_path, GOOD_RULE), local_dirs=[local]).load()

        [error] = caught.value.errors
        assert (error.field, error.message.msgid) == (
            "pharmacy.yaml.classes.nsaids",
            "{name} is already defined.",
        )

    def test_a_national_rule_cannot_supersede(self, tmp_path: Path) -> None:
        rule = GOOD_RULE.replace("version: 1", "version: 1\n    supersedes: anything")

        with pytest.raises(ValidationFailed) as caught:
            YamlKnowledgeLoader(_release(tmp_path, rule)).load()

        assert (
            caught.value.errors[0].message.msgid == "Only a local rule may supersede another rule."
        )


class TestFormularySeed:
    def test_seed_has_the_essential_products_with_provenance(self, formulary: Formulary) -> None:
        assert len(formulary) >= 150
        assert "WHO Model List of Essential Medicines" in formulary.provenance.source
        assert "CC BY-NC-SA 3.0 IGO" in formulary.provenance.licence
        for prefix in (
            "P01BF",  # artemisinin-based combinations
            "P01BE03",  # artesunate
            "J01CA04",  # amoxicillin
            "J05AR27",  # tenofovir + lamivudine + dolutegravir
            "J04AM06",  # RHZE
            "A10AB",  # insulin
            "B05BA03",  # glucose infusions
            "H01BB02",  # oxytocin
            "G02AD06",  # misoprostol
            "B05XA05",  # magnesium sulfate
            "N02BE01",  # paracetamol
            "M01AE01",  # ibuprofen
            "C09AA",  # ACE inhibitors
            "A10BA02",  # metformin
        ):
            assert formulary.by_atc(prefix), prefix

    def test_every_product_is_coded(self, formulary: Formulary) -> None:
        for product in formulary:
            assert product.atc and is_atc_code(product.atc), product.code
            assert product.routes and product.form, product.code
            assert all(i.strength for i in product.ingredients), product.code

    def test_search_ignores_case_and_accents(self, formulary: Formulary) -> None:
        found = {p.code for p in formulary.search("ARTÉMETHER")}

        assert {"al-20-120-tab", "artemether-80-inj"} <= found

    def test_unknown_substance_is_reported_with_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "f.yaml"
        path.write_text(
            dedent(
                """
                provenance: {source: s, edition: e, licence: l}
                substances: {paracetamol: N02BE01}
                products:
                  - {code: p, items: "paracetamol 500 mg", per: tablet, form: tab, routes: [oral]}
                  - {code: q, items: "unobtainium 5 mg", per: tablet, form: tablet, routes: [oral]}
                """
            ),
            encoding="utf-8",
        )

        with pytest.raises(ValidationFailed) as caught:
            load_formulary(path)

        [error] = caught.value.errors
        assert (error.field, error.message.params) == (
            "f.yaml.products.1.items",
            {"name": "unobtainium"},
        )
