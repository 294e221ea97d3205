"""Errors of the PBF intelligence module."""

from __future__ import annotations

from afiya.domain.shared.errors import DomainError
from afiya.domain.shared.i18n import N_


class InsufficientHistory(DomainError):
    """Too little verification history to train a model; callers fall back to rules."""

    code = "insufficient_history"
    default_message = N_("There is too little verification history to train a model.")


class InvalidModelArtefact(DomainError):
    """A stored model could not be read back (corrupt, truncated or another format)."""

    code = "invalid_model_artefact"
    default_message = N_("The stored model is damaged or in an unknown format.")
