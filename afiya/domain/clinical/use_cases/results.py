"""Use cases of results: lab results with their flags (a critical value schedules its
notification in the same transaction), imaging reports and files, and the delivery of
critical-result notifications to staff."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal
from afiya.domain.audit.ports import AuditLog
from afiya.domain.clinical import results as result_rules
from afiya.domain.clinical.common import age_in_days, field_error, raise_if
from afiya.domain.clinical.ports import (
    ClinicalPatient,
    ClinicalRepository,
    ImageProcessor,
    ImageUpload,
    StaffNotification,
    StoredImage,
)
from afiya.domain.clinical.use_cases.access import (
    CRITICAL_RESULT_JOB,
    MAX_IMAGE_FILES,
    NOTIFICATION_CRITICAL_RESULT,
    ClinicalRecordNotFound,
    audit_record,
    blob_key,
    check_encounter_of,
    load_patient,
)
from afiya.domain.identity.ports import UserRepository
from afiya.domain.platform.blobs import BlobStore
from afiya.domain.platform.jobs import JobRequest, JobScheduler
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.i18n import N_
from afiya.domain.shared.ids import uuid7


@dataclass(frozen=True, slots=True)
class NewLabResult:
    patient_id: UUID
    code: str
    name: str
    observed_at: datetime
    reported_at: datetime
    responsible_id: UUID | None = None  # default: the encounter's attending, else required
    encounter_id: UUID | None = None
    status: result_rules.ResultStatus = result_rules.ResultStatus.FINAL
    value: Decimal | None = None
    unit: str | None = None
    text: str | None = None
    reference: result_rules.ReferenceRange | None = None
    corrects_id: UUID | None = None  # a correction of this result


async def _check_responsible(user_id: UUID, users: UserRepository) -> None:
    """The clinician to notify must be an active user (the notification is theirs)."""
    user = await users.get(user_id)
    if user is None or not user.active:
        raise_if(
            [
                field_error(
                    "responsible_id",
                    "unknown_user",
                    N_("The responsible clinician is not a user of the system."),
                )
            ]
        )


def _critical_job(event: result_rules.CriticalResult) -> JobRequest:
    return JobRequest(
        name=CRITICAL_RESULT_JOB,
        args={
            "result_id": str(event.result_id),
            "result_version": event.result_version,
            "patient_id": str(event.patient_id),
            "encounter_id": str(event.encounter_id) if event.encounter_id else None,
            "responsible_id": str(event.responsible_id),
            "code": event.code,
            "name": event.name,
            "value": str(event.value) if event.value is not None else None,
            "unit": event.unit,
            "flag": event.flag.value if event.flag else None,
            "finding": event.finding,
            "detected_at": event.detected_at.isoformat(),
        },
        idempotency_key=event.dedup_key,
    )


def _age_days(patient: ClinicalPatient, on: date) -> int | None:
    return age_in_days(patient.birth_date, on) if patient.birth_date else None


async def record_lab_result(
    new: NewLabResult,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    users: UserRepository,
    jobs: JobScheduler,
    audit: AuditLog,
    clock: Clock,
) -> tuple[result_rules.LabResult, result_rules.CriticalResult | None]:
    """Store a lab result (or a correction, as a new version) with its flag.

    A critical value schedules the notification job in the same transaction as the
    result, keyed by the event's ``dedup_key``: the job exists if and only if the result
    was committed, and is delivered once even if the API restarts before it runs.
    """
    patient = await load_patient(
        new.patient_id, principal, Permission.LAB_RESULTS_WRITE, clinical, write=True
    )
    encounter = await check_encounter_of(new.encounter_id, patient.id, clinical)
    responsible = new.responsible_id or (encounter.attending_id if encounter else None)
    if responsible is None:
        raise_if(
            [
                field_error(
                    "responsible_id",
                    "required",
                    N_("Name the clinician responsible for the result, or give the encounter."),
                )
            ]
        )
        raise AssertionError  # unreachable
    await _check_responsible(responsible, users)
    now = clock.now()
    sex = patient.sex if patient.sex in ("female", "male", "other", "unknown") else None
    age = _age_days(patient, new.observed_at.date())
    if new.corrects_id is not None:
        found = await clinical.lab_result(new.corrects_id)
        if found is None or found[0].patient_id != patient.id:
            raise ClinicalRecordNotFound()
        previous, series_id = found
        result, event = result_rules.correct_result(
            replace(previous, reference=new.reference or previous.reference),
            id=uuid7(),
            value=new.value,
            text=new.text,
            reported_at=new.reported_at,
            now=now,
            sex=sex,  # type: ignore[arg-type]
            age_days=age,
        )
    else:
        result, event = result_rules.record_result(
            result_rules.LabResult(
                id=uuid7(),
                patient_id=patient.id,
                encounter_id=new.encounter_id,
                code=new.code.strip(),
                name=new.name.strip(),
                status=new.status,
                observed_at=new.observed_at,
                reported_at=new.reported_at,
                responsible_id=responsible,
                value=new.value,
                unit=new.unit,
                text=new.text,
                reference=new.reference,
            ),
            sex=sex,  # type: ignore[arg-type]
            age_days=age,
            now=now,
        )
        series_id = result.id
    await clinical.add_lab_result(result, series_id)
    if event is not None:
        await jobs.schedule(_critical_job(event))
    await audit.record(
        audit_record(
            "clinical.lab_result.create",
            "lab_result",
            result.id,
            patient.id,
            flag=result.flag.value if result.flag else None,
        )
    )
    return result, event


async def read_lab_result(
    result_id: UUID, *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog
) -> result_rules.LabResult:
    found = await clinical.lab_result(result_id)
    if found is None:
        raise ClinicalRecordNotFound()
    result = found[0]
    await load_patient(
        result.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False
    )
    await audit.record(
        audit_record("clinical.lab_result.read", "lab_result", result.id, result.patient_id)
    )
    return result


async def record_imaging_report(
    report: result_rules.ImagingReport,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    users: UserRepository,
    jobs: JobScheduler,
    audit: AuditLog,
    clock: Clock,
) -> result_rules.ImagingReport:
    """Store an imaging report (rules in
    :func:`~afiya.domain.clinical.results.record_imaging_report`). An urgent finding
    notifies the responsible clinician like a critical lab value, through the outbox."""
    patient = await load_patient(
        report.patient_id, principal, Permission.IMAGING_RESULTS_WRITE, clinical, write=True
    )
    await check_encounter_of(report.encounter_id, patient.id, clinical)
    await _check_responsible(report.responsible_id, users)
    stored, event = result_rules.record_imaging_report(report, now=clock.now())
    await clinical.add_imaging_report(stored)
    if event is not None:
        await jobs.schedule(_critical_job(event))
    await audit.record(
        audit_record("clinical.imaging.create", "imaging_report", stored.id, patient.id)
    )
    return stored


async def attach_images(
    report_id: UUID,
    uploads: Sequence[ImageUpload],
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    blobs: BlobStore,
    processor: ImageProcessor,
    audit: AuditLog,
    clock: Clock,
) -> list[StoredImage]:
    """Store the files of an imaging report in the blob store: each original as uploaded
    (a DICOM file byte for byte, its key tags indexed) and, for pictures, a thumbnail
    and a compressed WebP rendition for low-bandwidth viewing."""
    report = await clinical.imaging_report(report_id)
    if report is None:
        raise ClinicalRecordNotFound()
    patient = await load_patient(
        report.patient_id, principal, Permission.IMAGING_RESULTS_WRITE, clinical, write=True
    )
    if not uploads:
        raise_if([field_error("files", "required", N_("Attach at least one file."))])
    if len(uploads) > MAX_IMAGE_FILES:
        raise_if(
            [
                field_error(
                    "files",
                    "too_many",
                    N_("Attach at most {max} files at a time."),
                    max=MAX_IMAGE_FILES,
                )
            ]
        )
    now = clock.now()
    images: list[StoredImage] = []
    for upload in uploads:
        processed = await asyncio.to_thread(processor.process, upload)
        content_type = "application/dicom" if processed.kind == "dicom" else upload.content_type
        blob = await blobs.put(blob_key("imaging", now, content_type), upload.data, content_type)
        original = StoredImage(
            id=uuid7(),
            report_id=report.id,
            patient_id=patient.id,
            role="original",
            blob_key=blob.key,
            content_type=content_type,
            size=blob.size,
            sha256=blob.sha256,
            filename=upload.filename[:255] or None,
            width=processed.width,
            height=processed.height,
            study_uid=(processed.dicom_tags or {}).get("StudyInstanceUID"),
            dicom_tags=dict(processed.dicom_tags) if processed.dicom_tags else None,
        )
        await clinical.add_image(original)
        images.append(original)
        for rendition in processed.renditions:
            stored = await blobs.put(
                blob_key("imaging", now, rendition.content_type),
                rendition.data,
                rendition.content_type,
            )
            image = StoredImage(
                id=uuid7(),
                report_id=report.id,
                patient_id=patient.id,
                role=rendition.role,
                blob_key=stored.key,
                content_type=rendition.content_type,
                size=stored.size,
                sha256=stored.sha256,
                original_id=original.id,
                width=rendition.width,
                height=rendition.height,
            )
            await clinical.add_image(image)
            images.append(image)
    await audit.record(
        audit_record(
            "clinical.imaging.attach", "imaging_report", report.id, patient.id, files=len(uploads)
        )
    )
    return images


async def read_imaging_report(
    report_id: UUID, *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog
) -> tuple[result_rules.ImagingReport, list[StoredImage]]:
    report = await clinical.imaging_report(report_id)
    if report is None:
        raise ClinicalRecordNotFound()
    await load_patient(
        report.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False
    )
    images = await clinical.images(report.id)
    await audit.record(
        audit_record("clinical.imaging.read", "imaging_report", report.id, report.patient_id)
    )
    return report, images


async def read_image(
    report_id: UUID,
    image_id: UUID,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    blobs: BlobStore,
    audit: AuditLog,
) -> tuple[StoredImage, bytes]:
    """One file of an imaging report (original or rendition), from the blob store."""
    _report, images = await read_imaging_report(
        report_id, principal=principal, clinical=clinical, audit=audit
    )
    image = next((i for i in images if i.id == image_id), None)
    if image is None:
        raise ClinicalRecordNotFound()
    return image, await blobs.get(image.blob_key)


async def deliver_critical_result(args: Mapping[str, Any], *, clinical: ClinicalRepository) -> bool:
    """Record the notification of a critical result for the responsible clinician.

    Idempotent: keyed by the event's dedup key (result id and version), so a job run
    twice, or a result re-sent, leaves one notification. Returns True when stored now.
    """
    key = f"critical-result:{args['result_id']}:{args['result_version']}"
    payload = {k: v for k, v in args.items() if k not in ("responsible_id", "patient_id")}
    return await clinical.add_notification(
        StaffNotification(
            id=uuid7(),
            user_id=UUID(str(args["responsible_id"])),
            kind=NOTIFICATION_CRITICAL_RESULT,
            patient_id=UUID(str(args["patient_id"])),
            payload=payload,
            dedup_key=key,
        )
    )


async def my_notifications(
    *, principal: Principal, clinical: ClinicalRepository, audit: AuditLog, unread_only: bool
) -> list[StaffNotification]:
    """The caller's own notifications; each patient they name is audited as read."""
    found = await clinical.notifications(principal.user_id, unread_only=unread_only)
    for patient_id in sorted({n.patient_id for n in found if n.patient_id is not None}):
        await audit.record(
            audit_record("clinical.notification.read", "staff_notification", None, patient_id)
        )
    return found
