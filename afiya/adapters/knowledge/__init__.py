"""Knowledge-base adapter: the medication-safety rules and the formulary from YAML."""

from afiya.adapters.knowledge.formulary_loader import load_formulary
from afiya.adapters.knowledge.yaml_loader import (
    FORMULARY_FILE,
    SAFETY_DIR,
    YamlKnowledgeLoader,
)

__all__ = ["FORMULARY_FILE", "SAFETY_DIR", "YamlKnowledgeLoader", "load_formulary"]
