"""Ports of the clinical record that adapters implement.

The code list and the document renderer (domain round); the repository of the record
and the small values it hands back (database round).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from afiya.domain.clinical.allergies import Allergy, AllergyRecord
from afiya.domain.clinical.diagnoses import Diagnosis
from afiya.domain.clinical.documents import ClinicalDocument
from afiya.domain.clinical.encounters import Encounter
from afiya.domain.clinical.icd10 import Icd10Catalogue
from afiya.domain.clinical.measurements import Observation
from afiya.domain.clinical.notes import ClinicalNote
from afiya.domain.clinical.problems import Problem
from afiya.domain.clinical.results import ImagingReport, LabResult
from afiya.domain.clinical.timeline import TimelinePage, TimelineQuery

__all__ = ["DocumentRenderer", "Icd10Catalogue"]


class DocumentRenderer(Protocol):
    """Turns a document's content into a file (PDF) in the document's language."""

    media_type: str

    def render(self, document: ClinicalDocument, translate: Callable[[str], str]) -> bytes:
        """Render ``document``; ``translate`` maps a msgid to the document's language."""
        ...


__all__ += [
    "ClinicalPatient",
    "ClinicalRepository",
    "EncounterStep",
    "ImageProcessor",
    "ImageUpload",
    "ProcessedImage",
    "Rendition",
    "StaffNotification",
    "StoredDocument",
    "StoredImage",
]


@dataclass(frozen=True, slots=True)
class ClinicalPatient:
    """What the clinical record needs of the registry: scope, identity for documents,
    and sex and birth for reference ranges."""

    id: UUID
    mrn: str
    unit_id: UUID
    unit_path: str  # the registering facility's path: the record's scope
    given_names: str
    family_name: str
    sex: str
    given_names_ar: str | None = None
    family_name_ar: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    status: str = "active"
    merged_into_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class EncounterStep:
    """One stored step of an encounter: ``start``, ``transfer``, ``discharge``, ``cancel``."""

    kind: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StoredDocument:
    id: UUID
    patient_id: UUID
    encounter_id: UUID
    kind: str
    language: str
    blob_key: str
    content_type: str
    size: int
    sha256: str
    issued_at: datetime
    issued_by: UUID


@dataclass(frozen=True, slots=True)
class StoredImage:
    id: UUID
    report_id: UUID
    patient_id: UUID
    role: str  # original, thumbnail, webp
    blob_key: str
    content_type: str
    size: int
    sha256: str
    original_id: UUID | None = None
    filename: str | None = None
    width: int | None = None
    height: int | None = None
    study_uid: str | None = None
    dicom_tags: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class StaffNotification:
    id: UUID
    user_id: UUID
    kind: str
    patient_id: UUID | None
    payload: dict[str, object]
    dedup_key: str
    created_at: datetime | None = None
    read_at: datetime | None = None


class ClinicalRepository(Protocol):
    """Every query of the clinical record (``uow.clinical``)."""

    async def patient(self, patient_id: UUID) -> ClinicalPatient | None: ...

    async def add_encounter(self, encounter: Encounter) -> None:
        """Store a new encounter and its start step."""
        ...

    async def save_encounter(self, encounter: Encounter, step: EncounterStep) -> None:
        """Store the encounter's new state and the step that led to it."""
        ...

    async def encounter(self, encounter_id: UUID) -> Encounter | None: ...

    async def add_observations(self, observations: Sequence[Observation]) -> None: ...

    async def observation(self, observation_id: UUID) -> Observation | None: ...

    async def encounter_diagnoses(self, encounter_id: UUID) -> list[Diagnosis]: ...

    async def save_diagnoses(self, diagnoses: Sequence[Diagnosis]) -> None:
        """Insert new diagnoses and store the changed rank or certainty of others."""
        ...

    async def diagnosis(self, diagnosis_id: UUID) -> Diagnosis | None: ...

    async def patient_problems(self, patient_id: UUID) -> tuple[Problem, ...]: ...

    async def save_problem(self, problem: Problem) -> None: ...

    async def problem(self, problem_id: UUID) -> Problem | None: ...

    async def allergy(self, allergy_id: UUID) -> Allergy | None: ...

    async def allergy_record(self, patient_id: UUID) -> AllergyRecord: ...

    async def save_allergy_record(self, record: AllergyRecord) -> None:
        """Insert new allergies and statements; store changed ones."""
        ...

    async def add_note(self, note: ClinicalNote) -> None: ...

    async def note(self, note_id: UUID) -> ClinicalNote | None: ...

    async def note_versions(self, series_id: UUID) -> list[ClinicalNote]: ...

    async def add_lab_result(self, result: LabResult, series_id: UUID) -> None: ...

    async def lab_result(self, result_id: UUID) -> tuple[LabResult, UUID] | None:
        """The result and its series id."""
        ...

    async def add_imaging_report(self, report: ImagingReport) -> None: ...

    async def imaging_report(self, report_id: UUID) -> ImagingReport | None: ...

    async def add_image(self, image: StoredImage) -> None: ...

    async def images(self, report_id: UUID) -> list[StoredImage]: ...

    async def add_document(self, document: StoredDocument) -> None: ...

    async def document(self, document_id: UUID) -> StoredDocument | None: ...

    async def timeline(self, patient_id: UUID, query: TimelineQuery) -> TimelinePage: ...

    # Many at once (one query per kind), in the order of the ids asked; an unknown or
    # deleted id is skipped. No access check: callers list the ids through a use case.
    async def observations(self, observation_ids: Sequence[UUID]) -> list[Observation]: ...

    async def lab_results(self, result_ids: Sequence[UUID]) -> list[LabResult]: ...

    async def diagnoses(self, diagnosis_ids: Sequence[UUID]) -> list[Diagnosis]: ...

    async def encounters(self, encounter_ids: Sequence[UUID]) -> list[Encounter]: ...

    async def diagnoses_of_encounters(
        self, encounter_ids: Sequence[UUID]
    ) -> dict[UUID, list[Diagnosis]]: ...

    async def imaging_reports(self, report_ids: Sequence[UUID]) -> list[ImagingReport]: ...

    async def add_notification(self, notification: StaffNotification) -> bool:
        """Store it unless one with the same ``dedup_key`` exists; True when stored."""
        ...

    async def notifications(
        self, user_id: UUID, *, unread_only: bool
    ) -> list[StaffNotification]: ...


@dataclass(frozen=True, slots=True)
class ImageUpload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Rendition:
    """A derived image (thumbnail, WebP) made by an :class:`ImageProcessor`."""

    role: str
    content_type: str
    data: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    kind: str  # "image" (a picture we could read), "dicom", "other"
    width: int | None = None
    height: int | None = None
    renditions: tuple[Rendition, ...] = ()
    dicom_tags: Mapping[str, str] | None = None


class ImageProcessor(Protocol):
    """Turns an uploaded image file into renditions (thumbnail, WebP) and indexed tags."""

    def process(self, upload: ImageUpload) -> ProcessedImage:
        """Read ``upload``; a file it cannot read yields kind ``other`` and no rendition."""
        ...
