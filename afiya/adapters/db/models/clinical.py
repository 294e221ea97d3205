"""Clinical record tables: encounters and their steps, observations, diagnoses, problems,
allergies and "no known allergies" statements, append-only notes, lab results, imaging
reports and files, clinical documents, and staff notifications.

Every clinical fact has an ``occurred_at`` (when it happened clinically: measured,
recorded, written, reported) and an index on ``(patient_id, occurred_at, id)``: the
timeline reads each table by keyset on that index (ADR 0107). Facts are append-only:
a note amendment or a corrected result is a new row pointing at the previous one.
Note sections (clinical free text) are AES-256-GCM envelopes bound to their row.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from afiya.adapters.db.base import Base, Syncable
from afiya.domain.patients.references import register_reference


def _timeline_index(table: str) -> Index:
    return Index(f"ix_{table}_patient_id_occurred_at_id", "patient_id", "occurred_at", "id")


class EncounterRow(Syncable, Base):
    """A consultation, emergency visit or admission; its steps are encounter events."""

    __tablename__ = "clinical_encounter"
    __table_args__ = (
        Index("ix_clinical_encounter_patient_id_started_at", "patient_id", "started_at"),
        Index("ix_clinical_encounter_unit_path", "unit_path"),
    )

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    unit_id: Mapped[UUID] = mapped_column(ForeignKey("org_unit.id"))
    unit_path: Mapped[str] = mapped_column(String(255))  # the facility's path, for scopes
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    attending_id: Mapped[UUID]
    triage: Mapped[int | None] = mapped_column(Integer)
    discharge_at: Mapped[datetime | None]
    discharge_mode: Mapped[str | None] = mapped_column(String(24))
    destination: Mapped[str | None] = mapped_column(String(200))
    death_at: Mapped[datetime | None]
    death_cause_code: Mapped[str | None] = mapped_column(String(8))
    discharge_note: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class EncounterEventRow(Syncable, Base):
    """One step of an encounter: ``start``, ``transfer``, ``discharge`` or ``cancel``.

    The start and transfers of an admission carry the place (the movements); the
    timeline lists every step.
    """

    __tablename__ = "clinical_encounter_event"
    __table_args__ = (
        _timeline_index("clinical_encounter_event"),
        UniqueConstraint("encounter_id", "seq"),
    )

    encounter_id: Mapped[UUID] = mapped_column(ForeignKey("clinical_encounter.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    seq: Mapped[int] = mapped_column(Integer)  # 0 = start, then 1, 2... in time order
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    department_id: Mapped[UUID | None] = mapped_column(ForeignKey("org_unit.id"))
    ward_id: Mapped[UUID | None] = mapped_column(ForeignKey("org_unit.id"))
    bed: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(String(64))  # encounter kind / discharge mode


class ObservationRow(Syncable, Base):
    __tablename__ = "clinical_observation"
    __table_args__ = (_timeline_index("clinical_observation"),)

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    encounter_id: Mapped[UUID | None] = mapped_column(ForeignKey("clinical_encounter.id"))
    code: Mapped[str] = mapped_column(String(16))  # LOINC
    value: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    unit: Mapped[str] = mapped_column(String(16))  # UCUM, canonical
    occurred_at: Mapped[datetime]  # effective (measured) time
    recorded_by: Mapped[UUID]
    entered_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    entered_unit: Mapped[str | None] = mapped_column(String(16))
    derived_from: Mapped[list[Any]] = mapped_column(JSON, default=list)


class DiagnosisRow(Syncable, Base):
    __tablename__ = "clinical_diagnosis"
    __table_args__ = (
        _timeline_index("clinical_diagnosis"),
        Index("ix_clinical_diagnosis_encounter_id", "encounter_id"),
    )

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    encounter_id: Mapped[UUID] = mapped_column(ForeignKey("clinical_encounter.id"))
    code: Mapped[str] = mapped_column(String(8))  # WHO ICD-10
    rank: Mapped[str] = mapped_column(String(16))
    certainty: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime]  # recorded
    recorded_by: Mapped[UUID]
    note: Mapped[str | None] = mapped_column(Text)


class ProblemRow(Syncable, Base):
    __tablename__ = "clinical_problem"
    __table_args__ = (_timeline_index("clinical_problem"),)

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime]  # recorded
    recorded_by: Mapped[UUID]
    onset: Mapped[date | None] = mapped_column(Date)
    last_menstrual_period: Mapped[date | None] = mapped_column(Date)
    expected_delivery: Mapped[date | None] = mapped_column(Date)
    cycle_days: Mapped[int | None] = mapped_column(Integer)
    resolved_on: Mapped[date | None] = mapped_column(Date)


class AllergyRow(Syncable, Base):
    __tablename__ = "clinical_allergy"
    __table_args__ = (_timeline_index("clinical_allergy"),)

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    type: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    substance_system: Mapped[str] = mapped_column(String(16))
    substance_code: Mapped[str] = mapped_column(String(64))
    substance_display: Mapped[str] = mapped_column(String(200))
    criticality: Mapped[str] = mapped_column(String(24))
    verification: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]  # recorded
    recorded_by: Mapped[UUID]
    reactions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    superseded_by: Mapped[UUID | None]


class AllergyStatementRow(Syncable, Base):
    """A "no known allergies" statement: explicit, never inferred from an empty list."""

    __tablename__ = "clinical_allergy_statement"
    __table_args__ = (_timeline_index("clinical_allergy_statement"),)

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    occurred_at: Mapped[datetime]  # stated
    stated_by: Mapped[UUID]
    superseded_by: Mapped[UUID | None]
    superseded_at: Mapped[datetime | None]


class NoteRow(Syncable, Base):
    """One version of a clinical note; versions of a note share ``series_id``."""

    __tablename__ = "clinical_note"
    __table_args__ = (
        _timeline_index("clinical_note"),
        UniqueConstraint("series_id", "note_version"),
    )

    series_id: Mapped[UUID]
    note_version: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    encounter_id: Mapped[UUID | None] = mapped_column(ForeignKey("clinical_encounter.id"))
    kind: Mapped[str] = mapped_column(String(16))
    anamnesis_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    examination_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    assessment_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    plan_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    author_id: Mapped[UUID]
    occurred_at: Mapped[datetime]  # written
    first_author_id: Mapped[UUID]
    previous_id: Mapped[UUID | None] = mapped_column(ForeignKey("clinical_note.id"))
    amendment_reason: Mapped[str | None] = mapped_column(Text)


class LabResultRow(Syncable, Base):
    """One version of a lab result; a correction is a new row (``previous_id``)."""

    __tablename__ = "clinical_lab_result"
    __table_args__ = (
        _timeline_index("clinical_lab_result"),
        UniqueConstraint("series_id", "result_version"),
    )

    series_id: Mapped[UUID]
    result_version: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    encounter_id: Mapped[UUID | None] = mapped_column(ForeignKey("clinical_encounter.id"))
    code: Mapped[str] = mapped_column(String(16))  # LOINC
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    observed_at: Mapped[datetime]  # specimen taken
    occurred_at: Mapped[datetime]  # reported
    responsible_id: Mapped[UUID]
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    unit: Mapped[str | None] = mapped_column(String(24))
    text: Mapped[str | None] = mapped_column(Text)
    ref_unit: Mapped[str | None] = mapped_column(String(24))
    ref_low: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    ref_high: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    critical_low: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    critical_high: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    flag: Mapped[str | None] = mapped_column(String(2))
    previous_id: Mapped[UUID | None] = mapped_column(ForeignKey("clinical_lab_result.id"))


class ImagingReportRow(Syncable, Base):
    __tablename__ = "clinical_imaging_report"
    __table_args__ = (_timeline_index("clinical_imaging_report"),)

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    encounter_id: Mapped[UUID | None] = mapped_column(ForeignKey("clinical_encounter.id"))
    modality: Mapped[str] = mapped_column(String(8))
    body_site: Mapped[str] = mapped_column(String(200))
    findings: Mapped[str] = mapped_column(Text)
    conclusion: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[UUID]
    occurred_at: Mapped[datetime]  # reported
    responsible_id: Mapped[UUID]
    urgent_finding: Mapped[str | None] = mapped_column(Text)


class ImagingFileRow(Syncable, Base):
    """An image of a report in the blob store: the original (a DICOM file kept as is),
    its thumbnail and its WebP rendition, linked by ``original_id``."""

    __tablename__ = "clinical_imaging_file"
    __table_args__ = (
        Index("ix_clinical_imaging_file_report_id", "report_id"),
        Index("ix_clinical_imaging_file_patient_id", "patient_id"),
        Index("ix_clinical_imaging_file_study_uid", "study_uid"),
    )

    report_id: Mapped[UUID] = mapped_column(ForeignKey("clinical_imaging_report.id"))
    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    role: Mapped[str] = mapped_column(String(16))  # original, thumbnail, webp
    original_id: Mapped[UUID | None] = mapped_column(ForeignKey("clinical_imaging_file.id"))
    blob_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    study_uid: Mapped[str | None] = mapped_column(String(64))  # DICOM (0020,000D)
    dicom_tags: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ClinicalDocumentRow(Syncable, Base):
    """A generated document (discharge letter, hospitalisation report) in the blob store."""

    __tablename__ = "clinical_document"
    __table_args__ = (
        _timeline_index("clinical_document"),
        Index("ix_clinical_document_encounter_id", "encounter_id"),
    )

    patient_id: Mapped[UUID] = mapped_column(ForeignKey("patient.id"))
    encounter_id: Mapped[UUID] = mapped_column(ForeignKey("clinical_encounter.id"))
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    blob_key: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]  # issued
    issued_by: Mapped[UUID]


class StaffNotificationRow(Syncable, Base):
    """A notification for one staff member (a critical result...). Syncable: the change
    log carries it to the real-time stream and to other nodes. ``dedup_key`` makes its
    delivery idempotent (one notification per event, whatever the retries)."""

    __tablename__ = "staff_notification"
    __table_args__ = (
        Index("ix_staff_notification_user_id_read_at", "user_id", "read_at"),
        Index("ix_staff_notification_patient_id", "patient_id"),
        UniqueConstraint("dedup_key"),
    )

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(32))
    patient_id: Mapped[UUID | None] = mapped_column(ForeignKey("patient.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedup_key: Mapped[str] = mapped_column(String(128))
    read_at: Mapped[datetime | None]


# A merge moves every clinical row of the duplicate to the survivor (an unmerge moves
# exactly those rows back): see afiya/domain/patients/references.py.
CLINICAL_PATIENT_TABLES = (
    "clinical_encounter",
    "clinical_encounter_event",
    "clinical_observation",
    "clinical_diagnosis",
    "clinical_problem",
    "clinical_allergy",
    "clinical_allergy_statement",
    "clinical_note",
    "clinical_lab_result",
    "clinical_imaging_report",
    "clinical_imaging_file",
    "clinical_document",
    "staff_notification",
)
for _table in CLINICAL_PATIENT_TABLES:
    register_reference(_table, "patient_id", module="clinical")
