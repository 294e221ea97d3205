"""Ports of the safety engine. The YAML implementation is ``afiya.adapters.knowledge``."""

from __future__ import annotations

from typing import Protocol

from afiya.domain.prescribing.formulary import Formulary
from afiya.domain.prescribing.safety.knowledge_base import KnowledgeBase


class KnowledgeBaseSource(Protocol):
    """Loads the current knowledge base (national release plus local rules)."""

    def load_formulary(self) -> Formulary:
        """The formulary the rules' examples and the substance index are built on."""
        ...

    def load(self) -> KnowledgeBase:
        """A validated knowledge base.

        Raises:
            ValidationFailed: a rule or file is invalid; every problem is listed.
        """
        ...
