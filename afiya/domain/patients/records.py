"""Use cases on a patient's sub-records: other identifiers and third-party payers."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.patients.errors import PatientNotFound
from afiya.domain.patients.model import Identifier, Patient, PatientStatus, Payer
from afiya.domain.patients.ports import PatientRepository
from afiya.domain.patients.validation import (
    IDENTIFIER_TYPES,
    check_identifier,
    check_payer,
    normalize_identifier_value,
)
from afiya.domain.shared.errors import Conflict, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


async def _writable(patient_id: UUID, principal: Principal, patients: PatientRepository) -> Patient:
    patient = await patients.get(patient_id)
    if patient is None:
        raise PatientNotFound()
    authorize(principal, Permission.PATIENTS_WRITE, patient.unit_path)
    if patient.status is PatientStatus.MERGED:
        raise Conflict(
            Message(N_("This record was merged into another one; use the surviving record.")),
            code="patient_merged",
            details={"merged_into_id": str(patient.merged_into_id)},
        )
    return patient


def _record(action: str, patient: Patient, **details: object) -> AuditRecord:
    return AuditRecord(action, "patient", str(patient.id), patient.id, details=details)


async def add_identifier(
    patient_id: UUID,
    identifier: Identifier,
    *,
    principal: Principal,
    patients: PatientRepository,
    audit: AuditLog,
) -> Identifier:
    """Add an identifier (type, value, issuer). A type that names one person (passport,
    UNHCR, NINA...) cannot be given to two patients; the same value twice is refused."""
    patient = await _writable(patient_id, principal, patients)
    errors = check_identifier(identifier)
    if errors:
        raise ValidationFailed(errors)
    identifier = dataclasses.replace(identifier, value=normalize_identifier_value(identifier.value))
    holders = set(await patients.find_by_identifier(identifier.type, identifier.value))
    if patient.id in holders:
        raise Conflict(
            Message(N_("This identifier is already recorded for this patient.")),
            code="identifier_exists",
        )
    known = IDENTIFIER_TYPES.get(identifier.type)
    if holders and known is not None and known.unique_person:
        raise Conflict(
            Message(N_("This identifier belongs to another patient: check for a duplicate.")),
            code="identifier_in_use",
            details={"patient_ids": sorted(str(h) for h in holders)},
        )
    stored = await patients.add_identifier(patient.id, identifier)
    await audit.record(_record("patient.identifier_add", patient, type=identifier.type))
    return stored


async def remove_identifier(
    patient_id: UUID,
    identifier_id: UUID,
    *,
    principal: Principal,
    patients: PatientRepository,
    audit: AuditLog,
) -> None:
    """Remove (soft-delete) one identifier of the patient."""
    patient = await _writable(patient_id, principal, patients)
    if not await patients.remove_identifier(patient.id, identifier_id):
        raise NotFound(Message(N_("Identifier not found.")))
    await audit.record(_record("patient.identifier_remove", patient, id=str(identifier_id)))


async def add_payer(
    patient_id: UUID,
    payer: Payer,
    *,
    principal: Principal,
    patients: PatientRepository,
    audit: AuditLog,
) -> Payer:
    """Attach a third-party payer (policy number, coverage %, validity)."""
    patient = await _writable(patient_id, principal, patients)
    errors = check_payer(payer)
    if errors:
        raise ValidationFailed(errors)
    stored = await patients.add_payer(patient.id, payer)
    await audit.record(_record("patient.payer_add", patient, kind=payer.kind.value))
    return stored


async def update_payer(
    patient_id: UUID,
    payer: Payer,
    *,
    principal: Principal,
    patients: PatientRepository,
    audit: AuditLog,
) -> Payer:
    """Change a payer (e.g. renew its validity); the same rules as adding one."""
    patient = await _writable(patient_id, principal, patients)
    errors = check_payer(payer)
    if errors:
        raise ValidationFailed(errors)
    stored = await patients.update_payer(patient.id, payer)
    if stored is None:
        raise NotFound(Message(N_("Payer not found.")))
    await audit.record(_record("patient.payer_update", patient, id=str(payer.id)))
    return stored


async def remove_payer(
    patient_id: UUID,
    payer_id: UUID,
    *,
    principal: Principal,
    patients: PatientRepository,
    audit: AuditLog,
) -> None:
    patient = await _writable(patient_id, principal, patients)
    if not await patients.remove_payer(patient.id, payer_id):
        raise NotFound(Message(N_("Payer not found.")))
    await audit.record(_record("patient.payer_remove", patient, id=str(payer_id)))
