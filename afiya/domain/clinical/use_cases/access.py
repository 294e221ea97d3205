"""What every clinical use case shares: loading the patient and checking access
(the patient's facility path is the record's scope), audit records, blob keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.clinical.common import field_error, raise_if
from afiya.domain.clinical.encounters import Encounter, Location
from afiya.domain.clinical.errors import EncounterNotFound
from afiya.domain.clinical.ports import (
    ClinicalPatient,
    ClinicalRepository,
)
from afiya.domain.orgunits.model import OrgUnit, UnitKind
from afiya.domain.orgunits.ports import OrgUnitRepository
from afiya.domain.patients.errors import PatientNotFound
from afiya.domain.shared.errors import Conflict, FieldError, NotFound
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

CRITICAL_RESULT_JOB = "clinical.critical_result"
NOTIFICATION_CRITICAL_RESULT = "critical_result"
DOCUMENT_LANGUAGES = ("fr", "ar", "en")
MAX_IMAGE_FILES = 20


class ClinicalRecordNotFound(NotFound):
    code = "clinical_record_not_found"
    default_message = N_("This item of the clinical record was not found.")


def audit_record(
    action: str, resource: str, resource_id: UUID | None, patient_id: UUID, **details: Any
) -> AuditRecord:
    return AuditRecord(
        action,
        resource,
        str(resource_id) if resource_id else None,
        patient_id,
        details=details,
    )


async def load_patient(
    patient_id: UUID,
    principal: Principal,
    permission: Permission,
    clinical: ClinicalRepository,
    *,
    write: bool,
) -> ClinicalPatient:
    patient = await clinical.patient(patient_id)
    if patient is None:
        raise PatientNotFound()
    authorize(principal, permission, patient.unit_path)
    if write and patient.status == "merged":
        raise Conflict(
            Message(N_("This record was merged into another one; use the surviving record.")),
            code="patient_merged",
            details={"merged_into_id": str(patient.merged_into_id)},
        )
    return patient


async def load_encounter(
    encounter_id: UUID,
    principal: Principal,
    permission: Permission,
    clinical: ClinicalRepository,
    *,
    write: bool,
) -> tuple[Encounter, ClinicalPatient]:
    encounter = await clinical.encounter(encounter_id)
    if encounter is None:
        raise EncounterNotFound()
    patient = await load_patient(encounter.patient_id, principal, permission, clinical, write=write)
    return encounter, patient


async def check_encounter_of(
    encounter_id: UUID | None, patient_id: UUID, clinical: ClinicalRepository
) -> Encounter | None:
    if encounter_id is None:
        return None
    encounter = await clinical.encounter(encounter_id)
    if encounter is None or encounter.patient_id != patient_id:
        raise_if(
            [
                field_error(
                    "encounter_id",
                    "unknown_encounter",
                    N_("This encounter is not one of the patient's."),
                )
            ]
        )
    return encounter


async def check_location(
    location: Location | None, facility_path: str, units: OrgUnitRepository, field: str
) -> list[FieldError]:
    if location is None:
        return []
    errors: list[FieldError] = []
    department = await units.get(location.department_id)
    if (
        department is None
        or department.kind is not UnitKind.DEPARTMENT
        or not department.path.startswith(facility_path)
    ):
        errors.append(
            field_error(
                f"{field}.department_id",
                "unknown_department",
                N_("This department does not belong to the facility."),
            )
        )
    if location.ward_id is not None:
        ward = await units.get(location.ward_id)
        if (
            ward is None
            or ward.kind is not UnitKind.WARD
            or department is None
            or not ward.path.startswith(department.path)
        ):
            errors.append(
                field_error(
                    f"{field}.ward_id",
                    "unknown_ward",
                    N_("This ward does not belong to the department."),
                )
            )
    return errors


async def load_facility(unit_id: UUID, units: OrgUnitRepository) -> OrgUnit:
    unit = await units.get(unit_id)
    if unit is None or unit.kind is not UnitKind.FACILITY:
        raise_if(
            [field_error("unit_id", "not_a_facility", N_("Choose a facility for the encounter."))]
        )
        raise AssertionError  # unreachable
    return unit


_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/dicom": "dcm",
    "application/pdf": "pdf",
}


def blob_key(kind: str, at: datetime, content_type: str) -> str:
    """``clinical/<kind>/<yyyy>/<mm>/<uuid7>.<ext>`` (the blob store's key convention)."""
    ext = _EXTENSIONS.get(content_type, "bin")
    return f"clinical/{kind}/{at:%Y}/{at:%m}/{uuid7()}.{ext}"
