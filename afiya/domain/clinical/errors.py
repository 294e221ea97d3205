"""Errors of the clinical record (each has a stable code; the API maps classes to statuses).

Bad input (an implausible temperature, an unknown ICD-10 code) is a
:class:`~afiya.domain.shared.errors.ValidationFailed` naming the field; the classes below
are refusals that depend on the state of the record, not on the input alone.
"""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from afiya.domain.shared.errors import Conflict, NotFound, PermissionDenied
from afiya.domain.shared.i18n import N_, Message


class EncounterNotFound(NotFound):
    code = "encounter_not_found"
    default_message = N_("Encounter not found.")


class EncounterStateError(Conflict):
    """A step the state machine refuses: discharge twice, transfer after discharge..."""

    code = "encounter_state"
    default_message = N_("This step is not possible in the current state of the encounter.")


class NoteAmendmentRefused(PermissionDenied):
    code = "note_amendment_refused"
    default_message = N_("You may not amend this note.")


class StaleNoteVersion(Conflict):
    """The amendment was written against a version that is no longer the latest one."""

    code = "stale_note_version"
    default_message = N_(
        "This note was amended in the meantime: read the latest version, then amend that one."
    )


class AllergyStatementConflict(Conflict):
    """A "no known allergies" statement would contradict recorded allergies.

    The caller must name, explicitly, every active allergy the statement supersedes.
    """

    code = "allergy_statement_conflict"
    default_message = N_(
        'Allergies are recorded for this patient: a "no known allergies" statement must '
        "name each one it supersedes."
    )

    def __init__(self, allergy_ids: Collection[UUID], message: Message | None = None) -> None:
        self.allergy_ids = sorted(allergy_ids)
        super().__init__(message, details={"allergy_ids": [str(i) for i in self.allergy_ids]})


class DocumentNotReady(Conflict):
    code = "document_not_ready"
    default_message = N_("The record does not yet hold what this document needs.")
