"""Clinical record routes: encounters (admission, transfer, discharge), diagnoses,
documents and the patient timeline. Observations, problems, allergies and notes are in
``record_controllers``; lab and imaging results and notifications in
``result_controllers``.

Every route reads or writes one patient's record: the use case authorises against the
patient's facility path and audits with the patient id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from afiya.adapters.db.uow import UnitOfWork
from afiya.api.clinical import services
from afiya.api.clinical.record_controllers import (
    AllergyController,
    NoteController,
    ObservationController,
    ProblemController,
)
from afiya.api.clinical.result_controllers import (
    ImagingController,
    LabResultController,
    NotificationController,
)
from afiya.api.clinical.schemas import (
    CancelIn,
    DiagnosisCreate,
    DiagnosisRead,
    DischargeIn,
    DocumentCreate,
    DocumentRead,
    EncounterCreate,
    EncounterRead,
    TimelineItemRead,
    TransferIn,
)
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.i18n import request_translator
from afiya.api.pagination import Page
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.clinical import use_cases
from afiya.domain.clinical.timeline import DEFAULT_PAGE, make_query

Req = Request[Any, Any, Any]


class EncounterController(Controller):
    path = "/api/v1/encounters"
    tags = ["clinical"]
    opt = {"resource": "encounter"}

    @post(
        "/",
        operation_id="encounters_create",
        summary="Open an encounter",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
    )
    async def create(
        self, request: Req, data: JSONBody[EncounterCreate], principal: CurrentPrincipal, uow: Uow
    ) -> Response[EncounterRead]:
        """Open a consultation (``outpatient``), an emergency visit (``emergency``, with a
        ``triage`` level 1 to 5) or an admission (``inpatient``, with the ``location``:
        department, and ward and bed when known). Resending the same ``id`` answers 200
        with the stored encounter."""
        encounter, created = await use_cases.open_encounter(
            use_cases.NewEncounter(
                patient_id=data.patient_id,
                kind=data.kind,
                started_at=data.started_at,
                reason=data.reason,
                attending_id=data.attending_id,
                unit_id=data.unit_id,
                triage=data.triage,
                location=data.location.domain() if data.location else None,
                id=data.id,
            ),
            principal=principal,
            clinical=uow.clinical,
            units=uow.orgunits,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return Response(EncounterRead.of(encounter), status_code=201 if created else 200)

    @get(
        "/{encounter_id:uuid}",
        operation_id="encounters_get",
        summary="Read an encounter",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, encounter_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> EncounterRead:
        """The encounter with its movements (admission and transfers), discharge and
        diagnoses. Audited."""
        encounter, diagnoses = await use_cases.read_encounter(
            encounter_id, principal=principal, clinical=uow.clinical, audit=uow.audit
        )
        return EncounterRead.of(encounter, diagnoses)

    @post(
        "/{encounter_id:uuid}/transfers",
        operation_id="encounters_transfer",
        summary="Transfer an admitted patient",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
        status_code=200,
    )
    async def transfer(
        self,
        request: Req,
        encounter_id: FromPath[UUID],
        data: JSONBody[TransferIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> EncounterRead:
        """Move the patient to another department, ward or bed of the facility; the time
        may not precede the last movement."""
        encounter = await use_cases.transfer_patient(
            encounter_id,
            at=data.at,
            to=data.to.domain(),
            principal=principal,
            clinical=uow.clinical,
            units=uow.orgunits,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return EncounterRead.of(encounter, await uow.clinical.encounter_diagnoses(encounter.id))

    @post(
        "/{encounter_id:uuid}/discharge",
        operation_id="encounters_discharge",
        summary="Discharge: close the encounter",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
        status_code=200,
    )
    async def discharge(
        self,
        request: Req,
        encounter_id: FromPath[UUID],
        data: JSONBody[DischargeIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> EncounterRead:
        """Close the encounter with its ``mode``: ``home``, ``transfer`` (``destination``
        required), ``death`` (``death.at`` and the ICD-10 ``death.cause_code`` required),
        ``left_against_advice``, or ``admitted``. The encounter must have exactly one
        primary diagnosis (409 ``primary_diagnosis_required`` otherwise)."""
        encounter = await use_cases.discharge_patient(
            encounter_id,
            at=data.at,
            mode=data.mode,
            destination=data.destination,
            death_at=data.death.at if data.death else None,
            death_cause=data.death.cause_code if data.death else None,
            note=data.note,
            principal=principal,
            clinical=uow.clinical,
            catalogue=services.icd10(request),
            audit=uow.audit,
            clock=services.clock(request),
        )
        return EncounterRead.of(encounter, await uow.clinical.encounter_diagnoses(encounter.id))

    @post(
        "/{encounter_id:uuid}/cancel",
        operation_id="encounters_cancel",
        summary="Cancel an encounter opened by mistake",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
        status_code=200,
    )
    async def cancel(
        self,
        request: Req,
        encounter_id: FromPath[UUID],
        data: JSONBody[CancelIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> EncounterRead:
        """The encounter stays in the record, marked cancelled with the reason."""
        encounter = await use_cases.cancel_encounter(
            encounter_id,
            reason=data.reason,
            principal=principal,
            clinical=uow.clinical,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return EncounterRead.of(encounter)

    @post(
        "/{encounter_id:uuid}/diagnoses",
        operation_id="encounters_add_diagnosis",
        summary="Add an ICD-10 diagnosis",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
    )
    async def add_diagnosis(
        self,
        request: Req,
        encounter_id: FromPath[UUID],
        data: JSONBody[DiagnosisCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> list[DiagnosisRead]:
        """Add a WHO ICD-10 (2019) code; an unknown or malformed code answers 422 on
        ``code``. A new primary diagnosis makes the former primary secondary. Answers the
        encounter's diagnoses."""
        listed = await use_cases.add_encounter_diagnosis(
            encounter_id,
            code=data.code,
            rank=data.rank,
            certainty=data.certainty,
            note=data.note,
            principal=principal,
            clinical=uow.clinical,
            catalogue=services.icd10(request),
            audit=uow.audit,
            clock=services.clock(request),
        )
        return [DiagnosisRead.of(d) for d in listed]

    @post(
        "/{encounter_id:uuid}/documents",
        operation_id="encounters_issue_document",
        summary="Generate a discharge letter or hospitalisation report",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
    )
    async def issue_document(
        self,
        request: Req,
        encounter_id: FromPath[UUID],
        data: JSONBody[DocumentCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> DocumentRead:
        """Render the document of a closed encounter as PDF in ``fr``, ``ar`` or ``en``,
        with the facility header and the MRN; it is stored in the blob store and listed on
        the timeline. 409 ``document_not_ready`` for an open encounter, 409
        ``primary_diagnosis_required`` without exactly one primary diagnosis."""
        document = await use_cases.issue_document(
            use_cases.DocumentRequest(
                encounter_id=encounter_id,
                kind=data.kind,
                language=data.language,
                addressee=data.addressee,
                course=data.course,
                treatments=tuple(data.treatments),
                key_results=tuple(data.key_results),
                follow_up=data.follow_up_value(),
            ),
            principal=principal,
            clinical=uow.clinical,
            units=uow.orgunits,
            user_names=_user_names(uow),
            catalogue=services.icd10(request),
            renderer=services.renderer(request),
            translator=services.translator_for,
            blobs=request.app.state.container.blobs,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return DocumentRead.of(document)


def _user_names(uow: UnitOfWork) -> Any:
    async def names(ids: Sequence[UUID]) -> dict[UUID, str]:
        found: dict[UUID, str] = {}
        for user_id in set(ids):
            user = await uow.users.get(user_id)
            if user is not None:
                found[user_id] = user.full_name or user.username
        return found

    return names


class DiagnosisController(Controller):
    path = "/api/v1/diagnoses"
    tags = ["clinical"]
    opt = {"resource": "diagnosis"}

    @get(
        "/{diagnosis_id:uuid}",
        operation_id="diagnoses_get",
        summary="Read a diagnosis",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, diagnosis_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> DiagnosisRead:
        """One diagnosis of an encounter. Audited."""
        return DiagnosisRead.of(
            await use_cases.read_diagnosis(
                diagnosis_id, principal=principal, clinical=uow.clinical, audit=uow.audit
            )
        )


class DocumentController(Controller):
    path = "/api/v1/documents"
    tags = ["clinical"]
    opt = {"resource": "document"}

    @get(
        "/{document_id:uuid}",
        operation_id="documents_get",
        summary="Read a clinical document's description",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, request: Req, document_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> DocumentRead:
        """Kind, language, size and checksum of a generated document. Audited."""
        document, _ = await use_cases.read_document(
            document_id,
            principal=principal,
            clinical=uow.clinical,
            blobs=request.app.state.container.blobs,
            audit=uow.audit,
        )
        return DocumentRead.of(document)

    @get(
        "/{document_id:uuid}/file",
        operation_id="documents_file",
        summary="Download a clinical document",
        opt={PERMISSION: Permission.CLINICAL_READ},
        media_type="application/pdf",
    )
    async def file(
        self, request: Req, document_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> Response[bytes]:
        """The PDF file, as stored when it was generated. Audited."""
        document, data = await use_cases.read_document(
            document_id,
            principal=principal,
            clinical=uow.clinical,
            blobs=request.app.state.container.blobs,
            audit=uow.audit,
        )
        return Response(
            data,
            media_type=document.content_type,
            headers={
                "Content-Disposition": f'inline; filename="{document.kind}-{document.language}.pdf"'
            },
        )


Types = Annotated[str | None, QueryParameter(max_length=200)]


class TimelineController(Controller):
    path = "/api/v1/patients"
    tags = ["clinical"]
    opt = {"resource": "timeline"}

    @get(
        "/{patient_id:uuid}/timeline",
        operation_id="patients_timeline",
        summary="A patient's clinical timeline",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def timeline(
        self,
        request: Req,
        patient_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        types: Types = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_PAGE,
        order: FromQuery[Literal["newest", "oldest"]] = "newest",
    ) -> Page[TimelineItemRead]:
        """Every clinical event of the patient (encounter steps, observations, diagnoses,
        problems, allergies, notes, results, imaging, documents), newest first (``order``
        ``oldest`` reverses), filtered by ``types`` (comma-separated) and the period
        ``[since, until)``. Each item is light: a one-line summary in the caller's
        language and a ``link`` to its detail. Keyset-paginated: pass ``next_cursor`` back
        as ``cursor``. Audited."""
        query = make_query(
            types=[t.strip() for t in types.split(",") if t.strip()] if types else None,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
            newest_first=order == "newest",
        )
        page = await use_cases.patient_timeline(
            patient_id, query, principal=principal, clinical=uow.clinical, audit=uow.audit
        )
        translate = request_translator(request)
        return Page(
            items=[TimelineItemRead.of(i, translate) for i in page.items],
            next_cursor=page.next_cursor,
            limit=limit,
        )


CONTROLLERS = [
    EncounterController,
    DiagnosisController,
    DocumentController,
    TimelineController,
    ObservationController,
    ProblemController,
    AllergyController,
    NoteController,
    LabResultController,
    ImagingController,
    NotificationController,
]
