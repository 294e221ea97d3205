"""Runs the worked examples kept next to each rule (fires / stays silent)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from afiya.domain.prescribing.safety.alerts import Severity
from afiya.domain.prescribing.safety.engine import check
from afiya.domain.prescribing.safety.knowledge_base import KnowledgeBase
from afiya.domain.prescribing.safety.rules import Rule, RuleExample


@dataclass(frozen=True, slots=True)
class ExampleOutcome:
    """The result of one example: ``severities`` are those the rule raised on it."""

    rule_id: str
    index: int
    example: RuleExample
    severities: tuple[Severity, ...]

    @property
    def passed(self) -> bool:
        if self.example.expect == "silent":
            return not self.severities
        if not self.severities:
            return False
        return self.example.severity is None or self.example.severity in self.severities


def run_example(kb: KnowledgeBase, rule: Rule, index: int) -> ExampleOutcome:
    example = rule.meta.examples[index]
    alerts = check(example.order, example.context, kb)
    severities = tuple(a.severity for a in alerts if a.rule_id == rule.meta.id)
    return ExampleOutcome(rule.meta.id, index, example, severities)


def run_examples(kb: KnowledgeBase, rules: Iterable[Rule] | None = None) -> list[ExampleOutcome]:
    """Run every example of ``rules`` (all the knowledge base's rules by default).

    A pharmacist's local rule is accepted only when all its examples pass; the test
    suite runs the national ones.
    """
    outcomes = []
    for rule in kb.rules if rules is None else rules:
        for index in range(len(rule.meta.examples)):
            outcomes.append(run_example(kb, rule, index))
    return outcomes
