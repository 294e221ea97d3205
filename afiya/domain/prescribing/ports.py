"""Ports of the prescribing workflow (the engine's own port is ``safety.ports``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from afiya.domain.prescribing.model import Product
from afiya.domain.prescribing.orders import Dispensing, Prescription
from afiya.domain.prescribing.record import SafetyRecord
from afiya.domain.prescribing.safety.knowledge_base import KnowledgeBase


@dataclass(frozen=True, slots=True)
class FormularyEntry:
    product: Product
    source: str  # who_eml, local
    local_names: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True, slots=True)
class LocalRule:
    """One version of a pharmacist's rule: ``document`` is a knowledge-base file
    (``rule_type``, ``rules`` with this one rule, optional ``sources`` and ``classes``)."""

    id: UUID
    rule_id: str
    version: int
    rule_type: str
    document: Mapping[str, Any]
    author_id: UUID
    at: datetime


class PrescribingRepository(Protocol):
    """Every query of prescribing (``uow.prescribing``)."""

    async def products(self, codes: Iterable[str]) -> dict[str, Product]:
        """The active products among ``codes``, by code."""
        ...

    async def search_products(self, text: str | None, limit: int) -> list[FormularyEntry]: ...

    async def product_exists(self, code: str) -> bool: ...

    async def add_product(self, entry: FormularyEntry) -> None: ...

    async def safety_record(self, patient_id: UUID) -> SafetyRecord:
        """The facts of the clinical record the safety check reads, and the medication
        lines of the patient's current active prescriptions."""
        ...

    async def add_prescription(self, prescription: Prescription) -> None: ...

    async def supersede(self, prescription_id: UUID) -> None:
        """Mark a version as no longer current (an amendment replaced it)."""
        ...

    async def save_status(self, prescription: Prescription) -> None:
        """Store the status and end fields of ``prescription``."""
        ...

    async def prescription(self, prescription_id: UUID) -> Prescription | None: ...

    async def prescription_of_line(self, line_id: UUID) -> Prescription | None: ...

    async def patient_prescriptions(
        self, patient_id: UUID, *, current_only: bool
    ) -> list[Prescription]: ...

    async def add_dispensing(self, dispensing: Dispensing) -> None: ...

    async def dispensing(self, dispensing_id: UUID) -> Dispensing | None: ...

    async def dispensings(self, prescription_id: UUID) -> list[Dispensing]: ...

    async def overridden(self, dispensing_id: UUID) -> bool:
        """Whether a refused dispensing already has an override."""
        ...

    async def local_rules(self) -> list[LocalRule]:
        """The current version of every local rule in force."""
        ...

    async def add_local_rule(self, rule: LocalRule) -> None:
        """Store a new version; the previous version of the same rule stops being current."""
        ...


class KnowledgeBuilder(Protocol):
    """Builds the knowledge base the engine uses: the national release merged with the
    pharmacists' local rules (cached per set of rule versions)."""

    def build(self, local_rules: Sequence[LocalRule]) -> KnowledgeBase:
        """Raises:
        ValidationFailed: a local rule is invalid or one of its test cases fails.
        """
        ...


class PrescriptionRenderer(Protocol):
    media_type: str

    def render(self, document: Any, translate: Callable[[str], str]) -> bytes: ...
