"""Encounters: consultations, emergency visits and admissions, as a state machine.

An encounter starts ``in_progress`` and ends once: ``finished`` by a discharge (which
records the mode: home, transfer to another facility, death, left against advice, or
admitted here from the emergency room or a consultation), or ``cancelled`` when it was
opened by mistake. Admissions move between departments, wards and beds by transfers.
Every function returns a new :class:`Encounter` or raises; nothing is mutated, and no step
may be dated before the step it follows. These records feed mortality and bed-day
statistics, so the rules are strict rather than forgiving.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum, StrEnum
from uuid import UUID

from afiya.domain.clinical.common import check_time, field_error, iso, raise_if, text_or_none
from afiya.domain.clinical.errors import EncounterStateError
from afiya.domain.clinical.icd10 import Icd10Catalogue, check_code
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message


class EncounterKind(StrEnum):
    OUTPATIENT = "outpatient"  # consultation externe
    EMERGENCY = "emergency"  # passage aux urgences
    INPATIENT = "inpatient"  # hospitalisation


class EncounterStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"
    CANCELLED = "cancelled"  # opened by mistake; kept, never deleted


class TriageLevel(IntEnum):
    """Five-level emergency triage, the Manchester Triage System's scale and colours.

    ===  ===========  ======  =====================  ============
    lvl  name         colour  seen by a clinician    WHO ETAT
    ===  ===========  ======  =====================  ============
    1    immediate    red     at once                emergency
    2    very urgent  orange  within 10 minutes      emergency
    3    urgent       yellow  within 60 minutes      priority
    4    standard     green   within 120 minutes     queue
    5    non-urgent   blue    within 240 minutes     queue
    ===  ===========  ======  =====================  ============

    The last column maps the level to the WHO's Emergency Triage Assessment and
    Treatment categories that paediatric wards in the region are trained on.
    """

    IMMEDIATE = 1
    VERY_URGENT = 2
    URGENT = 3
    STANDARD = 4
    NON_URGENT = 5

    @property
    def target_minutes(self) -> int:
        """Longest wait before a clinician sees the patient."""
        return {1: 0, 2: 10, 3: 60, 4: 120, 5: 240}[self.value]

    @property
    def colour(self) -> str:
        return {1: "red", 2: "orange", 3: "yellow", 4: "green", 5: "blue"}[self.value]

    @property
    def etat_category(self) -> str:
        """``emergency``, ``priority`` or ``queue`` (WHO ETAT)."""
        return {1: "emergency", 2: "emergency", 3: "priority"}.get(self.value, "queue")


class DischargeMode(StrEnum):
    HOME = "home"
    TRANSFER = "transfer"  # to another facility (évacuation, référence)
    DEATH = "death"
    LEFT_AGAINST_ADVICE = "left_against_advice"  # sortie contre avis médical
    ADMITTED = "admitted"  # an emergency visit or consultation that became an admission


@dataclass(frozen=True, slots=True)
class Location:
    """Where an admitted patient lies: a department, and a ward and bed when known."""

    department_id: UUID
    ward_id: UUID | None = None
    bed: str | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    """An admission or a transfer: from ``at`` the patient lies at ``location``."""

    at: datetime
    location: Location


@dataclass(frozen=True, slots=True)
class Death:
    """A death in the facility: the time and the underlying cause, coded ICD-10."""

    at: datetime
    cause_code: str


@dataclass(frozen=True, slots=True)
class Discharge:
    at: datetime
    mode: DischargeMode
    destination: str | None = None  # the receiving facility, for a transfer
    death: Death | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Encounter:
    id: UUID
    patient_id: UUID
    unit_id: UUID  # the facility
    kind: EncounterKind
    started_at: datetime
    reason: str  # motif de consultation / d'admission
    attending_id: UUID
    status: EncounterStatus = EncounterStatus.IN_PROGRESS
    triage: TriageLevel | None = None
    movements: tuple[Movement, ...] = ()
    discharge: Discharge | None = None
    cancel_reason: str | None = None

    @property
    def location(self) -> Location | None:
        """Where the patient lies now (or lay last, once discharged)."""
        return self.movements[-1].location if self.movements else None

    @property
    def ended_at(self) -> datetime | None:
        return self.discharge.at if self.discharge else None

    @property
    def last_event_at(self) -> datetime:
        return max([self.started_at, *(m.at for m in self.movements)])


def start_encounter(
    *,
    id: UUID,
    patient_id: UUID,
    unit_id: UUID,
    kind: EncounterKind,
    started_at: datetime,
    reason: str,
    attending_id: UUID,
    now: datetime,
    triage: TriageLevel | None = None,
    location: Location | None = None,
) -> Encounter:
    """Open an encounter.

    Rules: the reason for visit is required; an emergency visit carries a triage level; an
    admission says in which department the patient lies (ward and bed when known); the start
    time has a time zone and is not in the future.

    Raises:
        ValidationFailed: listing every field that breaks a rule.
    """
    errors = check_time("started_at", started_at, now)
    reason_text = text_or_none(reason)
    if reason_text is None:
        errors.append(
            field_error("reason", "required", N_("Give the reason for the visit or admission."))
        )
    if kind is EncounterKind.EMERGENCY and triage is None:
        errors.append(
            field_error(
                "triage", "required", N_("An emergency visit needs a triage level (1 to 5).")
            )
        )
    if kind is not EncounterKind.EMERGENCY and triage is not None:
        errors.append(
            field_error(
                "triage", "not_applicable", N_("Only an emergency visit has a triage level.")
            )
        )
    if kind is EncounterKind.INPATIENT and location is None:
        errors.append(
            field_error(
                "location",
                "required",
                N_("An admission needs the department (and the ward and bed when known)."),
            )
        )
    if kind is not EncounterKind.INPATIENT and location is not None:
        errors.append(
            field_error("location", "not_applicable", N_("Only an admission has a ward and bed."))
        )
    raise_if(errors)
    movements = (Movement(started_at, location),) if location is not None else ()
    return Encounter(
        id=id,
        patient_id=patient_id,
        unit_id=unit_id,
        kind=kind,
        started_at=started_at,
        reason=reason_text or "",
        attending_id=attending_id,
        triage=triage,
        movements=movements,
    )


def _require_open(encounter: Encounter) -> None:
    if encounter.status is EncounterStatus.CANCELLED:
        raise EncounterStateError(
            Message(N_("This encounter was cancelled: it cannot change any more.")),
            code="encounter_cancelled",
        )
    if encounter.status is not EncounterStatus.IN_PROGRESS:
        raise EncounterStateError(
            Message(N_("This encounter is already closed: it cannot change any more.")),
            code="encounter_closed",
        )


def _check_after_last(
    field: str, at: datetime, encounter: Encounter, now: datetime
) -> list[FieldError]:
    errors = check_time(field, at, now)
    if not errors and at < encounter.last_event_at:
        errors.append(
            field_error(
                field,
                "before_last_event",
                N_("{at} is before the last event of this encounter ({last})."),
                at=iso(at),
                last=iso(encounter.last_event_at),
            )
        )
    return errors


def transfer(encounter: Encounter, *, at: datetime, to: Location, now: datetime) -> Encounter:
    """Move an admitted patient to another department, ward or bed.

    Raises:
        EncounterStateError: the encounter is closed, or is not an admission.
        ValidationFailed: the time is before the last movement, or the place is unchanged.
    """
    _require_open(encounter)
    if encounter.kind is not EncounterKind.INPATIENT:
        raise EncounterStateError(
            Message(N_("Only an admission can have transfers between wards.")),
            code="not_an_admission",
        )
    errors = _check_after_last("at", at, encounter, now)
    if to == encounter.location:
        errors.append(
            field_error("to", "same_location", N_("The patient already lies in this place."))
        )
    raise_if(errors)
    return replace(encounter, movements=(*encounter.movements, Movement(at, to)))


def assign_attending(encounter: Encounter, attending_id: UUID) -> Encounter:
    """Hand the encounter over to another practitioner (open encounters only)."""
    _require_open(encounter)
    return replace(encounter, attending_id=attending_id)


def discharge(
    encounter: Encounter,
    *,
    at: datetime,
    mode: DischargeMode,
    now: datetime,
    catalogue: Icd10Catalogue,
    destination: str | None = None,
    death_at: datetime | None = None,
    death_cause: str | None = None,
    note: str | None = None,
) -> Encounter:
    """Close the encounter with its discharge mode.

    Rules: once only; not before the last movement; a transfer names the receiving
    facility; a death gives the time of death (between the start and the discharge) and
    the underlying cause as a valid ICD-10 code; ``admitted`` ends an emergency visit or
    consultation, never an admission.

    Raises:
        EncounterStateError: the encounter is already closed.
        ValidationFailed: listing every field that breaks a rule.
    """
    _require_open(encounter)
    errors = _check_after_last("at", at, encounter, now)
    destination_text = text_or_none(destination)
    death: Death | None = None
    if mode is DischargeMode.TRANSFER and destination_text is None:
        errors.append(
            field_error(
                "destination", "required", N_("Name the facility the patient is transferred to.")
            )
        )
    if mode is DischargeMode.ADMITTED and encounter.kind is EncounterKind.INPATIENT:
        errors.append(
            field_error(
                "mode",
                "not_applicable",
                N_("An admission cannot end with an admission; use a transfer between wards."),
            )
        )
    if mode is DischargeMode.DEATH:
        death, death_errors = _death(encounter, at, now, catalogue, death_at, death_cause)
        errors += death_errors
    elif death_at is not None or death_cause is not None:
        errors.append(
            field_error(
                "death",
                "not_applicable",
                N_('A time and cause of death go with the discharge mode "death" only.'),
            )
        )
    raise_if(errors)
    return replace(
        encounter,
        status=EncounterStatus.FINISHED,
        discharge=Discharge(at, mode, destination_text, death, text_or_none(note)),
    )


def _death(
    encounter: Encounter,
    at: datetime,
    now: datetime,
    catalogue: Icd10Catalogue,
    death_at: datetime | None,
    death_cause: str | None,
) -> tuple[Death | None, list[FieldError]]:
    errors: list[FieldError] = []
    if death_at is None:
        errors.append(field_error("death.at", "required", N_("Give the date and time of death.")))
    else:
        errors += check_time("death.at", death_at, now)
        if not errors and not encounter.started_at <= death_at <= at:
            errors.append(
                field_error(
                    "death.at",
                    "out_of_encounter",
                    N_(
                        "The time of death must lie between the start of the encounter "
                        "({start}) and the discharge ({end})."
                    ),
                    start=iso(encounter.started_at),
                    end=iso(at),
                )
            )
    code: str | None = None
    if death_cause is None or not death_cause.strip():
        errors.append(
            field_error(
                "death.cause_code",
                "required",
                N_("Give the underlying cause of death as an ICD-10 code."),
            )
        )
    else:
        code, cause_errors = check_code("death.cause_code", death_cause, catalogue)
        errors += cause_errors
    if errors or death_at is None or code is None:
        return None, errors
    return Death(death_at, code), []


def cancel(encounter: Encounter, *, reason: str) -> Encounter:
    """Mark an encounter opened by mistake as cancelled (it stays in the record).

    Raises:
        EncounterStateError: the encounter is already closed or cancelled.
        ValidationFailed: no reason given.
    """
    _require_open(encounter)
    text = text_or_none(reason)
    if text is None:
        raise_if([field_error("reason", "required", N_("Say why the encounter is cancelled."))])
    return replace(encounter, status=EncounterStatus.CANCELLED, cancel_reason=text)
