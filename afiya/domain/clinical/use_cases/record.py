"""Use cases of the record's entries: vital signs, problems, allergies and the "no known
allergies" statement, append-only notes; and the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal
from afiya.domain.audit.ports import AuditLog
from afiya.domain.clinical import allergies as allergy_rules
from afiya.domain.clinical import notes as note_rules
from afiya.domain.clinical import problems as problem_rules
from afiya.domain.clinical.icd10 import Icd10Catalogue
from afiya.domain.clinical.measurements import Observation, Reading, record_observations
from afiya.domain.clinical.ports import (
    ClinicalRepository,
)
from afiya.domain.clinical.timeline import TimelinePage, TimelineQuery
from afiya.domain.clinical.use_cases.access import (
    ClinicalRecordNotFound,
    audit_record,
    check_encounter_of,
    load_patient,
)
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.ids import uuid7


async def record_vitals(
    patient_id: UUID,
    readings: Sequence[Reading],
    *,
    effective_at: datetime,
    encounter_id: UUID | None,
    principal: Principal,
    clinical: ClinicalRepository,
    audit: AuditLog,
    clock: Clock,
) -> list[Observation]:
    """Record a round of vital signs taken together (rules in
    :func:`~afiya.domain.clinical.measurements.record_observations`): an implausible
    value refuses the whole round, naming the reading."""
    patient = await load_patient(
        patient_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    await check_encounter_of(encounter_id, patient.id, clinical)
    observations = record_observations(
        readings,
        ids=[uuid7() for _ in readings],
        patient_id=patient.id,
        encounter_id=encounter_id,
        effective_at=effective_at,
        recorded_by=principal.user_id,
        now=clock.now(),
    )
    await clinical.add_observations(observations)
    await audit.record(
        audit_record(
            "clinical.observation.create", "observation", None, patient.id, count=len(readings)
        )
    )
    return observations


async def read_observation(
    observation_id: UUID, *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog
) -> Observation:
    found = await clinical.observation(observation_id)
    if found is None:
        raise ClinicalRecordNotFound()
    await load_patient(found.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False)
    await audit.record(
        audit_record("clinical.observation.read", "observation", found.id, found.patient_id)
    )
    return found


async def add_patient_problem(
    patient_id: UUID,
    *,
    kind: problem_rules.ProblemKind,
    code: str,
    onset: date | None,
    last_menstrual_period: date | None,
    cycle_days: int,
    principal: Principal,
    clinical: ClinicalRepository,
    catalogue: Icd10Catalogue,
    audit: AuditLog,
    clock: Clock,
) -> problem_rules.Problem:
    """Add a chronic condition or a pregnancy to the problem list (rules in
    :func:`~afiya.domain.clinical.problems.add_problem`)."""
    patient = await load_patient(
        patient_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    now = clock.now()
    problem = problem_rules.add_problem(
        id=uuid7(),
        patient_id=patient.id,
        kind=kind,
        code=code,
        recorded_at=now,
        recorded_by=principal.user_id,
        catalogue=catalogue,
        now=now,
        existing=await clinical.patient_problems(patient.id),
        onset=onset,
        last_menstrual_period=last_menstrual_period,
        cycle_days=cycle_days,
    )
    await clinical.save_problem(problem)
    await audit.record(audit_record("clinical.problem.create", "problem", problem.id, patient.id))
    return problem


async def list_problems(
    patient_id: UUID, *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog
) -> tuple[problem_rules.Problem, ...]:
    patient = await load_patient(
        patient_id, principal, Permission.CLINICAL_READ, clinical, write=False
    )
    found = await clinical.patient_problems(patient.id)
    await audit.record(audit_record("clinical.problem.list", "problem", None, patient.id))
    return found


async def read_problem(
    problem_id: UUID, *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog
) -> problem_rules.Problem:
    found = await clinical.problem(problem_id)
    if found is None:
        raise ClinicalRecordNotFound()
    await load_patient(found.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False)
    await audit.record(audit_record("clinical.problem.read", "problem", found.id, found.patient_id))
    return found


@dataclass(frozen=True, slots=True)
class NewAllergy:
    type: allergy_rules.AllergyType
    category: allergy_rules.AllergyCategory
    substance: allergy_rules.Substance
    criticality: allergy_rules.Criticality
    verification: allergy_rules.Verification
    reactions: tuple[allergy_rules.Reaction, ...] = ()
    recorded_at: datetime | None = None


async def record_patient_allergy(
    patient_id: UUID,
    new: NewAllergy,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    audit: AuditLog,
    clock: Clock,
) -> allergy_rules.AllergyRecord:
    """Record an allergy or intolerance; a "no known allergies" statement in force is
    superseded by it (rules in :func:`~afiya.domain.clinical.allergies.record_allergy`)."""
    patient = await load_patient(
        patient_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    now = clock.now()
    allergy = allergy_rules.Allergy(
        id=uuid7(),
        patient_id=patient.id,
        type=new.type,
        category=new.category,
        substance=new.substance,
        criticality=new.criticality,
        verification=new.verification,
        recorded_at=new.recorded_at or now,
        recorded_by=principal.user_id,
        reactions=new.reactions,
    )
    record = allergy_rules.record_allergy(
        await clinical.allergy_record(patient.id), allergy, now=now
    )
    await clinical.save_allergy_record(record)
    await audit.record(audit_record("clinical.allergy.create", "allergy", allergy.id, patient.id))
    return record


async def state_no_known_allergies(
    patient_id: UUID,
    *,
    supersedes: Sequence[UUID],
    principal: Principal,
    clinical: ClinicalRepository,
    audit: AuditLog,
    clock: Clock,
) -> allergy_rules.AllergyRecord:
    """Record the explicit "no known allergies" statement (rules in
    :func:`~afiya.domain.clinical.allergies.state_no_known_allergies`)."""
    patient = await load_patient(
        patient_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    now = clock.now()
    statement = allergy_rules.NoKnownAllergies(uuid7(), patient.id, now, principal.user_id)
    record = allergy_rules.state_no_known_allergies(
        await clinical.allergy_record(patient.id), statement, now=now, supersedes=supersedes
    )
    await clinical.save_allergy_record(record)
    await audit.record(
        audit_record("clinical.allergy.no_known", "allergy", statement.id, patient.id)
    )
    return record


async def read_allergies(
    patient_id: UUID, *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog
) -> allergy_rules.AllergyRecord:
    """The allergy record with its status (``unknown`` until something is recorded)."""
    patient = await load_patient(
        patient_id, principal, Permission.CLINICAL_READ, clinical, write=False
    )
    record = await clinical.allergy_record(patient.id)
    await audit.record(audit_record("clinical.allergy.read", "allergy", None, patient.id))
    return record


async def read_allergy(
    allergy_id: UUID, *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog
) -> allergy_rules.Allergy:
    found = await clinical.allergy(allergy_id)
    if found is None:
        raise ClinicalRecordNotFound()
    await load_patient(found.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False)
    await audit.record(audit_record("clinical.allergy.read", "allergy", found.id, found.patient_id))
    return found


async def write_clinical_note(
    patient_id: UUID,
    *,
    encounter_id: UUID | None,
    kind: note_rules.NoteKind,
    sections: note_rules.NoteSections,
    written_at: datetime | None,
    principal: Principal,
    clinical: ClinicalRepository,
    audit: AuditLog,
    clock: Clock,
) -> note_rules.ClinicalNote:
    """Write the first version of a note."""
    patient = await load_patient(
        patient_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    await check_encounter_of(encounter_id, patient.id, clinical)
    now = clock.now()
    note = note_rules.write_note(
        id=uuid7(),
        patient_id=patient.id,
        encounter_id=encounter_id,
        kind=kind,
        sections=sections,
        author_id=principal.user_id,
        written_at=written_at or now,
        now=now,
    )
    await clinical.add_note(note)
    await audit.record(audit_record("clinical.note.create", "note", note.id, patient.id))
    return note


async def amend_clinical_note(
    note_id: UUID,
    *,
    based_on_version: int,
    sections: note_rules.NoteSections,
    reason: str,
    principal: Principal,
    clinical: ClinicalRepository,
    audit: AuditLog,
    clock: Clock,
) -> note_rules.ClinicalNote:
    """Write a new version of a note; every earlier version stays readable (rules in
    :func:`~afiya.domain.clinical.notes.amend_note`). A head of department (permission
    to write clinical data and the ``amend others' notes`` right, held by doctors here)
    may amend a colleague's note."""
    found = await clinical.note(note_id)
    if found is None:
        raise ClinicalRecordNotFound()
    patient = await load_patient(
        found.patient_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    latest = note_rules.current(await clinical.note_versions(found.series_id))
    assert latest is not None
    now = clock.now()
    amended = note_rules.amend_note(
        latest,
        id=uuid7(),
        based_on_version=based_on_version,
        sections=sections,
        amender=note_rules.Amender(principal.user_id, may_amend_others="doctor" in principal.roles),
        reason=reason,
        written_at=now,
        now=now,
    )
    await clinical.add_note(amended)
    await audit.record(
        audit_record(
            "clinical.note.amend", "note", amended.id, patient.id, series_id=str(found.series_id)
        )
    )
    return amended


async def read_note(
    note_id: UUID, *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog
) -> tuple[note_rules.ClinicalNote, list[note_rules.ClinicalNote]]:
    """One version of a note, and the whole history of its series (first to latest)."""
    found = await clinical.note(note_id)
    if found is None:
        raise ClinicalRecordNotFound()
    await load_patient(found.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False)
    versions = note_rules.history(await clinical.note_versions(found.series_id))
    await audit.record(audit_record("clinical.note.read", "note", found.id, found.patient_id))
    return found, versions


async def patient_timeline(
    patient_id: UUID,
    query: TimelineQuery,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    audit: AuditLog,
) -> TimelinePage:
    """One page of the patient's timeline, newest first by default (keyset cursor).
    Audited with the filters used."""
    patient = await load_patient(
        patient_id, principal, Permission.CLINICAL_READ, clinical, write=False
    )
    page = await clinical.timeline(patient.id, query)
    await audit.record(
        audit_record(
            "clinical.timeline.read",
            "patient",
            patient.id,
            patient.id,
            types=sorted(t.value for t in query.types) if query.types else None,
            items=len(page.items),
        )
    )
    return page
