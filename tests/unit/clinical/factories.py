"""Test data for the clinical record: a small ICD-10 list and a complete admission."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from afiya.domain.clinical.diagnoses import Diagnosis, DiagnosisRank, add_diagnosis
from afiya.domain.clinical.documents import (
    DocumentInput,
    FacilityHeader,
    FollowUp,
    PatientIdentity,
)
from afiya.domain.clinical.encounters import (
    DischargeMode,
    Encounter,
    EncounterKind,
    Location,
    discharge,
    start_encounter,
    transfer,
)
from afiya.domain.shared.ids import uuid7

NOUAKCHOTT = ZoneInfo("Africa/Nouakchott")  # UTC+0 all year
BAMAKO = ZoneInfo("Africa/Bamako")
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)

PATIENT = uuid7()
FACILITY = uuid7()
DOCTOR = uuid7()
MEDICINE = uuid7()  # department of internal medicine
WARD_A = uuid7()
ICU = uuid7()
PLACE_NAMES: Mapping[UUID, str] = {
    MEDICINE: "Médecine interne",
    WARD_A: "Salle A",
    ICU: "Réanimation",
}


@dataclass
class FakeIcd10:
    """A few codes of the WHO edition, with titles in English only."""

    titles: dict[str, str] = field(
        default_factory=lambda: {
            "E11": "Type 2 diabetes mellitus",
            "E11.9": "Type 2 diabetes mellitus without complications",
            "I10": "Essential (primary) hypertension",
            "B54": "Unspecified malaria",
            "A41.9": "Sepsis, unspecified",
            "D57.1": "Sickle-cell anaemia without crisis",
            "B24": "Unspecified human immunodeficiency virus [HIV] disease",
            "Z33": "Pregnant state, incidental",
            "O80": "Single spontaneous delivery",
            "J18.9": "Pneumonia, unspecified",
        }
    )

    def is_valid(self, code: str) -> bool:
        return code in self.titles

    def label(self, code: str, language: str) -> str:
        return self.titles[code]

    def has_labels(self, language: str) -> bool:
        return language == "en"


CATALOGUE = FakeIcd10()


def admission(at: datetime = T0, *, now: datetime = NOW) -> Encounter:
    return start_encounter(
        id=uuid7(),
        patient_id=PATIENT,
        unit_id=FACILITY,
        kind=EncounterKind.INPATIENT,
        started_at=at,
        reason="Fièvre et altération de l'état général",
        attending_id=DOCTOR,
        now=now,
        location=Location(MEDICINE, WARD_A, "12"),
    )


def outpatient(at: datetime = T0) -> Encounter:
    return start_encounter(
        id=uuid7(),
        patient_id=PATIENT,
        unit_id=FACILITY,
        kind=EncounterKind.OUTPATIENT,
        started_at=at,
        reason="Contrôle tension",
        attending_id=DOCTOR,
        now=NOW,
    )


def died_after_transfer() -> Encounter:
    """Admitted, transferred to intensive care on day 3, died of sepsis on day 5."""
    stay = transfer(
        admission(), at=T0 + timedelta(days=2, hours=3), to=Location(ICU, None, "R2"), now=NOW
    )
    return discharge(
        stay,
        at=T0 + timedelta(days=4, hours=6),
        mode=DischargeMode.DEATH,
        now=NOW,
        catalogue=CATALOGUE,
        death_at=T0 + timedelta(days=4, hours=5, minutes=40),
        death_cause="A419",
    )


def discharged_home() -> Encounter:
    return discharge(
        admission(),
        at=T0 + timedelta(days=6),
        mode=DischargeMode.HOME,
        now=NOW,
        catalogue=CATALOGUE,
    )


def diagnoses_for(
    encounter: Encounter, codes: tuple[str, ...] = ("E11.9", "I10")
) -> list[Diagnosis]:
    listed: list[Diagnosis] = []
    for index, code in enumerate(codes):
        listed = add_diagnosis(
            listed,
            id=uuid7(),
            patient_id=PATIENT,
            encounter_id=encounter.id,
            code=code,
            rank=DiagnosisRank.PRIMARY if index == 0 else DiagnosisRank.SECONDARY,
            recorded_at=T0 + timedelta(hours=index + 1),
            recorded_by=DOCTOR,
            catalogue=CATALOGUE,
            now=NOW,
        )
    return listed


FATIMATA = PatientIdentity(
    mrn="NKC-2026-000123",
    given_names="Fatimata",
    family_name="Ahmed",
    sex="female",
    given_names_ar="فاطمة",
    family_name_ar="بنت أحمد",
    birth_year=1978,
)

HOSPITAL = FacilityHeader(
    name="Centre Hospitalier National de Nouakchott",
    name_ar="المركز الاستشفائي الوطني بنواكشوط",
    address="Avenue Gamal Abdel Nasser, Nouakchott",
    phone="+222 45 25 21 35",
    authority="Ministère de la Santé — République Islamique de Mauritanie",
)


def document_input(encounter: Encounter, diagnoses: list[Diagnosis]) -> DocumentInput:
    return DocumentInput(
        facility=HOSPITAL,
        patient=FATIMATA,
        encounter=encounter,
        diagnoses=diagnoses,
        author="Dr Mohamed Lemine Ould Sidi",
        issued_at=NOW,
        tz=NOUAKCHOTT,
        place_names=PLACE_NAMES,
        attending="Dr Mohamed Lemine Ould Sidi",
        treatments=(
            "Metformine 500 mg, 1 comprimé matin et soir",
            "Amlodipine 5 mg, 1 comprimé le matin",
        ),
        course="Apyrexie au 3e jour sous traitement ; glycémies équilibrées à la sortie.",
        key_results=("Glycémie à jeun 1,26 g/L", "Goutte épaisse négative"),
        follow_up=FollowUp(
            "Consultation de diabétologie avec le carnet de glycémies.",
            T0.date() + timedelta(days=30),
            "Dr Aïssata Ba",
        ),
        addressee="Dr Aïssata Ba, Centre de santé de Teyarett",
    )
