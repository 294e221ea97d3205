"""Use cases of encounters: open, transfer, discharge, cancel, read; their diagnoses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.ports import AuditLog
from afiya.domain.clinical import diagnoses as diagnosis_rules
from afiya.domain.clinical import encounters as encounter_rules
from afiya.domain.clinical.common import field_error, raise_if
from afiya.domain.clinical.encounters import Encounter, EncounterKind, Location
from afiya.domain.clinical.errors import EncounterStateError
from afiya.domain.clinical.icd10 import Icd10Catalogue
from afiya.domain.clinical.ports import (
    ClinicalRepository,
    EncounterStep,
)
from afiya.domain.clinical.use_cases.access import (
    ClinicalRecordNotFound,
    audit_record,
    check_location,
    load_encounter,
    load_facility,
    load_patient,
)
from afiya.domain.orgunits.ports import OrgUnitRepository
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7


@dataclass(frozen=True, slots=True)
class NewEncounter:
    patient_id: UUID
    kind: EncounterKind
    started_at: datetime
    reason: str
    attending_id: UUID | None = None  # default: the caller
    unit_id: UUID | None = None  # default: the patient's registering facility
    triage: int | None = None
    location: Location | None = None
    id: UUID | None = None


async def open_encounter(
    cmd: NewEncounter,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    units: OrgUnitRepository,
    audit: AuditLog,
    clock: Clock,
) -> tuple[Encounter, bool]:
    """Open a consultation, emergency visit or admission (see
    :func:`~afiya.domain.clinical.encounters.start_encounter` for the rules).

    The facility is in the caller's assignment; an admission's department and ward belong
    to it. Resending the same ``id`` returns the stored encounter (offline clients retry).

    Returns:
        The encounter and whether it was created now.
    """
    patient = await load_patient(
        cmd.patient_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    if cmd.id is not None:
        existing = await clinical.encounter(cmd.id)
        if existing is not None and existing.patient_id == patient.id:
            return existing, False
    facility = await load_facility(cmd.unit_id or patient.unit_id, units)
    authorize(principal, Permission.CLINICAL_WRITE, facility.path)
    errors = await check_location(cmd.location, facility.path, units, "location")
    triage = None
    if cmd.triage is not None:
        if not 1 <= cmd.triage <= 5:
            errors.append(
                field_error("triage", "out_of_range", N_("The triage level lies between 1 and 5."))
            )
        else:
            triage = encounter_rules.TriageLevel(cmd.triage)
    raise_if(errors)
    encounter = encounter_rules.start_encounter(
        id=cmd.id or uuid7(),
        patient_id=patient.id,
        unit_id=facility.id,
        kind=cmd.kind,
        started_at=cmd.started_at,
        reason=cmd.reason,
        attending_id=cmd.attending_id or principal.user_id,
        now=clock.now(),
        triage=triage,
        location=cmd.location,
    )
    await clinical.add_encounter(encounter)
    await audit.record(
        audit_record(
            "clinical.encounter.create", "encounter", encounter.id, patient.id, kind=cmd.kind
        )
    )
    return encounter, True


async def transfer_patient(
    encounter_id: UUID,
    *,
    at: datetime,
    to: Location,
    principal: Principal,
    clinical: ClinicalRepository,
    units: OrgUnitRepository,
    audit: AuditLog,
    clock: Clock,
) -> Encounter:
    """Move an admitted patient to another department, ward or bed of the facility."""
    encounter, patient = await load_encounter(
        encounter_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    facility = await load_facility(encounter.unit_id, units)
    raise_if(await check_location(to, facility.path, units, "to"))
    moved = encounter_rules.transfer(encounter, at=at, to=to, now=clock.now())
    await clinical.save_encounter(moved, EncounterStep("transfer", at))
    await audit.record(
        audit_record("clinical.encounter.transfer", "encounter", encounter.id, patient.id)
    )
    return moved


async def discharge_patient(
    encounter_id: UUID,
    *,
    at: datetime,
    mode: encounter_rules.DischargeMode,
    principal: Principal,
    clinical: ClinicalRepository,
    catalogue: Icd10Catalogue,
    audit: AuditLog,
    clock: Clock,
    destination: str | None = None,
    death_at: datetime | None = None,
    death_cause: str | None = None,
    note: str | None = None,
) -> Encounter:
    """Close the encounter with its discharge mode (rules in
    :func:`~afiya.domain.clinical.encounters.discharge`); the encounter must hold
    exactly one primary diagnosis, which morbidity statistics count."""
    encounter, patient = await load_encounter(
        encounter_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    closed = encounter_rules.discharge(
        encounter,
        at=at,
        mode=mode,
        now=clock.now(),
        catalogue=catalogue,
        destination=destination,
        death_at=death_at,
        death_cause=death_cause,
        note=note,
    )
    diagnosis_rules.check_ready_to_close(await clinical.encounter_diagnoses(encounter.id))
    await clinical.save_encounter(closed, EncounterStep("discharge", at))
    await audit.record(
        audit_record(
            "clinical.encounter.discharge", "encounter", encounter.id, patient.id, mode=mode
        )
    )
    return closed


async def cancel_encounter(
    encounter_id: UUID,
    *,
    reason: str,
    principal: Principal,
    clinical: ClinicalRepository,
    audit: AuditLog,
    clock: Clock,
) -> Encounter:
    """Mark an encounter opened by mistake as cancelled; it stays in the record."""
    encounter, patient = await load_encounter(
        encounter_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    cancelled = encounter_rules.cancel(encounter, reason=reason)
    await clinical.save_encounter(cancelled, EncounterStep("cancel", clock.now()))
    await audit.record(
        audit_record("clinical.encounter.cancel", "encounter", encounter.id, patient.id)
    )
    return cancelled


async def read_encounter(
    encounter_id: UUID,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    audit: AuditLog,
) -> tuple[Encounter, list[diagnosis_rules.Diagnosis]]:
    """An encounter with its diagnoses. Audited."""
    encounter, patient = await load_encounter(
        encounter_id, principal, Permission.CLINICAL_READ, clinical, write=False
    )
    found = await clinical.encounter_diagnoses(encounter.id)
    await audit.record(
        audit_record("clinical.encounter.read", "encounter", encounter.id, patient.id)
    )
    return encounter, found


async def add_encounter_diagnosis(
    encounter_id: UUID,
    *,
    code: str,
    rank: diagnosis_rules.DiagnosisRank,
    certainty: diagnosis_rules.Certainty,
    note: str | None,
    principal: Principal,
    clinical: ClinicalRepository,
    catalogue: Icd10Catalogue,
    audit: AuditLog,
    clock: Clock,
) -> list[diagnosis_rules.Diagnosis]:
    """Add an ICD-10 diagnosis to an open encounter (rules in
    :func:`~afiya.domain.clinical.diagnoses.add_diagnosis`); returns the encounter's list."""
    encounter, patient = await load_encounter(
        encounter_id, principal, Permission.CLINICAL_WRITE, clinical, write=True
    )
    if encounter.status is not encounter_rules.EncounterStatus.IN_PROGRESS:
        raise EncounterStateError(
            Message(N_("This encounter is already closed: it cannot change any more.")),
            code="encounter_closed",
        )
    now = clock.now()
    listed = diagnosis_rules.add_diagnosis(
        await clinical.encounter_diagnoses(encounter.id),
        id=uuid7(),
        patient_id=patient.id,
        encounter_id=encounter.id,
        code=code,
        rank=rank,
        recorded_at=now,
        recorded_by=principal.user_id,
        catalogue=catalogue,
        now=now,
        certainty=certainty,
        note=note,
    )
    await clinical.save_diagnoses(listed)
    await audit.record(
        audit_record(
            "clinical.diagnosis.create",
            "diagnosis",
            listed[-1].id,
            patient.id,
            code=listed[-1].code,
        )
    )
    return listed


async def read_diagnosis(
    diagnosis_id: UUID, *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog
) -> diagnosis_rules.Diagnosis:
    found = await clinical.diagnosis(diagnosis_id)
    if found is None:
        raise ClinicalRecordNotFound()
    await load_patient(found.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False)
    await audit.record(
        audit_record("clinical.diagnosis.read", "diagnosis", found.id, found.patient_id)
    )
    return found
