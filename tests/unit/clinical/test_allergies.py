"""Allergies: mandatory verification, the explicit NKA statement and supersession."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from afiya.domain.clinical.allergies import (
    Allergy,
    AllergyCategory,
    AllergyRecord,
    AllergyStatus,
    AllergyType,
    Criticality,
    NoKnownAllergies,
    Reaction,
    Severity,
    Substance,
    SubstanceSystem,
    Verification,
    record_allergy,
    set_verification,
    state_no_known_allergies,
)
from afiya.domain.clinical.errors import AllergyStatementConflict
from afiya.domain.shared.errors import ValidationFailed
from afiya.domain.shared.ids import uuid7
from tests.unit.clinical.factories import DOCTOR, NOW, PATIENT, T0

PENICILLINS = Substance(SubstanceSystem.DRUG_CLASS, "J01C", "Pénicillines")


def _allergy(substance: Substance = PENICILLINS, *, at=T0, **extra) -> Allergy:  # type: ignore[no-untyped-def]
    values = {
        "type": AllergyType.ALLERGY,
        "category": AllergyCategory.MEDICATION,
        "criticality": Criticality.HIGH,
        "verification": Verification.CONFIRMED,
        "reactions": (Reaction("Œdème de Quincke", Severity.SEVERE),),
    } | extra
    return Allergy(
        id=uuid7(),
        patient_id=PATIENT,
        substance=substance,
        recorded_at=at,
        recorded_by=DOCTOR,
        **values,
    )


def _nka(at=T0) -> NoKnownAllergies:  # type: ignore[no-untyped-def]
    return NoKnownAllergies(uuid7(), PATIENT, at, DOCTOR)


def test_verification_status_is_mandatory() -> None:
    with pytest.raises(TypeError):
        Allergy(  # type: ignore[call-arg]
            id=uuid7(),
            patient_id=PATIENT,
            type=AllergyType.ALLERGY,
            category=AllergyCategory.FOOD,
            substance=Substance(SubstanceSystem.OTHER, "peanut", "Arachide"),
            criticality=Criticality.LOW,
            recorded_at=T0,
            recorded_by=DOCTOR,
        )


def test_empty_record_is_unknown_not_no_allergies() -> None:
    assert AllergyRecord(PATIENT).status is AllergyStatus.UNKNOWN
    stated = state_no_known_allergies(AllergyRecord(PATIENT), _nka(), now=NOW)
    assert stated.status is AllergyStatus.NO_KNOWN_ALLERGIES


def test_recording_an_allergy_supersedes_the_nka_statement_explicitly() -> None:
    record = state_no_known_allergies(AllergyRecord(PATIENT), _nka(), now=NOW)
    allergy = _allergy(at=T0 + timedelta(days=1))
    record = record_allergy(record, allergy, now=NOW)
    assert record.status is AllergyStatus.HAS_ALLERGIES
    assert record.statement is None
    [old] = record.statements
    assert old.superseded_by == allergy.id and old.superseded_at == allergy.recorded_at


def test_nka_over_active_allergies_must_name_each_one() -> None:
    first = _allergy()
    second = _allergy(
        Substance(SubstanceSystem.INGREDIENT, "cotrimoxazole", "Cotrimoxazole"),
        criticality=Criticality.LOW,
    )
    record = record_allergy(record_allergy(AllergyRecord(PATIENT), first, now=NOW), second, now=NOW)
    statement = _nka(at=T0 + timedelta(days=2))
    with pytest.raises(AllergyStatementConflict) as caught:
        state_no_known_allergies(record, statement, now=NOW, supersedes=[first.id])
    assert caught.value.allergy_ids == [second.id]
    with pytest.raises(ValidationFailed) as refused:
        state_no_known_allergies(
            record, statement, now=NOW, supersedes=[first.id, second.id, uuid7()]
        )
    assert refused.value.errors[0].field == "supersedes"
    done = state_no_known_allergies(record, statement, now=NOW, supersedes=[first.id, second.id])
    assert done.status is AllergyStatus.NO_KNOWN_ALLERGIES
    assert all(
        a.verification is Verification.REFUTED and a.superseded_by == statement.id
        for a in done.allergies
    )
    assert len(done.allergies) == 2  # history kept


def test_an_allergy_and_an_nka_statement_never_both_in_force() -> None:
    record = state_no_known_allergies(AllergyRecord(PATIENT), _nka(), now=NOW)
    allergy = _allergy(verification=Verification.REFUTED)
    record = record_allergy(record, allergy, now=NOW)
    assert record.statement is None  # any recorded allergy supersedes the statement
    record = state_no_known_allergies(record, _nka(T0 + timedelta(hours=1)), now=NOW)
    assert record.status is AllergyStatus.NO_KNOWN_ALLERGIES
    record = set_verification(
        record, allergy.id, Verification.CONFIRMED, at=T0 + timedelta(hours=2)
    )
    assert record.active and record.statement is None


def test_duplicate_substance_and_incoherent_category_are_refused() -> None:
    record = record_allergy(AllergyRecord(PATIENT), _allergy(), now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        record_allergy(
            record,
            _allergy(
                Substance(SubstanceSystem.DRUG_CLASS, "j01c", "Pénicillines"),
                category=AllergyCategory.FOOD,
            ),
            now=NOW,
        )
    assert {e.code for e in caught.value.errors} == {"duplicate", "inconsistent"}


def test_high_risk_flag() -> None:
    assert _allergy().high_risk
    mild = _allergy(criticality=Criticality.LOW, reactions=(Reaction("Prurit", Severity.MILD),))
    assert not mild.high_risk
    assert not _allergy(verification=Verification.REFUTED).high_risk


def test_unknown_allergy_cannot_be_verified() -> None:
    with pytest.raises(ValidationFailed):
        set_verification(AllergyRecord(PATIENT), UUID(int=1), Verification.CONFIRMED, at=T0)
