"""Bodies of the result routes: lab results, imaging reports and their images, and the
staff notifications they raise (snake_case; decimals travel as strings)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from afiya.api.clinical.schemas import Code, LongText, Short, Text
from afiya.domain.clinical.ports import StaffNotification, StoredImage
from afiya.domain.clinical.results import ImagingReport, LabResult, Modality, ReferenceRange

# -- results ----------------------------------------------------------------------------


class ReferenceIn(msgspec.Struct, forbid_unknown_fields=True):
    unit: Annotated[str, msgspec.Meta(max_length=24)]
    low: Decimal | None = None
    high: Decimal | None = None
    critical_low: Decimal | None = None
    critical_high: Decimal | None = None

    def domain(self) -> ReferenceRange:
        return ReferenceRange(self.unit, self.low, self.high, self.critical_low, self.critical_high)


class LabResultCreate(msgspec.Struct, forbid_unknown_fields=True):
    patient_id: UUID
    code: Code
    name: Short
    observed_at: datetime
    reported_at: datetime
    responsible_id: UUID | None = None
    encounter_id: UUID | None = None
    status: Literal["preliminary", "final"] = "final"
    value: Decimal | None = None
    unit: Annotated[str, msgspec.Meta(max_length=24)] | None = None
    text: Text | None = None
    reference: ReferenceIn | None = None
    corrects_id: UUID | None = None


class LabResultRead(msgspec.Struct):
    id: UUID
    patient_id: UUID
    encounter_id: UUID | None
    code: str
    name: str
    status: str
    observed_at: datetime
    reported_at: datetime
    responsible_id: UUID
    value: Decimal | None
    unit: str | None
    text: str | None
    reference: dict[str, Any] | None
    flag: str | None
    critical: bool
    version: int
    previous_id: UUID | None

    @classmethod
    def of(cls, r: LabResult) -> LabResultRead:
        ref = r.reference
        return cls(
            r.id,
            r.patient_id,
            r.encounter_id,
            r.code,
            r.name,
            r.status.value,
            r.observed_at,
            r.reported_at,
            r.responsible_id,
            r.value,
            r.unit,
            r.text,
            {
                "unit": ref.unit,
                "low": _s(ref.low),
                "high": _s(ref.high),
                "critical_low": _s(ref.critical_low),
                "critical_high": _s(ref.critical_high),
            }
            if ref
            else None,
            r.flag.value if r.flag else None,
            bool(r.flag and r.flag.critical),
            r.version,
            r.previous_id,
        )


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class ImagingReportCreate(msgspec.Struct, forbid_unknown_fields=True):
    patient_id: UUID
    modality: Modality
    body_site: Short
    findings: LongText
    conclusion: LongText
    reported_at: datetime
    responsible_id: UUID
    encounter_id: UUID | None = None
    urgent_finding: Text | None = None


class ImageRead(msgspec.Struct):
    id: UUID
    role: str
    content_type: str
    size: int
    sha256: str
    original_id: UUID | None
    filename: str | None
    width: int | None
    height: int | None
    study_uid: str | None
    dicom_tags: dict[str, str] | None
    link: str

    @classmethod
    def of(cls, i: StoredImage) -> ImageRead:
        return cls(
            i.id,
            i.role,
            i.content_type,
            i.size,
            i.sha256,
            i.original_id,
            i.filename,
            i.width,
            i.height,
            i.study_uid,
            i.dicom_tags,
            f"/api/v1/imaging-reports/{i.report_id}/files/{i.id}",
        )


class ImagingReportRead(msgspec.Struct):
    id: UUID
    patient_id: UUID
    encounter_id: UUID | None
    modality: str
    body_site: str
    findings: str
    conclusion: str
    reported_by: UUID
    reported_at: datetime
    responsible_id: UUID
    urgent_finding: str | None
    files: list[ImageRead]

    @classmethod
    def of(cls, r: ImagingReport, images: list[StoredImage]) -> ImagingReportRead:
        return cls(
            r.id,
            r.patient_id,
            r.encounter_id,
            r.modality.value,
            r.body_site,
            r.findings,
            r.conclusion,
            r.reported_by,
            r.reported_at,
            r.responsible_id,
            r.urgent_finding,
            [ImageRead.of(i) for i in images],
        )


class NotificationRead(msgspec.Struct):
    id: UUID
    kind: str
    patient_id: UUID | None
    payload: dict[str, Any]
    created_at: datetime | None
    read_at: datetime | None

    @classmethod
    def of(cls, n: StaffNotification) -> NotificationRead:
        return cls(n.id, n.kind, n.patient_id, dict(n.payload), n.created_at, n.read_at)
