"""Rows of the clinical record read back as the domain's frozen values, shared by the
one-by-one reads of :mod:`.clinical` and the many-at-once reads of
:mod:`.clinical_many`."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from afiya.adapters.db.models.clinical import (
    DiagnosisRow,
    EncounterEventRow,
    EncounterRow,
    ImagingFileRow,
    ImagingReportRow,
    LabResultRow,
    ObservationRow,
)
from afiya.domain.clinical.diagnoses import Certainty, Diagnosis, DiagnosisRank
from afiya.domain.clinical.encounters import (
    Death,
    Discharge,
    DischargeMode,
    Encounter,
    EncounterKind,
    EncounterStatus,
    Location,
    Movement,
    TriageLevel,
)
from afiya.domain.clinical.measurements import Observation, Quantity
from afiya.domain.clinical.ports import StoredImage
from afiya.domain.clinical.results import (
    Flag,
    ImagingReport,
    LabResult,
    Modality,
    ReferenceRange,
    ResultStatus,
)


def dec(value: Any) -> Decimal:
    """A stored number without the column's padding (``38.5000`` → ``38.5``, ``100``)."""
    number = (value if isinstance(value, Decimal) else Decimal(str(value))).normalize()
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def dec_or_none(value: Any) -> Decimal | None:
    return None if value is None else dec(value)


def encounter_of(row: EncounterRow, events: Iterable[EncounterEventRow]) -> Encounter:
    """The encounter from its row and its steps (in ``seq`` order)."""
    movements = tuple(
        Movement(ev.occurred_at, Location(ev.department_id, ev.ward_id, ev.bed))
        for ev in events
        if ev.kind in ("start", "transfer") and ev.department_id is not None
    )
    discharge = None
    if row.discharge_at is not None and row.discharge_mode is not None:
        death = (
            Death(row.death_at, row.death_cause_code)
            if row.death_at is not None and row.death_cause_code
            else None
        )
        discharge = Discharge(
            row.discharge_at,
            DischargeMode(row.discharge_mode),
            row.destination,
            death,
            row.discharge_note,
        )
    return Encounter(
        id=row.id,
        patient_id=row.patient_id,
        unit_id=row.unit_id,
        kind=EncounterKind(row.kind),
        started_at=row.started_at,
        reason=row.reason,
        attending_id=row.attending_id,
        status=EncounterStatus(row.status),
        triage=TriageLevel(row.triage) if row.triage is not None else None,
        movements=movements,
        discharge=discharge,
        cancel_reason=row.cancel_reason,
    )


def observation_of(row: ObservationRow) -> Observation:
    entered = (
        Quantity(dec(row.entered_value), row.entered_unit)
        if row.entered_value is not None and row.entered_unit
        else None
    )
    return Observation(
        id=row.id,
        patient_id=row.patient_id,
        encounter_id=row.encounter_id,
        code=row.code,
        value=dec(row.value),
        unit=row.unit,
        effective_at=row.occurred_at,
        recorded_by=row.recorded_by,
        entered=entered,
        derived_from=tuple(UUID(i) for i in row.derived_from or ()),
    )


def diagnosis_of(row: DiagnosisRow) -> Diagnosis:
    return Diagnosis(
        row.id,
        row.patient_id,
        row.encounter_id,
        row.code,
        DiagnosisRank(row.rank),
        Certainty(row.certainty),
        row.occurred_at,
        row.recorded_by,
        row.note,
    )


def lab_result_of(r: LabResultRow) -> LabResult:
    reference = (
        ReferenceRange(
            r.ref_unit,
            dec_or_none(r.ref_low),
            dec_or_none(r.ref_high),
            dec_or_none(r.critical_low),
            dec_or_none(r.critical_high),
        )
        if r.ref_unit
        else None
    )
    return LabResult(
        id=r.id,
        patient_id=r.patient_id,
        encounter_id=r.encounter_id,
        code=r.code,
        name=r.name,
        status=ResultStatus(r.status),
        observed_at=r.observed_at,
        reported_at=r.occurred_at,
        responsible_id=r.responsible_id,
        value=dec_or_none(r.value),
        unit=r.unit,
        text=r.text,
        reference=reference,
        flag=Flag(r.flag) if r.flag else None,
        version=r.result_version,
        previous_id=r.previous_id,
    )


def imaging_report_of(r: ImagingReportRow, image_keys: tuple[str, ...]) -> ImagingReport:
    return ImagingReport(
        id=r.id,
        patient_id=r.patient_id,
        encounter_id=r.encounter_id,
        modality=Modality(r.modality),
        body_site=r.body_site,
        findings=r.findings,
        conclusion=r.conclusion,
        reported_by=r.reported_by,
        reported_at=r.occurred_at,
        responsible_id=r.responsible_id,
        urgent_finding=r.urgent_finding,
        image_keys=image_keys,
    )


def stored_image_of(r: ImagingFileRow) -> StoredImage:
    return StoredImage(
        id=r.id,
        report_id=r.report_id,
        patient_id=r.patient_id,
        role=r.role,
        blob_key=r.blob_key,
        content_type=r.content_type,
        size=r.size,
        sha256=r.sha256,
        original_id=r.original_id,
        filename=r.filename,
        width=r.width,
        height=r.height,
        study_uid=r.study_uid,
        dicom_tags=r.dicom_tags,
    )
