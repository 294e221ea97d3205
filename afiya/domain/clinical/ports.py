"""Ports of the clinical record that adapters implement.

Repositories come with the database round; this round needs the code list and the
document renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from afiya.domain.clinical.documents import ClinicalDocument
from afiya.domain.clinical.icd10 import Icd10Catalogue

__all__ = ["DocumentRenderer", "Icd10Catalogue"]


class DocumentRenderer(Protocol):
    """Turns a document's content into a file (PDF) in the document's language."""

    media_type: str

    def render(self, document: ClinicalDocument, translate: Callable[[str], str]) -> bytes:
        """Render ``document``; ``translate`` maps a msgid to the document's language."""
        ...
