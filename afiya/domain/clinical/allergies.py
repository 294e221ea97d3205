"""Allergies and intolerances, and the explicit "no known allergies" statement.

An empty allergy list means "nobody asked", never "no allergies": the patient's status is
``unknown`` until a clinician records either an allergy or a *no known allergies* (NKA)
statement. The two cannot both be in force. Recording an allergy supersedes an active NKA
statement (new information wins, and the statement keeps who superseded it); stating NKA
while allergies are active is refused unless the clinician names every allergy it
supersedes, which are then marked refuted, pointing at the statement.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from afiya.domain.clinical.common import check_time, field_error, raise_if, text_or_none
from afiya.domain.clinical.errors import AllergyStatementConflict
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_


class AllergyType(StrEnum):
    ALLERGY = "allergy"  # immune mechanism
    INTOLERANCE = "intolerance"  # non-immune (e.g. gastric intolerance to NSAIDs)


class AllergyCategory(StrEnum):
    MEDICATION = "medication"
    FOOD = "food"
    ENVIRONMENT = "environment"
    BIOLOGIC = "biologic"


class SubstanceSystem(StrEnum):
    INGREDIENT = "ingredient"  # an active ingredient (INN), e.g. amoxicillin
    DRUG_CLASS = "drug_class"  # a class (ATC), e.g. J01C penicillins
    OTHER = "other"  # food, latex, insect venom: free coded text


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class Criticality(StrEnum):
    """Potential for a future life-threatening reaction (not the severity of the last one)."""

    LOW = "low"
    HIGH = "high"
    UNABLE_TO_ASSESS = "unable_to_assess"


class Verification(StrEnum):
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"


class AllergyStatus(StrEnum):
    UNKNOWN = "unknown"  # nothing recorded: ask
    NO_KNOWN_ALLERGIES = "no_known_allergies"
    HAS_ALLERGIES = "has_allergies"


@dataclass(frozen=True, slots=True)
class Substance:
    system: SubstanceSystem
    code: str  # INN (lower case) or ATC code
    display: str


@dataclass(frozen=True, slots=True)
class Reaction:
    manifestation: str  # urticaria, angioedema, anaphylaxis, rash...
    severity: Severity


@dataclass(frozen=True, slots=True)
class Allergy:
    id: UUID
    patient_id: UUID
    type: AllergyType
    category: AllergyCategory
    substance: Substance
    criticality: Criticality
    verification: Verification  # mandatory: no default on purpose
    recorded_at: datetime
    recorded_by: UUID
    reactions: tuple[Reaction, ...] = ()
    superseded_by: UUID | None = None  # the NKA statement that refuted it

    @property
    def in_force(self) -> bool:
        return self.verification is not Verification.REFUTED

    @property
    def high_risk(self) -> bool:
        """Warn loudly: a high criticality, or a severe reaction already seen."""
        return self.in_force and (
            self.criticality is Criticality.HIGH
            or any(r.severity is Severity.SEVERE for r in self.reactions)
        )


@dataclass(frozen=True, slots=True)
class NoKnownAllergies:
    id: UUID
    patient_id: UUID
    stated_at: datetime
    stated_by: UUID
    superseded_by: UUID | None = None  # the allergy, or the statement, recorded after it
    superseded_at: datetime | None = None

    @property
    def in_force(self) -> bool:
        return self.superseded_by is None


@dataclass(frozen=True, slots=True)
class AllergyRecord:
    """Everything recorded about a patient's allergies, history included."""

    patient_id: UUID
    allergies: tuple[Allergy, ...] = ()
    statements: tuple[NoKnownAllergies, ...] = ()

    @property
    def active(self) -> tuple[Allergy, ...]:
        return tuple(a for a in self.allergies if a.in_force)

    @property
    def statement(self) -> NoKnownAllergies | None:
        return next((s for s in self.statements if s.in_force), None)

    @property
    def status(self) -> AllergyStatus:
        if self.active:
            return AllergyStatus.HAS_ALLERGIES
        if self.statement is not None:
            return AllergyStatus.NO_KNOWN_ALLERGIES
        return AllergyStatus.UNKNOWN


