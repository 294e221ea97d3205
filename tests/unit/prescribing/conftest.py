"""Fixtures of the prescribing tests: the shipped knowledge base and small factories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from afiya.adapters.knowledge import YamlKnowledgeLoader
from afiya.domain.prescribing.formulary import Formulary
from afiya.domain.prescribing.model import (
    Age,
    MedicationFact,
    MedicationOrderDraft,
    PatientContext,
)
from afiya.domain.prescribing.safety import KnowledgeBase

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def loader() -> YamlKnowledgeLoader:
    return YamlKnowledgeLoader()


@pytest.fixture(scope="session")
def kb(loader: YamlKnowledgeLoader) -> KnowledgeBase:
    return loader.load()


@pytest.fixture(scope="session")
def formulary(loader: YamlKnowledgeLoader) -> Formulary:
    return loader.load_formulary()


@pytest.fixture
def order(formulary: Formulary) -> Callable[..., MedicationOrderDraft]:
    """``order("amoxicillin-500-cap", dose=500, dose_unit="mg", frequency_per_day=3)``."""

    def make(code: str, **fields: Any) -> MedicationOrderDraft:
        return MedicationOrderDraft(product=formulary.get(code), **fields)

    return make


@pytest.fixture
def patient(formulary: Formulary) -> Callable[..., PatientContext]:
    """``patient(years=40, medications=["warfarin-5-tab"], conditions=[...])``."""

    def make(
        *, years: float | None = None, medications: tuple[str, ...] | list[str] = (), **fields: Any
    ) -> PatientContext:
        if years is not None:
            fields["age"] = Age.from_years(years)
        meds = tuple(MedicationFact(product=formulary.get(code)) for code in medications)
        return PatientContext(as_of=NOW, medications=meds, **fields)

    return make
