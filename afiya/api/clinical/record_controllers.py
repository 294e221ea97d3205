"""Clinical record routes: observations (vital signs), problems, allergies, notes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from afiya.api.clinical import services
from afiya.api.clinical.schemas import (
    AllergyCreate,
    AllergyRead,
    AllergyRecordRead,
    NoKnownAllergiesIn,
    NoteAmend,
    NoteCreate,
    NoteRead,
    NoteVersionRead,
    ObservationRead,
    ProblemCreate,
    ProblemRead,
    VitalsIn,
)
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.i18n import request_translator
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.clinical import use_cases
from afiya.domain.clinical.measurements import Reading

Req = Request[Any, Any, Any]


def _reading_value(value: str | int | float) -> Decimal | int | str:
    return Decimal(str(value)) if isinstance(value, float) else value


class ObservationController(Controller):
    path = "/api/v1"
    tags = ["clinical"]
    opt = {"resource": "observation"}

    @post(
        "/patients/{patient_id:uuid}/observations",
        operation_id="observations_record",
        summary="Record a round of vital signs",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
    )
    async def record(
        self,
        request: Req,
        patient_id: FromPath[UUID],
        data: JSONBody[VitalsIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> Response[list[ObservationRead]]:
        """Readings taken together (``code``: LOINC or a key such as ``temperature``;
        ``unit`` UCUM, the code's canonical unit when omitted). Values convert exactly to
        the canonical unit; an implausible value (60 °C) answers 422 naming
        ``readings.<i>.value`` and the plausible range in the unit typed."""
        observations = await use_cases.record_vitals(
            patient_id,
            [Reading(r.code, _reading_value(r.value), r.unit) for r in data.readings],
            effective_at=data.effective_at,
            encounter_id=data.encounter_id,
            principal=principal,
            clinical=uow.clinical,
            audit=uow.audit,
            clock=services.clock(request),
        )
        translate = request_translator(request)
        return Response([ObservationRead.of(o, translate) for o in observations], status_code=201)

    @get(
        "/observations/{observation_id:uuid}",
        operation_id="observations_get",
        summary="Read an observation",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, request: Req, observation_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> ObservationRead:
        """One measurement, with the value as typed when it was converted. Audited."""
        observation = await use_cases.read_observation(
            observation_id, principal=principal, clinical=uow.clinical, audit=uow.audit
        )
        return ObservationRead.of(observation, request_translator(request))


class ProblemController(Controller):
    path = "/api/v1"
    tags = ["clinical"]
    opt = {"resource": "problem"}

    @post(
        "/patients/{patient_id:uuid}/problems",
        operation_id="problems_create",
        summary="Add to the problem list",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
    )
    async def create(
        self,
        request: Req,
        patient_id: FromPath[UUID],
        data: JSONBody[ProblemCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> ProblemRead:
        """A chronic condition (``kind``: diabetes, hypertension, hiv, sickle_cell...) with
        an ICD-10 code in the kind's range, or a pregnancy with its last menstrual period
        (the expected delivery date is computed)."""
        problem = await use_cases.add_patient_problem(
            patient_id,
            kind=data.kind,
            code=data.code,
            onset=data.onset,
            last_menstrual_period=data.last_menstrual_period,
            cycle_days=data.cycle_days,
            principal=principal,
            clinical=uow.clinical,
            catalogue=services.icd10(request),
            audit=uow.audit,
            clock=services.clock(request),
        )
        return ProblemRead.of(problem)

    @get(
        "/patients/{patient_id:uuid}/problems",
        operation_id="problems_list",
        summary="A patient's problem list",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def list_problems(
        self, patient_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> list[ProblemRead]:
        """Every problem, active or not, oldest first. Audited."""
        found = await use_cases.list_problems(
            patient_id, principal=principal, clinical=uow.clinical, audit=uow.audit
        )
        return [ProblemRead.of(p) for p in found]

    @get(
        "/problems/{problem_id:uuid}",
        operation_id="problems_get",
        summary="Read a problem",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, problem_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> ProblemRead:
        """One problem of the list. Audited."""
        return ProblemRead.of(
            await use_cases.read_problem(
                problem_id, principal=principal, clinical=uow.clinical, audit=uow.audit
            )
        )


class AllergyController(Controller):
    path = "/api/v1"
    tags = ["clinical"]
    opt = {"resource": "allergy"}

    @post(
        "/patients/{patient_id:uuid}/allergies",
        operation_id="allergies_create",
        summary="Record an allergy or intolerance",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
    )
    async def create(
        self,
        request: Req,
        patient_id: FromPath[UUID],
        data: JSONBody[AllergyCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> AllergyRecordRead:
        """The ``verification`` status (unconfirmed, confirmed, refuted) is mandatory. A
        "no known allergies" statement in force is superseded. Answers the record."""
        record = await use_cases.record_patient_allergy(
            patient_id,
            use_cases.NewAllergy(
                type=data.type,
                category=data.category,
                substance=data.substance_value(),
                criticality=data.criticality,
                verification=data.verification,
                reactions=data.reaction_values(),
                recorded_at=data.recorded_at,
            ),
            principal=principal,
            clinical=uow.clinical,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return AllergyRecordRead.of(record)

    @post(
        "/patients/{patient_id:uuid}/allergies/no-known-allergies",
        operation_id="allergies_state_none",
        summary='State "no known allergies"',
        opt={PERMISSION: Permission.CLINICAL_WRITE},
    )
    async def no_known(
        self,
        request: Req,
        patient_id: FromPath[UUID],
        data: JSONBody[NoKnownAllergiesIn],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> AllergyRecordRead:
        """An explicit statement, never inferred from an empty list. Over active allergies
        it must name each one in ``supersedes`` (409 ``allergy_statement_conflict`` with
        their ids otherwise); they are marked refuted."""
        record = await use_cases.state_no_known_allergies(
            patient_id,
            supersedes=data.supersedes,
            principal=principal,
            clinical=uow.clinical,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return AllergyRecordRead.of(record)

    @get(
        "/patients/{patient_id:uuid}/allergies",
        operation_id="allergies_record",
        summary="A patient's allergy record",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def record(
        self, patient_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> AllergyRecordRead:
        """``status`` is ``unknown`` until an allergy or a "no known allergies" statement is
        recorded; history included. Audited."""
        return AllergyRecordRead.of(
            await use_cases.read_allergies(
                patient_id, principal=principal, clinical=uow.clinical, audit=uow.audit
            )
        )

    @get(
        "/allergies/{allergy_id:uuid}",
        operation_id="allergies_get",
        summary="Read an allergy",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, allergy_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> AllergyRead:
        """One allergy or intolerance. Audited."""
        return AllergyRead.of(
            await use_cases.read_allergy(
                allergy_id, principal=principal, clinical=uow.clinical, audit=uow.audit
            )
        )


class NoteController(Controller):
    path = "/api/v1"
    tags = ["clinical"]
    opt = {"resource": "note"}

    @post(
        "/patients/{patient_id:uuid}/notes",
        operation_id="notes_create",
        summary="Write a clinical note",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
    )
    async def create(
        self,
        request: Req,
        patient_id: FromPath[UUID],
        data: JSONBody[NoteCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> NoteVersionRead:
        """Structured sections (anamnesis, examination, assessment, plan), at least one.
        Notes are append-only: change one with an amendment."""
        note = await use_cases.write_clinical_note(
            patient_id,
            encounter_id=data.encounter_id,
            kind=data.kind,
            sections=data.sections.domain(),
            written_at=data.written_at,
            principal=principal,
            clinical=uow.clinical,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return NoteVersionRead.of(note)

    @post(
        "/notes/{note_id:uuid}/amendments",
        operation_id="notes_amend",
        summary="Amend a clinical note (new version)",
        opt={PERMISSION: Permission.CLINICAL_WRITE},
    )
    async def amend(
        self,
        request: Req,
        note_id: FromPath[UUID],
        data: JSONBody[NoteAmend],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> NoteVersionRead:
        """Writes version n+1 with the full new content and the reason; version n stays
        readable. ``based_on_version`` is the version read: 409 ``stale_note_version`` if
        someone amended it since; 403 ``note_amendment_refused`` for a non-author without
        the right to amend others' notes."""
        note = await use_cases.amend_clinical_note(
            note_id,
            based_on_version=data.based_on_version,
            sections=data.sections.domain(),
            reason=data.reason,
            principal=principal,
            clinical=uow.clinical,
            audit=uow.audit,
            clock=services.clock(request),
        )
        return NoteVersionRead.of(note)

    @get(
        "/notes/{note_id:uuid}",
        operation_id="notes_get",
        summary="Read a note version and its history",
        opt={PERMISSION: Permission.CLINICAL_READ},
    )
    async def read(
        self, note_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> NoteRead:
        """The version asked for (any version stays readable by its id), the number of
        the latest version, and every version first to latest. Audited."""
        note, versions = await use_cases.read_note(
            note_id, principal=principal, clinical=uow.clinical, audit=uow.audit
        )
        return NoteRead(
            note=NoteVersionRead.of(note),
            latest_version=versions[-1].version,
            history=[NoteVersionRead.of(v) for v in versions],
        )