def _check_allergy(allergy: Allergy, record: AllergyRecord, now: datetime) -> list[FieldError]:
    errors = check_time("recorded_at", allergy.recorded_at, now)
    if allergy.patient_id != record.patient_id:
        errors.append(
            field_error(
                "patient_id", "other_patient", N_("This allergy belongs to another patient.")
            )
        )
    if (
        text_or_none(allergy.substance.code) is None
        or text_or_none(allergy.substance.display) is None
    ):
        errors.append(
            field_error(
                "substance", "required", N_("Name the substance (an ingredient or a drug class).")
            )
        )
    if (
        allergy.substance.system is not SubstanceSystem.OTHER
        and allergy.category is not AllergyCategory.MEDICATION
    ):
        errors.append(
            field_error(
                "category",
                "inconsistent",
                N_('An ingredient or a drug class goes with the category "medication".'),
            )
        )
    for index, reaction in enumerate(allergy.reactions):
        if text_or_none(reaction.manifestation) is None:
            errors.append(
                field_error(
                    f"reactions.{index}.manifestation", "required", N_("Describe the reaction.")
                )
            )
    same = [
        a
        for a in record.active
        if a.substance.system is allergy.substance.system
        and a.substance.code.casefold() == allergy.substance.code.casefold()
    ]
    if same:
        errors.append(
            field_error(
                "substance",
                "duplicate",
                N_("An allergy to this substance is already recorded: update it instead."),
            )
        )
    return errors


def record_allergy(record: AllergyRecord, allergy: Allergy, *, now: datetime) -> AllergyRecord:
    """Add an allergy or intolerance; an NKA statement in force is superseded by it.

    Raises:
        ValidationFailed: the substance is missing or already recorded, the time is
            impossible, or the category contradicts the substance.
    """
    raise_if(_check_allergy(allergy, record, now))
    statements = tuple(
        replace(s, superseded_by=allergy.id, superseded_at=allergy.recorded_at) if s.in_force else s
        for s in record.statements
    )
    return replace(record, allergies=(*record.allergies, allergy), statements=statements)


def state_no_known_allergies(
    record: AllergyRecord,
    statement: NoKnownAllergies,
    *,
    now: datetime,
    supersedes: Collection[UUID] = (),
) -> AllergyRecord:
    """Record that the patient has no known allergies.

    Args:
        record: the patient's allergy record.
        statement: the new statement (``superseded_by`` empty).
        now: the current time.
        supersedes: ids of the active allergies this statement refutes; it must name
            each of them, so that no allergy disappears by accident.

    Raises:
        AllergyStatementConflict: active allergies exist that ``supersedes`` does not
            name (their ids are in the error).
        ValidationFailed: bad time, other patient, or ``supersedes`` names unknown ids.
    """
    errors = check_time("stated_at", statement.stated_at, now)
    if statement.patient_id != record.patient_id:
        errors.append(
            field_error(
                "patient_id", "other_patient", N_("This statement belongs to another patient.")
            )
        )
    active_ids = {a.id for a in record.active}
    if set(supersedes) - active_ids:
        errors.append(
            field_error(
                "supersedes",
                "unknown",
                N_("Some of the allergies named are not active allergies of this patient."),
            )
        )
    raise_if(errors)
    if active_ids - set(supersedes):
        raise AllergyStatementConflict(active_ids - set(supersedes))
    allergies = tuple(
        replace(a, verification=Verification.REFUTED, superseded_by=statement.id)
        if a.id in active_ids
        else a
        for a in record.allergies
    )
    # a repeated NKA statement replaces the previous one, which stays in the history
    statements = tuple(
        replace(s, superseded_by=statement.id, superseded_at=statement.stated_at)
        if s.in_force
        else s
        for s in record.statements
    )
    return replace(record, allergies=allergies, statements=(*statements, statement))


def set_verification(
    record: AllergyRecord, allergy_id: UUID, verification: Verification, *, at: datetime
) -> AllergyRecord:
    """Confirm or refute an allergy after investigation (e.g. a negative challenge test).

    Bringing a refuted allergy back in force supersedes an NKA statement in force, as a
    new allergy would.
    """
    target = next((a for a in record.allergies if a.id == allergy_id), None)
    if target is None:
        raise_if(
            [
                field_error(
                    "allergy_id", "unknown", N_("This allergy is not recorded for the patient.")
                )
            ]
        )
        raise AssertionError  # unreachable: raise_if raised
    allergies = tuple(
        replace(a, verification=verification, superseded_by=None) if a.id == allergy_id else a
        for a in record.allergies
    )
    statements = record.statements
    if verification is not Verification.REFUTED:
        statements = tuple(
            replace(s, superseded_by=allergy_id, superseded_at=at) if s.in_force else s
            for s in record.statements
        )
    return replace(record, allergies=allergies, statements=statements)
