"""Medication-safety engine: checks an order against the patient, offline and pure.

``check(order, context, kb)`` returns alerts for allergies and cross-reactivity,
contraindications (condition, age, pregnancy, renal function, laboratory results),
drug-drug interactions, duplicate therapy and dose ranges. All clinical knowledge is
data (``KnowledgeBase``), loaded from versioned YAML by ``afiya.adapters.knowledge``.
"""

from afiya.domain.prescribing.safety.alerts import (
    Alert,
    AlertKind,
    Evidence,
    LocalizedText,
    Origin,
    RuleSource,
    Severity,
)
from afiya.domain.prescribing.safety.engine import check
from afiya.domain.prescribing.safety.knowledge_base import KnowledgeBase
from afiya.domain.prescribing.safety.ports import KnowledgeBaseSource
from afiya.domain.prescribing.safety.rules import (
    AgeCriterion,
    AllergyRule,
    Analyte,
    BreastfeedingCriterion,
    ConditionCriterion,
    ContraindicationRule,
    Criterion,
    DoseLimits,
    DoseRule,
    DrugClass,
    DrugSelector,
    DuplicateRule,
    InteractionRule,
    LabCriterion,
    Mechanism,
    PregnancyCriterion,
    RuleExample,
    RuleMeta,
    SexCriterion,
)
from afiya.domain.prescribing.safety.self_test import ExampleOutcome, run_examples

__all__ = [
    "AgeCriterion",
    "Alert",
    "AlertKind",
    "AllergyRule",
    "Analyte",
    "BreastfeedingCriterion",
    "ConditionCriterion",
    "ContraindicationRule",
    "Criterion",
    "DoseLimits",
    "DoseRule",
    "DrugClass",
    "DrugSelector",
    "DuplicateRule",
    "Evidence",
    "ExampleOutcome",
    "InteractionRule",
    "KnowledgeBase",
    "KnowledgeBaseSource",
    "LabCriterion",
    "LocalizedText",
    "Mechanism",
    "Origin",
    "PregnancyCriterion",
    "RuleExample",
    "RuleMeta",
    "RuleSource",
    "Severity",
    "SexCriterion",
    "check",
    "run_examples",
]
