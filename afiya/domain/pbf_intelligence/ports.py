"""Ports of the PBF intelligence module; ``afiya.adapters.ml`` implements them with LightGBM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from afiya.domain.pbf_intelligence.model import (
    AnomalyScore,
    DeclarationRecord,
    FacilityRisk,
    ModelMetadata,
)


class AuditTargetModel(Protocol):
    """A trained model of the money a counter-verification visit would recover."""

    @property
    def metadata(self) -> ModelMetadata:
        """Version, training window, features and metrics of the model."""
        ...

    def expected_recovery(
        self, records: Sequence[DeclarationRecord], *, period: str
    ) -> list[FacilityRisk]:
        """Expected over-declared money per facility that declared in ``period``.

        Args:
            records: the declarations of ``period`` and the history before it (verification
                outcomes of ``period`` itself, if any, are ignored).
            period: the month to plan visits for.
        """
        ...


class AuditTargetTrainer(Protocol):
    """Trains an :class:`AuditTargetModel` from past verification outcomes."""

    def train(self, records: Sequence[DeclarationRecord], *, until: str) -> AuditTargetModel:
        """Train on the verification outcomes of the periods before ``until``.

        Raises:
            InsufficientHistory: too few verified months, values or over-declarations.
        """
        ...


class AnomalyScorer(Protocol):
    """Scores declared values against what history, season, peers and the HMIS predict."""

    def score(self, records: Sequence[DeclarationRecord], *, period: str) -> list[AnomalyScore]:
        """Flagged values of ``period``, highest score first, each with its reasons."""
        ...
