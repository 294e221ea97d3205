"""Errors of the patient module (each has a stable code; the API maps them to statuses)."""

from __future__ import annotations

from collections.abc import Sequence

from afiya.domain.patients.model import Candidate
from afiya.domain.shared.errors import Conflict, NotFound
from afiya.domain.shared.i18n import N_, Message


class PatientNotFound(NotFound):
    code = "patient_not_found"
    default_message = N_("Patient not found.")


class ProbableDuplicate(Conflict):
    """Registration stopped: the person may already be registered.

    The caller shows the candidates with their reasons; the clerk either opens an
    existing record or confirms "new person" with a reason (audited).
    """

    code = "probable_duplicate"
    default_message = N_(
        "This person may already be registered. Check the candidates, or confirm that this "
        "is a new person and say why."
    )

    def __init__(self, candidates: Sequence[Candidate], message: Message | None = None) -> None:
        self.candidates = list(candidates)
        super().__init__(message)


class SameNationalId(ProbableDuplicate):
    """The NNI is already registered: the same NNI is always the same person."""

    code = "nni_already_registered"
    default_message = N_(
        "A patient with this national identity number (NNI) is already registered: "
        "open that record instead."
    )
