"""Clinical record routes: lab results, imaging reports with their files, and the
caller's staff notifications (critical results)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody

from afiya.api.clinical import services
from afiya.api.clinical.result_schemas import (
    ImageRead,
    ImagingReportCreate,
    ImagingReportRead,
    LabResultCreate,
    LabResultRead,
    NotificationRead,
)
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.clinical import use_cases
from afiya.domain.clinical.ports import ImageUpload
from afiya.domain.clinical.results import ImagingReport, ResultStatus
from afiya.domain.shared.ids import uuid7

Req = Request[Any, Any, Any]


class LabResultController(Controller):
    path = "/api/v1/results"
    tags = ["clinical"]
    opt = {"resource": "lab_result"}

    @post(
        "/",
        operation_id="results_create",
        summary="Record a lab result",
        opt={PERMISSION: Permission.LAB_RESULTS_WRITE},
    )
    async def create(
        self, request: Req, data: JSONBody[LabResultCreate], principal: CurrentPrincipal, uow: Uow
    ) -> LabResultRead:
        """A numeric value with its unit and reference range (flag N, L, H, LL, HH; critical
        limits inclusive), or a text result. ``corrects_id`` records a correction as a new
        version. A critical value notifies the responsible clinician (``responsible_id``,
        or the encounter's attending) exactly once, through a job written in the same
        transaction."""
        result, _ = await use_cases.record_lab_result(
            use_cases.NewLabResult(
                patient_id=data.patient_id,
                code=data.code,
                name=data.name,
                observed_at=data.observed_at,
                reported_at=data.reported_at,
                responsible_id=data.responsible_id,
                encounter_id=data.encounter_id,
                status=ResultStatus(data.status),
                value=data.value,
                unit=data.unit,
                text=data.text,
                reference=data.reference.domain() if data.reference else None,
                corrects_id=data.corrects_id,
            ),
            principal=principal,
            clinical=uow.clinical,
            users=uow.users,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return LabResultRead.of(result)

    @get(
        "/{result_id:uuid}",
        operation_id="results_get",
        summary="Read a lab result",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, result_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> LabResultRead:
        """One version of a result (a correction points at the version it corrects).
        Audited."""
        return LabResultRead.of(
            await use_cases.read_lab_result(
                result_id, principal=principal, clinical=uow.clinical, audit=uow.audit
            )
        )


class ImagingController(Controller):
    path = "/api/v1/imaging-reports"
    tags = ["clinical"]
    opt = {"resource": "imaging_report"}

    @post(
        "/",
        operation_id="imaging_reports_create",
        summary="Record an imaging report",
        opt={PERMISSION: Permission.IMAGING_RESULTS_WRITE},
    )
    async def create(
        self,
        request: Req,
        data: JSONBody[ImagingReportCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> ImagingReportRead:
        """Findings and conclusion; an ``urgent_finding`` notifies the responsible clinician
        like a critical lab value. Attach the images with ``.../files``."""
        report = await use_cases.record_imaging_report(
            ImagingReport(
                id=uuid7(),
                patient_id=data.patient_id,
                encounter_id=data.encounter_id,
                modality=data.modality,
                body_site=data.body_site,
                findings=data.findings,
                conclusion=data.conclusion,
                reported_by=principal.user_id,
                reported_at=data.reported_at,
                responsible_id=data.responsible_id,
                urgent_finding=data.urgent_finding,
            ),
            principal=principal,
            clinical=uow.clinical,
            users=uow.users,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return ImagingReportRead.of(report, [])

    @post(
        "/{report_id:uuid}/files",
        operation_id="imaging_reports_attach",
        summary="Attach image files to an imaging report",
        opt={PERMISSION: Permission.IMAGING_RESULTS_WRITE},
    )
    async def attach(
        self,
        request: Req,
        report_id: FromPath[UUID],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> list[ImageRead]:
        """``multipart/form-data`` with one or more ``files`` parts (JPEG, PNG, WebP, or
        DICOM kept byte for byte with its key tags indexed). Pictures get a 256-pixel
        thumbnail and a WebP rendition for low-bandwidth viewing."""
        uploads: list[ImageUpload] = []
        for value in data.values():
            for part in value if isinstance(value, list) else [value]:
                if isinstance(part, UploadFile):
                    uploads.append(
                        ImageUpload(
                            part.filename or "",
                            part.content_type or "application/octet-stream",
                            await part.read(),
                        )
                    )
        images = await use_cases.attach_images(
            report_id,
            uploads,
            principal=principal,
            clinical=uow.clinical,
            blobs=request.app.state.container.blobs,
            processor=services.images(request),
            audit=uow.audit,
            clock=services.clock(request),
        )
        return [ImageRead.of(i) for i in images]

    @get(
        "/{report_id:uuid}",
        operation_id="imaging_reports_get",
        summary="Read an imaging report",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, report_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> ImagingReportRead:
        """The report with its files and their links. Audited."""
        report, images = await use_cases.read_imaging_report(
            report_id, principal=principal, clinical=uow.clinical, audit=uow.audit
        )
        return ImagingReportRead.of(report, images)

    @get(
        "/{report_id:uuid}/files/{file_id:uuid}",
        operation_id="imaging_reports_file",
        summary="Download an image file",
        opt={PERMISSION: Permission.CLINICAL_READ},
        media_type="application/octet-stream",
    )
    async def file(
        self,
        request: Req,
        report_id: FromPath[UUID],
        file_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[bytes]:
        """An original (DICOM as uploaded), thumbnail or WebP rendition. Audited."""
        image, data = await use_cases.read_image(
            report_id,
            file_id,
            principal=principal,
            clinical=uow.clinical,
            blobs=request.app.state.container.blobs,
            audit=uow.audit,
        )
        return Response(data, media_type=image.content_type)


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["clinical"]
    opt = {"resource": "staff_notification"}

    @get(
        "/",
        operation_id="notifications_mine",
        summary="My notifications",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def mine(
        self, principal: CurrentPrincipal, uow: Uow, unread: FromQuery[bool] = True
    ) -> list[NotificationRead]:
        """The caller's notifications (critical results...), oldest first. Audited per
        patient."""
        found = await use_cases.my_notifications(
            principal=principal, clinical=uow.clinical, audit=uow.audit, unread_only=unread
        )
        return [NotificationRead.of(n) for n in found]
