"""SQL repository of the clinical record (``uow.clinical``).

Rows map to the domain's frozen values; clinical facts are inserted, never rewritten,
except the few mutable states the rules allow (an encounter's status, a diagnosis's
rank or certainty, an allergy's verification, a statement's supersession), each an
UPDATE through the ORM so the change log records it. Note sections are encrypted with
the context ``clinical_note:<id>:<field>``. The timeline lives in
:mod:`afiya.adapters.db.repositories.clinical_timeline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.clinical import (
    AllergyRow,
    AllergyStatementRow,
    DiagnosisRow,
    EncounterEventRow,
    EncounterRow,
    NoteRow,
    ObservationRow,
    ProblemRow,
)
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.db.models.patients import PatientRow
from afiya.adapters.db.repositories.clinical_many import ClinicalManyReads
from afiya.adapters.db.repositories.clinical_results import ClinicalResults
from afiya.adapters.db.repositories.clinical_rows import (
    diagnosis_of,
    encounter_of,
    observation_of,
)
from afiya.adapters.db.repositories.clinical_timeline import read_timeline
from afiya.domain.clinical.allergies import (
    Allergy,
    AllergyCategory,
    AllergyRecord,
    AllergyType,
    Criticality,
    NoKnownAllergies,
    Reaction,
    Severity,
    Substance,
    SubstanceSystem,
    Verification,
)
from afiya.domain.clinical.diagnoses import Diagnosis
from afiya.domain.clinical.encounters import (
    Encounter,
)
from afiya.domain.clinical.measurements import Observation
from afiya.domain.clinical.notes import ClinicalNote, NoteKind, NoteSections
from afiya.domain.clinical.ports import (
    ClinicalPatient,
    EncounterStep,
)
from afiya.domain.clinical.problems import Pregnancy, Problem, ProblemKind, ProblemStatus
from afiya.domain.clinical.timeline import TimelinePage, TimelineQuery
from afiya.domain.platform.crypto import FieldCipher

_NOTE_FIELDS = ("anamnesis", "examination", "assessment", "plan")


class SqlClinicalRepository(ClinicalResults, ClinicalManyReads):
    """:class:`~afiya.domain.clinical.ports.ClinicalRepository` on SQLAlchemy."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher
        # Patient rows read by this unit of work, held so the session's identity map (weak
        # references) keeps them: the next read of the same patient (each entry of a
        # transaction Bundle) is answered from the map, without SQL. The map stays the
        # only source: an ORM write to the row changes this very object, a rolled-back
        # savepoint expires or expunges it, and ``get`` then reads the database again.
        self._held_patients: dict[UUID, PatientRow] = {}

    # -- patients -----------------------------------------------------------------------
    async def patient(self, patient_id: UUID) -> ClinicalPatient | None:
        row = await self._session.get(PatientRow, patient_id)
        if row is None:
            self._held_patients.pop(patient_id, None)
            return None
        self._held_patients[patient_id] = row
        if row.deleted_at is not None:
            return None
        return ClinicalPatient(
            id=row.id,
            mrn=row.mrn,
            unit_id=row.unit_id,
            unit_path=row.unit_path,
            given_names=row.given_names,
            family_name=row.family_name,
            sex=row.sex,
            given_names_ar=row.given_names_ar,
            family_name_ar=row.family_name_ar,
            birth_date=row.birth_date,
            birth_year=row.birth_year,
            status=row.status,
            merged_into_id=row.merged_into_id,
        )

    # -- encounters ---------------------------------------------------------------------
    async def add_encounter(self, encounter: Encounter) -> None:
        facility = await self._session.get(OrgUnitRow, encounter.unit_id)
        if facility is None:
            raise LookupError(encounter.unit_id)
        row = EncounterRow(id=encounter.id, unit_path=facility.path)
        self._fill_encounter(row, encounter)
        self._session.add(row)
        await self._session.flush()
        self._session.add(self._event(encounter, 0, EncounterStep("start", encounter.started_at)))
        await self._session.flush()

    async def save_encounter(self, encounter: Encounter, step: EncounterStep) -> None:
        row = await self._session.get(EncounterRow, encounter.id)
        if row is None:
            raise LookupError(encounter.id)
        self._fill_encounter(row, encounter)
        seq = len(
            (
                await self._session.execute(
                    select(EncounterEventRow.id).where(
                        EncounterEventRow.encounter_id == encounter.id
                    )
                )
            ).all()
        )
        self._session.add(self._event(encounter, seq, step))
        await self._session.flush()

    @staticmethod
    def _fill_encounter(row: EncounterRow, e: Encounter) -> None:
        row.patient_id, row.unit_id, row.kind = e.patient_id, e.unit_id, e.kind.value
        row.status, row.started_at, row.reason = e.status.value, e.started_at, e.reason
        row.attending_id = e.attending_id
        row.triage = int(e.triage) if e.triage is not None else None
        d = e.discharge
        row.discharge_at = d.at if d else None
        row.discharge_mode = d.mode.value if d else None
        row.destination = d.destination if d else None
        row.death_at = d.death.at if d and d.death else None
        row.death_cause_code = d.death.cause_code if d and d.death else None
        row.discharge_note = d.note if d else None
        row.cancel_reason = e.cancel_reason

    @staticmethod
    def _event(e: Encounter, seq: int, step: EncounterStep) -> EncounterEventRow:
        location = e.location if step.kind in ("start", "transfer") else None
        summary = {
            "start": e.kind.value,
            "discharge": e.discharge.mode.value if e.discharge else None,
            "cancel": "cancelled",
        }.get(step.kind)
        return EncounterEventRow(
            encounter_id=e.id,
            patient_id=e.patient_id,
            seq=seq,
            kind=step.kind,
            occurred_at=step.at,
            department_id=location.department_id if location else None,
            ward_id=location.ward_id if location else None,
            bed=location.bed if location else None,
            summary=summary,
        )

    async def encounter(self, encounter_id: UUID) -> Encounter | None:
        row = await self._session.get(EncounterRow, encounter_id)
        if row is None or row.deleted_at is not None:
            return None
        events = (
            (
                await self._session.execute(
                    select(EncounterEventRow)
                    .where(EncounterEventRow.encounter_id == encounter_id)
                    .order_by(EncounterEventRow.seq)
                )
            )
            .scalars()
            .all()
        )
        return encounter_of(row, events)

    # -- observations -------------------------------------------------------------------
    async def add_observations(self, observations: Sequence[Observation]) -> None:
        for o in observations:
            self._session.add(
                ObservationRow(
                    id=o.id,
                    patient_id=o.patient_id,
                    encounter_id=o.encounter_id,
                    code=o.code,
                    value=o.value,
                    unit=o.unit,
                    occurred_at=o.effective_at,
                    recorded_by=o.recorded_by,
                    entered_value=o.entered.value if o.entered else None,
                    entered_unit=o.entered.unit if o.entered else None,
                    derived_from=[str(i) for i in o.derived_from],
                )
            )
        await self._session.flush()

    async def observation(self, observation_id: UUID) -> Observation | None:
        row = await self._session.get(ObservationRow, observation_id)
        if row is None or row.deleted_at is not None:
            return None
        return observation_of(row)

    # -- diagnoses ----------------------------------------------------------------------
    _diagnosis = staticmethod(diagnosis_of)

    async def encounter_diagnoses(self, encounter_id: UUID) -> list[Diagnosis]:
        rows = (
            (
                await self._session.execute(
                    select(DiagnosisRow)
                    .where(
                        DiagnosisRow.encounter_id == encounter_id,
                        DiagnosisRow.deleted_at.is_(None),
                    )
                    .order_by(DiagnosisRow.occurred_at, DiagnosisRow.id)
                )
            )
            .scalars()
            .all()
        )
        return [self._diagnosis(r) for r in rows]

    async def save_diagnoses(self, diagnoses: Sequence[Diagnosis]) -> None:
        for d in diagnoses:
            row = await self._session.get(DiagnosisRow, d.id)
            if row is None:
                self._session.add(
                    DiagnosisRow(
                        id=d.id,
                        patient_id=d.patient_id,
                        encounter_id=d.encounter_id,
                        code=d.code,
                        rank=d.rank.value,
                        certainty=d.certainty.value,
                        occurred_at=d.recorded_at,
                        recorded_by=d.recorded_by,
                        note=d.note,
                    )
                )
            elif (row.rank, row.certainty) != (d.rank.value, d.certainty.value):
                row.rank, row.certainty = d.rank.value, d.certainty.value
        await self._session.flush()

    async def diagnosis(self, diagnosis_id: UUID) -> Diagnosis | None:
        row = await self._session.get(DiagnosisRow, diagnosis_id)
        return None if row is None or row.deleted_at is not None else self._diagnosis(row)

    # -- problems -----------------------------------------------------------------------
    async def patient_problems(self, patient_id: UUID) -> tuple[Problem, ...]:
        rows = (
            (
                await self._session.execute(
                    select(ProblemRow)
                    .where(ProblemRow.patient_id == patient_id, ProblemRow.deleted_at.is_(None))
                    .order_by(ProblemRow.occurred_at, ProblemRow.id)
                )
            )
            .scalars()
            .all()
        )
        return tuple(
            Problem(
                r.id,
                r.patient_id,
                ProblemKind(r.kind),
                r.code,
                ProblemStatus(r.status),
                r.occurred_at,
                r.recorded_by,
                onset=r.onset,
                pregnancy=Pregnancy(
                    r.last_menstrual_period, r.expected_delivery, r.cycle_days or 28
                )
                if r.last_menstrual_period and r.expected_delivery
                else None,
                resolved_on=r.resolved_on,
            )
            for r in rows
        )

    async def problem(self, problem_id: UUID) -> Problem | None:
        row = await self._session.get(ProblemRow, problem_id)
        if row is None or row.deleted_at is not None:
            return None
        return next(p for p in await self.patient_problems(row.patient_id) if p.id == problem_id)

    async def save_problem(self, problem: Problem) -> None:
        row = await self._session.get(ProblemRow, problem.id)
        if row is None:
            row = ProblemRow(id=problem.id)
            self._session.add(row)
        row.patient_id, row.kind, row.code = problem.patient_id, problem.kind.value, problem.code
        row.status, row.occurred_at = problem.status.value, problem.recorded_at
        row.recorded_by, row.onset, row.resolved_on = (
            problem.recorded_by,
            problem.onset,
            problem.resolved_on,
        )
        p = problem.pregnancy
        row.last_menstrual_period = p.last_menstrual_period if p else None
        row.expected_delivery = p.expected_delivery if p else None
        row.cycle_days = p.cycle_days if p else None
        await self._session.flush()

    # -- allergies ----------------------------------------------------------------------
    async def allergy_record(self, patient_id: UUID) -> AllergyRecord:
        allergies = (
            (
                await self._session.execute(
                    select(AllergyRow)
                    .where(AllergyRow.patient_id == patient_id, AllergyRow.deleted_at.is_(None))
                    .order_by(AllergyRow.occurred_at, AllergyRow.id)
                )
            )
            .scalars()
            .all()
        )
        statements = (
            (
                await self._session.execute(
                    select(AllergyStatementRow)
                    .where(
                        AllergyStatementRow.patient_id == patient_id,
                        AllergyStatementRow.deleted_at.is_(None),
                    )
                    .order_by(AllergyStatementRow.occurred_at, AllergyStatementRow.id)
                )
            )
            .scalars()
            .all()
        )
        return AllergyRecord(
            patient_id,
            tuple(
                Allergy(
                    id=a.id,
                    patient_id=a.patient_id,
                    type=AllergyType(a.type),
                    category=AllergyCategory(a.category),
                    substance=Substance(
                        SubstanceSystem(a.substance_system), a.substance_code, a.substance_display
                    ),
                    criticality=Criticality(a.criticality),
                    verification=Verification(a.verification),
                    recorded_at=a.occurred_at,
                    recorded_by=a.recorded_by,
                    reactions=tuple(
                        Reaction(r["manifestation"], Severity(r["severity"]))
                        for r in a.reactions or ()
                    ),
                    superseded_by=a.superseded_by,
                )
                for a in allergies
            ),
            tuple(
                NoKnownAllergies(s.id, s.patient_id, s.occurred_at, s.stated_by, s.superseded_by)
                if s.superseded_at is None
                else NoKnownAllergies(
                    s.id, s.patient_id, s.occurred_at, s.stated_by, s.superseded_by, s.superseded_at
                )
                for s in statements
            ),
        )

    async def allergy(self, allergy_id: UUID) -> Allergy | None:
        row = await self._session.get(AllergyRow, allergy_id)
        if row is None or row.deleted_at is not None:
            return None
        record = await self.allergy_record(row.patient_id)
        return next(a for a in record.allergies if a.id == allergy_id)

    async def save_allergy_record(self, record: AllergyRecord) -> None:
        for a in record.allergies:
            row = await self._session.get(AllergyRow, a.id)
            if row is None:
                self._session.add(
                    AllergyRow(
                        id=a.id,
                        patient_id=a.patient_id,
                        type=a.type.value,
                        category=a.category.value,
                        substance_system=a.substance.system.value,
                        substance_code=a.substance.code,
                        substance_display=a.substance.display,
                        criticality=a.criticality.value,
                        verification=a.verification.value,
                        occurred_at=a.recorded_at,
                        recorded_by=a.recorded_by,
                        reactions=[
                            {"manifestation": r.manifestation, "severity": r.severity.value}
                            for r in a.reactions
                        ],
                        superseded_by=a.superseded_by,
                    )
                )
            elif (row.verification, row.superseded_by) != (a.verification.value, a.superseded_by):
                row.verification, row.superseded_by = a.verification.value, a.superseded_by
        for s in record.statements:
            srow = await self._session.get(AllergyStatementRow, s.id)
            if srow is None:
                self._session.add(
                    AllergyStatementRow(
                        id=s.id,
                        patient_id=s.patient_id,
                        occurred_at=s.stated_at,
                        stated_by=s.stated_by,
                        superseded_by=s.superseded_by,
                        superseded_at=s.superseded_at,
                    )
                )
            elif srow.superseded_by != s.superseded_by:
                srow.superseded_by, srow.superseded_at = s.superseded_by, s.superseded_at
        await self._session.flush()

    # -- notes --------------------------------------------------------------------------
    def _context(self, note_id: UUID, field: str) -> str:
        return f"clinical_note:{note_id}:{field}"

    async def add_note(self, note: ClinicalNote) -> None:
        row = NoteRow(
            id=note.id,
            series_id=note.series_id,
            note_version=note.version,
            patient_id=note.patient_id,
            encounter_id=note.encounter_id,
            kind=note.kind.value,
            author_id=note.author_id,
            occurred_at=note.written_at,
            first_author_id=note.first_author_id,
            previous_id=note.previous_id,
            amendment_reason=note.amendment_reason,
        )
        for field in _NOTE_FIELDS:
            value = getattr(note.sections, field)
            setattr(
                row,
                f"{field}_enc",
                None
                if value is None
                else self._cipher.encrypt(value, self._context(note.id, field)),
            )
        self._session.add(row)
        await self._session.flush()

    def _note(self, row: NoteRow) -> ClinicalNote:
        texts: dict[str, str | None] = {}
        for field in _NOTE_FIELDS:
            blob = getattr(row, f"{field}_enc")
            texts[field] = (
                None
                if blob is None
                else self._cipher.decrypt(bytes(blob), self._context(row.id, field))
            )
        return ClinicalNote(
            id=row.id,
            series_id=row.series_id,
            version=row.note_version,
            patient_id=row.patient_id,
            encounter_id=row.encounter_id,
            kind=NoteKind(row.kind),
            sections=NoteSections(**texts),
            author_id=row.author_id,
            written_at=row.occurred_at,
            first_author_id=row.first_author_id,
            previous_id=row.previous_id,
            amendment_reason=row.amendment_reason,
        )

    async def note(self, note_id: UUID) -> ClinicalNote | None:
        row = await self._session.get(NoteRow, note_id)
        return None if row is None or row.deleted_at is not None else self._note(row)

    async def note_versions(self, series_id: UUID) -> list[ClinicalNote]:
        rows = (
            (
                await self._session.execute(
                    select(NoteRow)
                    .where(NoteRow.series_id == series_id, NoteRow.deleted_at.is_(None))
                    .order_by(NoteRow.note_version)
                )
            )
            .scalars()
            .all()
        )
        return [self._note(r) for r in rows]

    # -- timeline -----------------------------------------------------------------------
    async def timeline(self, patient_id: UUID, query: TimelineQuery) -> TimelinePage:
        return await read_timeline(self._session, patient_id, query)
