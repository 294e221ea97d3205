"""FHIR create of Encounter, Observation, Condition and AllergyIntolerance, through the
clinical record's own use cases.

``open_encounter``, ``record_vitals``, ``record_lab_result`` (critical-result
notification included), ``add_encounter_diagnosis``, ``add_patient_problem``,
``record_patient_allergy`` and ``state_no_known_allergies`` check the permission against
the patient's facility, validate, write the change log and audit with the patient id:
FHIR adds no second copy of the data and no rule of its own beyond the mapping
(:mod:`afiya.adapters.fhir.clinical_in`). Their field errors are located by FHIR path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

from afiya.adapters.fhir import clinical as maps
from afiya.adapters.fhir import clinical_in as inbound
from afiya.adapters.fhir import clinical_in_conditions as conditions_in
from afiya.adapters.fhir.engine.clinical_search import record_ids, timeline_items
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.registry import Resource, WriteResult
from afiya.adapters.icd10 import SimpleIcd10Catalogue
from afiya.domain.clinical import use_cases
from afiya.domain.clinical.diagnoses import DiagnosisRank
from afiya.domain.clinical.encounters import EncounterStatus, Location
from afiya.domain.clinical.errors import EncounterNotFound
from afiya.domain.clinical.icd10 import code_in, normalize_code
from afiya.domain.clinical.measurements import Reading
from afiya.domain.clinical.problems import KIND_CODES, REFERENCE_CYCLE_DAYS, ProblemKind
from afiya.domain.clinical.results import ReferenceRange
from afiya.domain.clinical.timeline import ItemType
from afiya.domain.orgunits.model import UnitKind
from afiya.domain.patients.errors import PatientNotFound
from afiya.domain.shared.errors import ValidationFailed
from afiya.domain.shared.i18n import N_

T = TypeVar("T")


@cache
def _icd10() -> SimpleIcd10Catalogue:
    return SimpleIcd10Catalogue()


def _located(exc: ValidationFailed, paths: Mapping[str, str], fallback: str) -> ValidationFailed:
    """The same errors, located by FHIR path (a field's longest known prefix)."""

    def path(name: str) -> str:
        probe = name
        while probe:
            if probe in paths:
                return paths[probe]
            probe = probe.rpartition(".")[0]
        return fallback

    return ValidationFailed(
        [dataclasses.replace(e, field=path(e.field)) for e in exc.errors],
        exc.message,
        code=exc.code,
    )


async def _run(
    call: Callable[[], Awaitable[T]], paths: Mapping[str, str], kind: str, subject: str
) -> T:
    """Run a use case: an unknown patient is a 422 on the subject, field errors by path."""
    try:
        return await call()
    except PatientNotFound:
        raise inbound.refuse(
            f"{kind}.{subject}", N_("{path} must reference an existing patient."), path=subject
        ) from None
    except EncounterNotFound:
        raise inbound.refuse(
            f"{kind}.encounter",
            N_("{path} must reference an existing encounter."),
            path="encounter",
        ) from None
    except ValidationFailed as exc:
        raise _located(exc, paths, kind) from exc


# -- Encounter --------------------------------------------------------------------------


async def _location(ctx: FhirContext, location_id: UUID | None) -> Location | None:
    """A department, or a ward (with its department), of the facility."""
    if location_id is None:
        return None
    unit = await ctx.uow.orgunits.get(location_id)
    if unit is not None and unit.kind is UnitKind.WARD and unit.parent_id is not None:
        return Location(unit.parent_id, unit.id)
    if unit is not None and unit.kind is UnitKind.DEPARTMENT:
        return Location(unit.id)
    raise inbound.refuse(
        "Encounter.location[0].location",
        N_("The location must be a department or a ward of the facility (Location/<id>)."),
    )


async def create_encounter(ctx: FhirContext, resource: Resource) -> WriteResult:
    """Open the encounter (``open_encounter``). The facility is ``serviceProvider``, else
    the patient's registering facility; the attending is the first participant that is an
    Afiya practitioner, else the caller; a missing ``period.start`` means now."""
    m = inbound.encounter_in(resource)
    not_stored = list(m.not_stored)
    attending = m.attending_id
    if attending is not None and await ctx.uow.users.get(attending) is None:
        not_stored.append("Encounter.participant[0]")
        attending = None
    command = use_cases.NewEncounter(
        patient_id=m.patient_id,
        kind=m.kind,
        started_at=m.started_at or ctx.clock.now(),
        reason=m.reason,
        attending_id=attending,
        unit_id=m.unit_id,
        triage=m.triage,
        location=await _location(ctx, m.location_id),
    )
    encounter, created = await _run(
        lambda: use_cases.open_encounter(
            command,
            principal=ctx.principal,
            clinical=ctx.uow.clinical,
            units=ctx.uow.orgunits,
            audit=ctx.uow.audit,
            clock=ctx.clock,
        ),
        inbound.ENCOUNTER_PATHS,
        "Encounter",
        "subject",
    )
    return WriteResult(maps.encounter(encounter, []), created, tuple(not_stored))


# -- Observation ------------------------------------------------------------------------


async def create_observation(ctx: FhirContext, resource: Resource) -> WriteResult:
    """A vital sign (``record_vitals``, clinical:write) or a lab result
    (``record_lab_result``, lab_results:write: flag from the reference range, critical
    values notified to the encounter's attending, else to the caller)."""
    m = inbound.observation_in(resource)
    paths = inbound.observation_paths(m)
    effective = m.effective or m.issued
    if effective is None:
        raise inbound.refuse(m.effective_path, N_("Give the time of the observation."))
    if m.vital:
        assert m.value is not None
        stored = await _run(
            lambda: use_cases.record_vitals(
                m.patient_id,
                [Reading(m.code, m.value, m.unit)],  # type: ignore[arg-type]
                effective_at=effective,
                encounter_id=m.encounter_id,
                principal=ctx.principal,
                clinical=ctx.uow.clinical,
                audit=ctx.uow.audit,
                clock=ctx.clock,
            ),
            paths,
            "Observation",
            "subject",
        )
        return WriteResult(maps.vital_sign(stored[0]), True, tuple(m.not_stored))
    responsible = None
    if m.encounter_id is None:
        responsible = ctx.principal.user_id
    reference = None
    if m.low is not None or m.high is not None:
        reference = ReferenceRange(m.range_unit or "", m.low, m.high)
    new = use_cases.NewLabResult(
        patient_id=m.patient_id,
        code=m.code,
        name=m.name,
        observed_at=effective,
        reported_at=m.issued or ctx.clock.now(),
        responsible_id=responsible,
        encounter_id=m.encounter_id,
        status=m.status,
        value=m.value,
        unit=m.unit,
        text=m.text,
        reference=reference,
    )
    result, _event = await _run(
        lambda: use_cases.record_lab_result(
            new,
            principal=ctx.principal,
            clinical=ctx.uow.clinical,
            users=ctx.uow.users,
            jobs=ctx.uow.jobs,
            audit=ctx.uow.audit,
            clock=ctx.clock,
        ),
        paths,
        "Observation",
        "subject",
    )
    return WriteResult(maps.lab_observation(result), True, tuple(m.not_stored))


# -- Condition --------------------------------------------------------------------------


async def _open_encounter_of(ctx: FhirContext, patient_id: UUID) -> UUID:
    """The patient's only encounter in progress, for a diagnosis sent without one."""
    try:
        items = await timeline_items(ctx, patient_id, {ItemType.ENCOUNTER}, missing_ok=False)
    except PatientNotFound:
        raise inbound.refuse(
            "Condition.subject", N_("{path} must reference an existing patient."), path="subject"
        ) from None
    open_ids = []
    for ident in record_ids(items, ItemType.ENCOUNTER):
        found = await ctx.uow.clinical.encounter(ident)
        if found is not None and found.status is EncounterStatus.IN_PROGRESS:
            open_ids.append(found.id)
    if len(open_ids) != 1:
        raise inbound.refuse(
            "Condition.encounter",
            N_(
                "Name the encounter of this diagnosis: the patient has {count} encounters "
                "in progress."
            ),
            count=len(open_ids),
        )
    return open_ids[0]


def _problem_kind(code: str) -> ProblemKind:
    """The problem-list kind whose ICD-10 ranges hold the code (pregnancy excepted: it
    needs its last menstrual period), else ``other``."""
    for kind, ranges in KIND_CODES.items():
        if kind is not ProblemKind.PREGNANCY and code_in(code, *ranges):
            return kind
    return ProblemKind.OTHER


async def create_condition(ctx: FhirContext, resource: Resource) -> WriteResult:
    """An encounter diagnosis (``add_encounter_diagnosis``: primary when the encounter has
    none yet, else secondary) or a problem (``add_patient_problem``)."""
    m = conditions_in.condition_in(resource)
    catalogue = _icd10()
    if m.diagnosis:
        encounter_id = m.encounter_id or await _open_encounter_of(ctx, m.patient_id)
        found = await ctx.uow.clinical.encounter(encounter_id)
        if found is None or found.patient_id != m.patient_id:
            raise inbound.refuse(
                "Condition.encounter", N_("The encounter must be one of the patient's.")
            )
        held = await ctx.uow.clinical.encounter_diagnoses(encounter_id)
        primary = any(d.rank is DiagnosisRank.PRIMARY and d.counts for d in held)
        listed = await _run(
            lambda: use_cases.add_encounter_diagnosis(
                encounter_id,
                code=m.code,
                rank=DiagnosisRank.SECONDARY if primary else DiagnosisRank.PRIMARY,
                certainty=m.certainty,
                note=m.note,
                principal=ctx.principal,
                clinical=ctx.uow.clinical,
                catalogue=catalogue,
                audit=ctx.uow.audit,
                clock=ctx.clock,
            ),
            conditions_in.CONDITION_PATHS,
            "Condition",
            "subject",
        )
        return WriteResult(maps.diagnosis(listed[-1]), True, tuple(m.not_stored))
    problem = await _run(
        lambda: use_cases.add_patient_problem(
            m.patient_id,
            kind=_problem_kind(normalize_code(m.code) or m.code),
            code=m.code,
            onset=m.onset,
            last_menstrual_period=None,
            cycle_days=REFERENCE_CYCLE_DAYS,
            principal=ctx.principal,
            clinical=ctx.uow.clinical,
            catalogue=catalogue,
            audit=ctx.uow.audit,
            clock=ctx.clock,
        ),
        conditions_in.CONDITION_PATHS,
        "Condition",
        "subject",
    )
    return WriteResult(maps.problem(problem), True, tuple(m.not_stored))


# -- AllergyIntolerance -----------------------------------------------------------------


async def create_allergy(ctx: FhirContext, resource: Resource) -> WriteResult:
    """An allergy (``record_patient_allergy``: supersedes a "no known allergies"
    statement in force) or that statement (``state_no_known_allergies``: refused while
    an allergy is in force)."""
    m = conditions_in.allergy_in(resource)
    common: dict[str, Any] = {
        "principal": ctx.principal,
        "clinical": ctx.uow.clinical,
        "audit": ctx.uow.audit,
        "clock": ctx.clock,
    }
    if m.no_known_allergies:
        record = await _run(
            lambda: use_cases.state_no_known_allergies(m.patient_id, supersedes=(), **common),
            conditions_in.ALLERGY_PATHS,
            "AllergyIntolerance",
            "patient",
        )
        statement = record.statements[-1]
        return WriteResult(maps.no_known_allergies(statement), True, tuple(m.not_stored))
    assert m.substance is not None
    new = use_cases.NewAllergy(
        type=m.type,
        category=m.category,
        substance=m.substance,
        criticality=m.criticality,
        verification=m.verification,
        reactions=m.reactions,
        recorded_at=m.recorded_at,
    )
    record = await _run(
        lambda: use_cases.record_patient_allergy(m.patient_id, new, **common),
        conditions_in.ALLERGY_PATHS,
        "AllergyIntolerance",
        "patient",
    )
    return WriteResult(maps.allergy(record.allergies[-1]), True, tuple(m.not_stored))
