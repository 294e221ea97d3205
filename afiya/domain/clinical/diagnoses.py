"""Encounter diagnoses (one primary, any number of secondary), coded ICD-10.

While an encounter is open, at most one diagnosis is primary; to close it, exactly one
must be (the primary diagnosis is what morbidity statistics count). Diagnoses are never
deleted: one recorded by mistake is marked ``entered_in_error`` and stops counting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from afiya.domain.clinical.common import check_time, field_error, raise_if, text_or_none
from afiya.domain.clinical.errors import EncounterStateError
from afiya.domain.clinical.icd10 import Icd10Catalogue, check_code
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message


class DiagnosisRank(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


class Certainty(StrEnum):
    PROVISIONAL = "provisional"  # working diagnosis, awaiting tests
    CONFIRMED = "confirmed"
    ENTERED_IN_ERROR = "entered_in_error"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    id: UUID
    patient_id: UUID
    encounter_id: UUID
    code: str  # ICD-10, normalised
    rank: DiagnosisRank
    certainty: Certainty
    recorded_at: datetime
    recorded_by: UUID
    note: str | None = None

    @property
    def counts(self) -> bool:
        return self.certainty is not Certainty.ENTERED_IN_ERROR


def add_diagnosis(
    existing: Sequence[Diagnosis],
    *,
    id: UUID,
    patient_id: UUID,
    encounter_id: UUID,
    code: str,
    rank: DiagnosisRank,
    recorded_at: datetime,
    recorded_by: UUID,
    catalogue: Icd10Catalogue,
    now: datetime,
    certainty: Certainty = Certainty.CONFIRMED,
    note: str | None = None,
) -> list[Diagnosis]:
    """Add a diagnosis to an encounter's list; return the new list.

    Rules: the code is a valid WHO ICD-10 category or subcategory; a code is listed once
    per encounter; a new primary diagnosis demotes the previous primary to secondary
    (explicitly, in the returned list), so there is never more than one.

    Raises:
        ValidationFailed: on ``code`` (unknown, malformed, already listed) or the time.
    """
    errors: list[FieldError] = check_time("recorded_at", recorded_at, now)
    if certainty is Certainty.ENTERED_IN_ERROR:
        errors.append(
            field_error("certainty", "invalid", N_("A new diagnosis cannot be entered in error."))
        )
    normalised, code_errors = check_code("code", code, catalogue)
    errors += code_errors
    if normalised is not None and any(d.code == normalised and d.counts for d in existing):
        errors.append(
            field_error(
                "code",
                "duplicate",
                N_("{code} is already listed for this encounter."),
                code=normalised,
            )
        )
    raise_if(errors)
    assert normalised is not None
    kept = [
        replace(d, rank=DiagnosisRank.SECONDARY)
        if rank is DiagnosisRank.PRIMARY and d.rank is DiagnosisRank.PRIMARY and d.counts
        else d
        for d in existing
    ]
    kept.append(
        Diagnosis(
            id,
            patient_id,
            encounter_id,
            normalised,
            rank,
            certainty,
            recorded_at,
            recorded_by,
            text_or_none(note),
        )
    )
    return kept


def make_primary(existing: Sequence[Diagnosis], diagnosis_id: UUID) -> list[Diagnosis]:
    """Make one listed diagnosis the primary one; the former primary becomes secondary."""
    if not any(d.id == diagnosis_id and d.counts for d in existing):
        raise_if(
            [
                field_error(
                    "diagnosis_id", "unknown", N_("This diagnosis is not listed for the encounter.")
                )
            ]
        )
    return [
        replace(d, rank=DiagnosisRank.PRIMARY if d.id == diagnosis_id else DiagnosisRank.SECONDARY)
        if d.counts
        else d
        for d in existing
    ]


def mark_entered_in_error(existing: Sequence[Diagnosis], diagnosis_id: UUID) -> list[Diagnosis]:
    """Withdraw a diagnosis recorded by mistake (it stays in the history)."""
    if not any(d.id == diagnosis_id for d in existing):
        raise_if(
            [
                field_error(
                    "diagnosis_id", "unknown", N_("This diagnosis is not listed for the encounter.")
                )
            ]
        )
    return [
        replace(d, certainty=Certainty.ENTERED_IN_ERROR, rank=DiagnosisRank.SECONDARY)
        if d.id == diagnosis_id
        else d
        for d in existing
    ]


def primary_diagnosis(diagnoses: Sequence[Diagnosis]) -> Diagnosis | None:
    """The primary diagnosis in force, if any."""
    return next((d for d in diagnoses if d.counts and d.rank is DiagnosisRank.PRIMARY), None)


def check_ready_to_close(diagnoses: Sequence[Diagnosis]) -> None:
    """An encounter closes with exactly one primary diagnosis in force.

    Raises:
        EncounterStateError: none (or, from corrupt data, several) is primary.
    """
    primaries = [d for d in diagnoses if d.counts and d.rank is DiagnosisRank.PRIMARY]
    if len(primaries) != 1:
        raise EncounterStateError(
            Message(
                N_("An encounter is closed with exactly one primary diagnosis; it has {count}."),
                {"count": len(primaries)},
            ),
            code="primary_diagnosis_required",
        )
