"""SQL of the clinical record, results half: lab results, imaging reports and their
files, issued documents and staff notifications. Mixed into
:class:`~afiya.adapters.db.repositories.clinical.SqlClinicalRepository` (one repository
per module)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.clinical import (
    ClinicalDocumentRow,
    ImagingFileRow,
    ImagingReportRow,
    LabResultRow,
    StaffNotificationRow,
)
from afiya.adapters.db.repositories.clinical_rows import (
    imaging_report_of,
    lab_result_of,
    stored_image_of,
)
from afiya.domain.clinical.ports import StaffNotification, StoredDocument, StoredImage
from afiya.domain.clinical.results import ImagingReport, LabResult


class ClinicalResults:
    """Results, documents and notifications of :class:`SqlClinicalRepository`."""

    _session: AsyncSession

    # -- lab results --------------------------------------------------------------------
    async def add_lab_result(self, result: LabResult, series_id: UUID) -> None:
        ref = result.reference
        self._session.add(
            LabResultRow(
                id=result.id,
                series_id=series_id,
                result_version=result.version,
                patient_id=result.patient_id,
                encounter_id=result.encounter_id,
                code=result.code,
                name=result.name,
                status=result.status.value,
                observed_at=result.observed_at,
                occurred_at=result.reported_at,
                responsible_id=result.responsible_id,
                value=result.value,
                unit=result.unit,
                text=result.text,
                ref_unit=ref.unit if ref else None,
                ref_low=ref.low if ref else None,
                ref_high=ref.high if ref else None,
                critical_low=ref.critical_low if ref else None,
                critical_high=ref.critical_high if ref else None,
                flag=result.flag.value if result.flag else None,
                previous_id=result.previous_id,
            )
        )
        await self._session.flush()

    async def lab_result(self, result_id: UUID) -> tuple[LabResult, UUID] | None:
        r = await self._session.get(LabResultRow, result_id)
        if r is None or r.deleted_at is not None:
            return None
        return (lab_result_of(r), r.series_id)

    # -- imaging ------------------------------------------------------------------------
    async def add_imaging_report(self, report: ImagingReport) -> None:
        self._session.add(
            ImagingReportRow(
                id=report.id,
                patient_id=report.patient_id,
                encounter_id=report.encounter_id,
                modality=report.modality.value,
                body_site=report.body_site,
                findings=report.findings,
                conclusion=report.conclusion,
                reported_by=report.reported_by,
                occurred_at=report.reported_at,
                responsible_id=report.responsible_id,
                urgent_finding=report.urgent_finding,
            )
        )
        await self._session.flush()

    async def imaging_report(self, report_id: UUID) -> ImagingReport | None:
        r = await self._session.get(ImagingReportRow, report_id)
        if r is None or r.deleted_at is not None:
            return None
        return imaging_report_of(r, tuple(i.blob_key for i in await self.images(r.id)))

    async def add_image(self, image: StoredImage) -> None:
        self._session.add(
            ImagingFileRow(
                id=image.id,
                report_id=image.report_id,
                patient_id=image.patient_id,
                role=image.role,
                original_id=image.original_id,
                blob_key=image.blob_key,
                content_type=image.content_type,
                size=image.size,
                sha256=image.sha256,
                filename=image.filename,
                width=image.width,
                height=image.height,
                study_uid=image.study_uid,
                dicom_tags=image.dicom_tags,
            )
        )
        await self._session.flush()

    async def images(self, report_id: UUID) -> list[StoredImage]:
        rows = (
            (
                await self._session.execute(
                    select(ImagingFileRow)
                    .where(
                        ImagingFileRow.report_id == report_id, ImagingFileRow.deleted_at.is_(None)
                    )
                    .order_by(ImagingFileRow.id)
                )
            )
            .scalars()
            .all()
        )
        return [stored_image_of(r) for r in rows]

    # -- documents ----------------------------------------------------------------------
    async def add_document(self, document: StoredDocument) -> None:
        self._session.add(
            ClinicalDocumentRow(
                id=document.id,
                patient_id=document.patient_id,
                encounter_id=document.encounter_id,
                kind=document.kind,
                language=document.language,
                blob_key=document.blob_key,
                content_type=document.content_type,
                size=document.size,
                sha256=document.sha256,
                occurred_at=document.issued_at,
                issued_by=document.issued_by,
            )
        )
        await self._session.flush()

    async def document(self, document_id: UUID) -> StoredDocument | None:
        r = await self._session.get(ClinicalDocumentRow, document_id)
        if r is None or r.deleted_at is not None:
            return None
        return StoredDocument(
            id=r.id,
            patient_id=r.patient_id,
            encounter_id=r.encounter_id,
            kind=r.kind,
            language=r.language,
            blob_key=r.blob_key,
            content_type=r.content_type,
            size=r.size,
            sha256=r.sha256,
            issued_at=r.occurred_at,
            issued_by=r.issued_by,
        )

    # -- staff notifications --------------------------------------------------------------
    async def add_notification(self, notification: StaffNotification) -> bool:
        existing = (
            await self._session.execute(
                select(StaffNotificationRow.id).where(
                    StaffNotificationRow.dedup_key == notification.dedup_key
                )
            )
        ).scalar_one_or_none()
        if existing is not None:
            return False
        try:
            async with self._session.begin_nested():
                self._session.add(
                    StaffNotificationRow(
                        id=notification.id,
                        user_id=notification.user_id,
                        kind=notification.kind,
                        patient_id=notification.patient_id,
                        payload=dict(notification.payload),
                        dedup_key=notification.dedup_key,
                    )
                )
                await self._session.flush()
        except IntegrityError:  # a concurrent delivery stored it first
            return False
        return True

    async def notifications(self, user_id: UUID, *, unread_only: bool) -> list[StaffNotification]:
        stmt = select(StaffNotificationRow).where(
            StaffNotificationRow.user_id == user_id, StaffNotificationRow.deleted_at.is_(None)
        )
        if unread_only:
            stmt = stmt.where(StaffNotificationRow.read_at.is_(None))
        rows = (await self._session.execute(stmt.order_by(StaffNotificationRow.id))).scalars()
        return [
            StaffNotification(
                id=r.id,
                user_id=r.user_id,
                kind=r.kind,
                patient_id=r.patient_id,
                payload=dict(r.payload),
                dedup_key=r.dedup_key,
                created_at=r.created_at,
                read_at=r.read_at,
            )
            for r in rows
        ]
