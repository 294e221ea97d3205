"""Every rule of the shipped knowledge base, run on its own worked examples.

Each rule must carry at least one case that fires it and one that does not; the test
fails for a rule without them. Interaction examples are also replayed with the two
drugs swapped, since an interaction must not depend on the order of entry.
"""

from __future__ import annotations

from collections import Counter

import pytest

from afiya.adapters.knowledge import YamlKnowledgeLoader
from afiya.domain.prescribing.model import MedicationFact, MedicationOrderDraft, PatientContext
from afiya.domain.prescribing.safety import (
    AlertKind,
    ContraindicationRule,
    InteractionRule,
    KnowledgeBase,
    check,
)
from afiya.domain.prescribing.safety.self_test import run_example

_KB = YamlKnowledgeLoader().load()
_RULES = {rule.meta.id: rule for rule in _KB.rules}
_EXAMPLES = [(rid, n) for rid, rule in _RULES.items() for n in range(len(rule.meta.examples))]
_INTERACTION_FIRES = [
    (rid, n)
    for rid, rule in _RULES.items()
    if isinstance(rule, InteractionRule)
    for n, ex in enumerate(rule.meta.examples)
    if ex.expect == "fires"
]


@pytest.mark.parametrize("rule_id", sorted(_RULES))
def test_every_rule_has_a_firing_and_a_silent_case(rule_id: str) -> None:
    expects = Counter(ex.expect for ex in _RULES[rule_id].meta.examples)

    assert expects["fires"] >= 1, f"{rule_id} has no case that fires it"
    assert expects["silent"] >= 1, f"{rule_id} has no case where it stays silent"


@pytest.mark.parametrize(("rule_id", "index"), _EXAMPLES, ids=[f"{r}[{n}]" for r, n in _EXAMPLES])
def test_rule_example_behaves_as_documented(rule_id: str, index: int) -> None:
    outcome = run_example(_KB, _RULES[rule_id], index)
    example = outcome.example

    if example.expect == "silent":
        assert outcome.severities == (), f"{rule_id} fired on a silent case: {example.note}"
    else:
        assert outcome.severities, f"{rule_id} did not fire: {example.note}"
        if example.severity is not None:
            assert example.severity in outcome.severities


@pytest.mark.parametrize(
    ("rule_id", "index"), _INTERACTION_FIRES, ids=[f"{r}[{n}]" for r, n in _INTERACTION_FIRES]
)
def test_interaction_fires_with_the_same_severity_in_both_orders(rule_id: str, index: int) -> None:
    example = _RULES[rule_id].meta.examples[index]
    other = next(
        m for m in example.context.medications if _hits(rule_id, example.order, m, example.context)
    )
    swapped_order = MedicationOrderDraft(product=other.product, route=other.route)
    swapped_context = PatientContext(
        as_of=example.context.as_of,
        age=example.context.age,
        sex=example.context.sex,
        medications=(MedicationFact(product=example.order.product, route=example.order.route),),
    )

    forward = _severities(rule_id, example.order, example.context)
    backward = _severities(rule_id, swapped_order, swapped_context)

    assert forward == backward == {_RULES[rule_id].severity}  # type: ignore[union-attr]


def _severities(rule_id: str, order: MedicationOrderDraft, context: PatientContext) -> set[str]:
    return {a.severity for a in check(order, context, _KB) if a.rule_id == rule_id}


def _hits(
    rule_id: str, order: MedicationOrderDraft, med: MedicationFact, context: PatientContext
) -> bool:
    alone = PatientContext(as_of=context.as_of, medications=(med,))
    return bool(_severities(rule_id, order, alone))


def test_the_release_has_at_least_the_required_rule_counts(kb: KnowledgeBase) -> None:
    patient_state = [r for r in kb.rules if isinstance(r, ContraindicationRule)]
    kinds = Counter(r.kind for r in patient_state)

    assert len(patient_state) >= 25
    assert len([r for r in kb.rules if isinstance(r, InteractionRule)]) >= 30
    assert {AlertKind.CONDITION, AlertKind.AGE, AlertKind.PREGNANCY, AlertKind.RENAL} <= set(kinds)
    assert kinds[AlertKind.LAB] >= 3


def test_every_rule_cites_a_source_and_speaks_three_languages(kb: KnowledgeBase) -> None:
    for rule in kb.rules:
        meta = rule.meta
        assert meta.source.title, meta.id
        assert meta.version >= 1, meta.id
        assert meta.advice.missing() == (), meta.id
        assert meta.advice.fr != meta.advice.en and meta.advice.ar != meta.advice.en, meta.id


def test_rule_ids_are_unique_across_files(kb: KnowledgeBase) -> None:
    ids = [rule.meta.id for rule in kb.rules]

    assert len(ids) == len(set(ids))


def test_release_is_identified_by_version_and_content_fingerprint(kb: KnowledgeBase) -> None:
    assert kb.release.name == "afiya-medication-safety"
    assert kb.release.version
    assert len(kb.release.fingerprint) == 64
