"""Clinical notes: structured, append-only, amended by new versions.

A note is written once and never changed. An amendment is a new version that points at
the previous one (``previous_id``) and shares the first version's ``series_id``; it says
why it was written. Every version stays readable, so the record shows what was known and
written at each moment, which matters in disputes and audits.

Who may amend: the author of the note (of its first version) or of its latest version, or
a clinician holding the right to amend the notes of others (a head of department); always
on the latest version, always with a reason, and only to change something.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from afiya.domain.clinical.common import check_time, field_error, iso, raise_if, text_or_none
from afiya.domain.clinical.errors import NoteAmendmentRefused, StaleNoteVersion
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message


class NoteKind(StrEnum):
    CONSULTATION = "consultation"
    ADMISSION = "admission"  # observation d'entrée
    PROGRESS = "progress"  # note d'évolution
    DISCHARGE = "discharge"


@dataclass(frozen=True, slots=True)
class NoteSections:
    """Anamnesis (history), examination, assessment and plan; at least one is written."""

    anamnesis: str | None = None
    examination: str | None = None
    assessment: str | None = None
    plan: str | None = None

    def cleaned(self) -> NoteSections:
        return NoteSections(
            text_or_none(self.anamnesis),
            text_or_none(self.examination),
            text_or_none(self.assessment),
            text_or_none(self.plan),
        )

    @property
    def empty(self) -> bool:
        return not any((self.anamnesis, self.examination, self.assessment, self.plan))


@dataclass(frozen=True, slots=True)
class ClinicalNote:
    id: UUID
    series_id: UUID  # the first version's id, shared by all versions
    version: int  # 1, 2, 3...
    patient_id: UUID
    encounter_id: UUID | None
    kind: NoteKind
    sections: NoteSections
    author_id: UUID  # who wrote this version
    written_at: datetime
    first_author_id: UUID  # who wrote version 1: the note's author
    previous_id: UUID | None = None
    amendment_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Amender:
    """Who is amending, and whether they may amend notes they did not write."""

    user_id: UUID
    may_amend_others: bool = False


def write_note(
    *,
    id: UUID,
    patient_id: UUID,
    encounter_id: UUID | None,
    kind: NoteKind,
    sections: NoteSections,
    author_id: UUID,
    written_at: datetime,
    now: datetime,
) -> ClinicalNote:
    """Write the first version of a note.

    Raises:
        ValidationFailed: all sections empty, or an impossible time.
    """
    cleaned = sections.cleaned()
    errors = check_time("written_at", written_at, now)
    if cleaned.empty:
        errors.append(
            field_error("sections", "required", N_("Write at least one section of the note."))
        )
    raise_if(errors)
    return ClinicalNote(
        id, id, 1, patient_id, encounter_id, kind, cleaned, author_id, written_at, author_id
    )


def amend_note(
    latest: ClinicalNote,
    *,
    id: UUID,
    based_on_version: int,
    sections: NoteSections,
    amender: Amender,
    reason: str,
    written_at: datetime,
    now: datetime,
) -> ClinicalNote:
    """Write a new version of a note.

    Args:
        latest: the latest stored version of the series.
        id: the new version's id.
        based_on_version: the version the amender read and changed: a concurrent
            amendment since then is refused instead of silently overwritten.
        sections: the full new content.
        amender: who amends.
        reason: why (correction, late result, wrong patient detail...).
        written_at: when the amendment was written.
        now: the current time.

    Raises:
        NoteAmendmentRefused: the amender is not the author and may not amend others' notes.
        StaleNoteVersion: ``based_on_version`` is not the latest version.
        ValidationFailed: no reason, no change, empty content or an impossible time.
    """
    authors = {latest.first_author_id, latest.author_id}
    if amender.user_id not in authors and not amender.may_amend_others:
        raise NoteAmendmentRefused(
            Message(
                N_(
                    "Only the author of this note, or a clinician allowed to amend the notes "
                    "of others, may amend it."
                )
            )
        )
    if based_on_version != latest.version:
        raise StaleNoteVersion(details={"latest_version": latest.version})
    cleaned = sections.cleaned()
    errors: list[FieldError] = check_time("written_at", written_at, now)
    if not errors and written_at < latest.written_at:
        errors.append(
            field_error(
                "written_at",
                "before_previous",
                N_("An amendment cannot be dated before the version it amends ({at})."),
                at=iso(latest.written_at),
            )
        )
    if text_or_none(reason) is None:
        errors.append(field_error("reason", "required", N_("Say why the note is amended.")))
    if cleaned.empty:
        errors.append(
            field_error("sections", "required", N_("Write at least one section of the note."))
        )
    elif cleaned == latest.sections:
        errors.append(field_error("sections", "unchanged", N_("The amendment changes nothing.")))
    raise_if(errors)
    return ClinicalNote(
        id=id,
        series_id=latest.series_id,
        version=latest.version + 1,
        patient_id=latest.patient_id,
        encounter_id=latest.encounter_id,
        kind=latest.kind,
        sections=cleaned,
        author_id=amender.user_id,
        written_at=written_at,
        first_author_id=latest.first_author_id,
        previous_id=latest.id,
        amendment_reason=text_or_none(reason),
    )


def history(versions: Sequence[ClinicalNote]) -> list[ClinicalNote]:
    """The versions of one note, first to latest, checked to form one unbroken chain.

    Raises:
        ValueError: versions of several notes, a gap, a fork or a broken link (corrupt
            or partly replicated data: the caller must not show a partial history as whole).
    """
    if not versions:
        return []
    ordered = sorted(versions, key=lambda v: v.version)
    series = ordered[0].series_id
    for expected, (previous, note) in enumerate(
        zip([None, *ordered], ordered, strict=False), start=1
    ):
        if note.series_id != series or note.version != expected:
            raise ValueError(f"note series {series}: version {expected} missing or duplicated")
        if (previous is None and note.previous_id is not None) or (
            previous is not None and note.previous_id != previous.id
        ):
            raise ValueError(
                f"note series {series}: version {note.version} does not follow its predecessor"
            )
    return ordered


def current(versions: Sequence[ClinicalNote]) -> ClinicalNote | None:
    """The latest version of a note."""
    chain = history(versions)
    return chain[-1] if chain else None
