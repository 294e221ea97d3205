"""Encounter state machine: admission, transfers, discharge modes, length of stay."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from afiya.domain.clinical.encounters import (
    DischargeMode,
    EncounterKind,
    EncounterStatus,
    Location,
    TriageLevel,
    assign_attending,
    cancel,
    discharge,
    start_encounter,
    transfer,
)
from afiya.domain.clinical.errors import EncounterStateError
from afiya.domain.clinical.stays import length_of_stay, ward_stays
from afiya.domain.shared.errors import ValidationFailed
from afiya.domain.shared.ids import uuid7
from tests.unit.clinical.factories import (
    BAMAKO,
    CATALOGUE,
    DOCTOR,
    FACILITY,
    ICU,
    MEDICINE,
    NOUAKCHOTT,
    NOW,
    PATIENT,
    T0,
    WARD_A,
    admission,
    died_after_transfer,
    outpatient,
)


def _fields(error: ValidationFailed) -> dict[str, str]:
    return {e.field: e.code for e in error.errors}


def _emergency(triage: TriageLevel | None) -> None:
    start_encounter(
        id=uuid7(),
        patient_id=PATIENT,
        unit_id=FACILITY,
        kind=EncounterKind.EMERGENCY,
        started_at=T0,
        reason="Détresse respiratoire",
        attending_id=DOCTOR,
        now=NOW,
        triage=triage,
    )


class TestOpening:
    def test_emergency_visit_requires_a_triage_level(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            _emergency(None)
        assert _fields(caught.value) == {"triage": "required"}
        _emergency(TriageLevel.VERY_URGENT)  # accepted

    def test_admission_requires_a_department_and_a_reason(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            start_encounter(
                id=uuid7(),
                patient_id=PATIENT,
                unit_id=FACILITY,
                kind=EncounterKind.INPATIENT,
                started_at=T0,
                reason="  ",
                attending_id=DOCTOR,
                now=NOW,
            )
        assert _fields(caught.value) == {"reason": "required", "location": "required"}

    def test_start_in_the_future_or_without_time_zone_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            admission(at=NOW + timedelta(hours=1))
        assert _fields(caught.value) == {"started_at": "future_time"}
        with pytest.raises(ValidationFailed) as caught:
            admission(at=datetime(2026, 3, 2, 9, 30))
        assert _fields(caught.value) == {"started_at": "naive_time"}

    def test_triage_scale_is_documented_with_targets_and_etat_categories(self) -> None:
        assert [level.target_minutes for level in TriageLevel] == [0, 10, 60, 120, 240]
        assert TriageLevel(1).colour == "red" and TriageLevel(5).colour == "blue"
        assert [level.etat_category for level in TriageLevel] == [
            "emergency",
            "emergency",
            "priority",
            "queue",
            "queue",
        ]


class TestTransfers:
    def test_transfer_moves_the_patient_and_keeps_the_history(self) -> None:
        stay = transfer(
            admission(), at=T0 + timedelta(days=1), to=Location(ICU, None, "R2"), now=NOW
        )
        assert stay.location == Location(ICU, None, "R2")
        assert [m.location.department_id for m in stay.movements] == [MEDICINE, ICU]

    def test_transfer_before_the_last_movement_is_refused(self) -> None:
        stay = transfer(admission(), at=T0 + timedelta(days=1), to=Location(ICU), now=NOW)
        with pytest.raises(ValidationFailed) as caught:
            transfer(stay, at=T0 + timedelta(hours=5), to=Location(MEDICINE, WARD_A), now=NOW)
        assert _fields(caught.value) == {"at": "before_last_event"}

    def test_transfer_to_the_same_bed_is_refused(self) -> None:
        stay = admission()
        with pytest.raises(ValidationFailed) as caught:
            transfer(stay, at=T0 + timedelta(hours=1), to=stay.location, now=NOW)  # type: ignore[arg-type]
        assert _fields(caught.value) == {"to": "same_location"}

    def test_only_an_admission_has_transfers(self) -> None:
        with pytest.raises(EncounterStateError) as caught:
            transfer(outpatient(), at=T0 + timedelta(hours=1), to=Location(ICU), now=NOW)
        assert caught.value.code == "not_an_admission"

    def test_no_transfer_after_discharge(self) -> None:
        with pytest.raises(EncounterStateError) as caught:
            transfer(
                died_after_transfer(), at=NOW - timedelta(hours=1), to=Location(MEDICINE), now=NOW
            )
        assert caught.value.code == "encounter_closed"


class TestDischarge:
    def test_death_records_time_and_coded_cause(self) -> None:
        stay = died_after_transfer()
        assert stay.status is EncounterStatus.FINISHED
        assert stay.discharge is not None and stay.discharge.death is not None
        assert stay.discharge.death.cause_code == "A41.9"  # typed A419, normalised
        assert stay.discharge.mode is DischargeMode.DEATH

    def test_death_without_time_and_cause_is_refused_naming_both(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            discharge(
                admission(),
                at=T0 + timedelta(days=1),
                mode=DischargeMode.DEATH,
                now=NOW,
                catalogue=CATALOGUE,
            )
        assert _fields(caught.value) == {"death.at": "required", "death.cause_code": "required"}

    def test_death_with_unknown_icd10_cause_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            discharge(
                admission(),
                at=T0 + timedelta(days=1),
                mode=DischargeMode.DEATH,
                now=NOW,
                catalogue=CATALOGUE,
                death_at=T0 + timedelta(hours=20),
                death_cause="diabète",
            )
        assert _fields(caught.value) == {"death.cause_code": "icd10_malformed"}
        with pytest.raises(ValidationFailed) as caught:
            discharge(
                admission(),
                at=T0 + timedelta(days=1),
                mode=DischargeMode.DEATH,
                now=NOW,
                catalogue=CATALOGUE,
                death_at=T0 + timedelta(hours=20),
                death_cause="R99",
            )
        assert _fields(caught.value) == {"death.cause_code": "icd10_unknown"}

    def test_time_of_death_must_lie_within_the_stay(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            discharge(
                admission(),
                at=T0 + timedelta(days=1),
                mode=DischargeMode.DEATH,
                now=NOW,
                catalogue=CATALOGUE,
                death_at=T0 + timedelta(days=2),
                death_cause="B54",
            )
        assert _fields(caught.value) == {"death.at": "out_of_encounter"}

    def test_transfer_out_names_the_receiving_facility(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            discharge(
                admission(),
                at=T0 + timedelta(days=1),
                mode=DischargeMode.TRANSFER,
                now=NOW,
                catalogue=CATALOGUE,
            )
        assert _fields(caught.value) == {"destination": "required"}
        done = discharge(
            admission(),
            at=T0 + timedelta(days=1),
            mode=DischargeMode.TRANSFER,
            now=NOW,
            catalogue=CATALOGUE,
            destination="Hôpital régional de Kiffa",
        )
        assert (
            done.discharge is not None and done.discharge.destination == "Hôpital régional de Kiffa"
        )

    def test_discharging_twice_is_refused(self) -> None:
        done = discharge(
            admission(),
            at=T0 + timedelta(days=1),
            mode=DischargeMode.HOME,
            now=NOW,
            catalogue=CATALOGUE,
        )
        with pytest.raises(EncounterStateError):
            discharge(
                done,
                at=T0 + timedelta(days=2),
                mode=DischargeMode.HOME,
                now=NOW,
                catalogue=CATALOGUE,
            )

    def test_discharge_before_admission_is_refused(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            discharge(
                admission(),
                at=T0 - timedelta(minutes=1),
                mode=DischargeMode.HOME,
                now=NOW,
                catalogue=CATALOGUE,
            )
        assert _fields(caught.value) == {"at": "before_last_event"}

    def test_cause_of_death_is_refused_with_another_mode(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            discharge(
                admission(),
                at=T0 + timedelta(days=1),
                mode=DischargeMode.LEFT_AGAINST_ADVICE,
                now=NOW,
                catalogue=CATALOGUE,
                death_cause="B54",
            )
        assert _fields(caught.value) == {"death": "not_applicable"}

    def test_admitted_ends_a_consultation_not_an_admission(self) -> None:
        consult = discharge(
            outpatient(),
            at=T0 + timedelta(hours=1),
            mode=DischargeMode.ADMITTED,
            now=NOW,
            catalogue=CATALOGUE,
        )
        assert consult.discharge is not None and consult.discharge.mode is DischargeMode.ADMITTED
        with pytest.raises(ValidationFailed):
            discharge(
                admission(),
                at=T0 + timedelta(hours=1),
                mode=DischargeMode.ADMITTED,
                now=NOW,
                catalogue=CATALOGUE,
            )

    def test_cancelled_encounter_cannot_be_discharged_or_reassigned(self) -> None:
        gone = cancel(admission(), reason="Ouvert pour le mauvais patient")
        with pytest.raises(EncounterStateError) as caught:
            discharge(
                gone,
                at=T0 + timedelta(hours=1),
                mode=DischargeMode.HOME,
                now=NOW,
                catalogue=CATALOGUE,
            )
        assert caught.value.code == "encounter_cancelled"
        with pytest.raises(EncounterStateError):
            assign_attending(gone, uuid7())


class TestLengthOfStay:
    def test_counts_midnights_in_the_facility_time_zone(self) -> None:
        stay = died_after_transfer()  # 02/03 09:30 → 06/03 15:30 UTC
        los = length_of_stay(stay, tz=NOUAKCHOTT, now=NOW)
        assert los.days == 4 and not los.ongoing
        assert los.duration == timedelta(days=4, hours=6)

    def test_same_day_stay_is_zero_days(self) -> None:
        evening = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
        stay = discharge(
            admission(at=evening - timedelta(hours=10)),
            at=evening,
            mode=DischargeMode.HOME,
            now=NOW,
            catalogue=CATALOGUE,
        )
        assert length_of_stay(stay, tz=NOUAKCHOTT, now=NOW).same_day
        # the same instants cross midnight one hour east of UTC
        assert length_of_stay(stay, tz=ZoneInfo("Africa/Lagos"), now=NOW).days == 1

    def test_open_stay_counts_up_to_now(self) -> None:
        los = length_of_stay(admission(), tz=BAMAKO, now=T0 + timedelta(days=3))
        assert los.ongoing and los.days == 3

    def test_ward_stays_add_up_to_the_length_of_stay(self) -> None:
        stay = died_after_transfer()
        parts = ward_stays(stay, tz=NOUAKCHOTT, now=NOW)
        assert [p.location.department_id for p in parts] == [MEDICINE, ICU]
        assert sum(p.days for p in parts) == length_of_stay(stay, tz=NOUAKCHOTT, now=NOW).days
        assert parts[0].end == parts[1].start


class AdmissionMachine(RuleBasedStateMachine):
    """Random sequences of steps never break the encounter's invariants."""

    def __init__(self) -> None:
        super().__init__()
        self.encounter = admission()
        self.clock = T0
        self.places = [Location(MEDICINE, WARD_A, str(n)) for n in range(4)] + [Location(ICU)]

    @rule(minutes=st.integers(-600, 3000), place=st.integers(0, 4))
    def move(self, minutes: int, place: int) -> None:
        at = self.clock + timedelta(minutes=minutes)
        before = self.encounter
        try:
            self.encounter = transfer(
                before, at=at, to=self.places[place], now=NOW + timedelta(days=400)
            )
        except EncounterStateError:
            assert before.status is not EncounterStatus.IN_PROGRESS
        except ValidationFailed:
            assert at < before.last_event_at or self.places[place] == before.location
        else:
            assert before.status is EncounterStatus.IN_PROGRESS
            self.clock = at

    @rule(
        minutes=st.integers(-600, 3000),
        mode=st.sampled_from([DischargeMode.HOME, DischargeMode.LEFT_AGAINST_ADVICE]),
    )
    def leave(self, minutes: int, mode: DischargeMode) -> None:
        at = self.clock + timedelta(minutes=minutes)
        before = self.encounter
        try:
            self.encounter = discharge(
                before, at=at, mode=mode, now=NOW + timedelta(days=400), catalogue=CATALOGUE
            )
        except EncounterStateError:
            assert before.discharge is not None
        except ValidationFailed:
            assert at < before.last_event_at
        else:
            assert before.discharge is None

    @precondition(lambda self: self.encounter.discharge is not None)
    @rule()
    def closed_is_final(self) -> None:
        with pytest.raises(EncounterStateError):
            transfer(
                self.encounter,
                at=self.clock + timedelta(days=1),
                to=Location(ICU, None, "X"),
                now=NOW + timedelta(days=400),
            )

    @invariant()
    def times_never_go_backwards(self) -> None:
        times = [m.at for m in self.encounter.movements]
        assert times == sorted(times) and times[0] == self.encounter.started_at
        if self.encounter.discharge is not None:
            assert self.encounter.discharge.at >= times[-1]
            assert self.encounter.status is EncounterStatus.FINISHED

    @invariant()
    def consecutive_places_differ(self) -> None:
        places = [m.location for m in self.encounter.movements]
        assert all(a != b for a, b in itertools.pairwise(places))


TestAdmissionMachine = AdmissionMachine.TestCase
TestAdmissionMachine.settings = settings(max_examples=60, stateful_step_count=12, deadline=None)


@given(hours=st.integers(0, 24 * 60))
def test_length_of_stay_is_never_negative_and_never_exceeds_elapsed_days_plus_one(
    hours: int,
) -> None:
    done = discharge(
        admission(),
        at=T0 + timedelta(hours=hours),
        mode=DischargeMode.HOME,
        now=T0 + timedelta(days=90),
        catalogue=CATALOGUE,
    )
    los = length_of_stay(done, tz=NOUAKCHOTT, now=NOW)
    assert 0 <= los.days <= hours // 24 + 1
