"""The appointment state machine: steps, statuses, actors and timing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from afiya.domain.agenda.appointments import (
    TRANSITIONS,
    Action,
    Actor,
    ActorKind,
    AgendaRules,
    AppointmentStatus,
    allowed_actions,
    apply_action,
    is_late_cancellation,
)
from afiya.domain.agenda.errors import ActorNotAllowed, TooEarlyOrTooLate, TransitionNotAllowed
from afiya.domain.shared.errors import ValidationFailed
from tests.unit.agenda.factories import DOCTOR, MONDAY, RECEPTION, SYSTEM, appointment, utc

START = utc(MONDAY, 10)
PATIENT = Actor(ActorKind.PATIENT, "pat-1")
STRANGER = Actor(ActorKind.PATIENT, "pat-2")
BEFORE = START - timedelta(days=1)
S = AppointmentStatus


class TestHappyPath:
    def test_booked_confirmed_arrived_completed(self) -> None:
        appt = appointment(START)
        appt = apply_action(appt, Action.CONFIRM, actor=PATIENT, now=BEFORE)
        appt = apply_action(
            appt, Action.MARK_ARRIVED, actor=RECEPTION, now=START - timedelta(minutes=20)
        )
        appt = apply_action(appt, Action.COMPLETE, actor=DOCTOR, now=START + timedelta(minutes=25))
        assert appt.status is S.COMPLETED
        assert appt.arrived_at == START - timedelta(minutes=20)
        assert [(c.from_status, c.to_status, c.actor.kind) for c in appt.history] == [
            (S.BOOKED, S.CONFIRMED, ActorKind.PATIENT),
            (S.CONFIRMED, S.ARRIVED, ActorKind.RECEPTION),
            (S.ARRIVED, S.COMPLETED, ActorKind.PRACTITIONER),
        ]

    def test_confirming_or_cancelling_twice_changes_nothing(self) -> None:
        confirmed = apply_action(appointment(START), Action.CONFIRM, actor=PATIENT, now=BEFORE)
        assert apply_action(confirmed, Action.CONFIRM, actor=PATIENT, now=BEFORE) is confirmed
        cancelled = apply_action(
            confirmed, Action.CANCEL, actor=PATIENT, now=BEFORE, reason="travel"
        )
        assert cancelled.history[-1].reason == "travel"
        assert apply_action(cancelled, Action.CANCEL, actor=RECEPTION, now=BEFORE) is cancelled

    def test_a_late_patient_marked_no_show_can_still_be_received_the_same_day(self) -> None:
        missed = apply_action(
            appointment(START), Action.MARK_NO_SHOW, actor=SYSTEM, now=START + timedelta(hours=1)
        )
        arrived = apply_action(
            missed, Action.MARK_ARRIVED, actor=RECEPTION, now=START + timedelta(hours=3)
        )
        assert arrived.status is S.ARRIVED


class TestForbiddenSteps:
    @pytest.mark.parametrize(
        ("status", "action"),
        [
            (S.CANCELLED, Action.CONFIRM),
            (S.COMPLETED, Action.CANCEL),
            (S.RESCHEDULED, Action.MARK_ARRIVED),
            (S.ARRIVED, Action.MARK_NO_SHOW),
            (S.BOOKED, Action.COMPLETE),
            (S.NO_SHOW, Action.CANCEL),
        ],
    )
    def test_step_not_allowed_from_status(self, status: AppointmentStatus, action: Action) -> None:
        appt = appointment(START, status=status)
        with pytest.raises(TransitionNotAllowed) as caught:
            apply_action(appt, action, actor=DOCTOR, now=START + timedelta(hours=1))
        assert caught.value.details == {"status": status.value, "action": action.value}

    def test_every_final_status_allows_no_step(self) -> None:
        for status in S:
            if status.is_final:
                assert all(status not in sources for sources, _, _ in TRANSITIONS.values())

    @pytest.mark.parametrize(
        ("actor", "action"),
        [
            (PATIENT, Action.MARK_NO_SHOW),
            (PATIENT, Action.MARK_ARRIVED),
            (SYSTEM, Action.CANCEL),
            (RECEPTION, Action.COMPLETE),
            (STRANGER, Action.CONFIRM),
        ],
    )
    def test_actor_not_allowed(self, actor: Actor, action: Action) -> None:
        with pytest.raises(ActorNotAllowed):
            apply_action(appointment(START), action, actor=actor, now=START + timedelta(hours=1))

    def test_a_stranger_cannot_sneak_through_the_idempotent_path(self) -> None:
        confirmed = apply_action(appointment(START), Action.CONFIRM, actor=PATIENT, now=BEFORE)
        with pytest.raises(ActorNotAllowed):
            apply_action(confirmed, Action.CONFIRM, actor=STRANGER, now=BEFORE)


class TestTiming:
    rules = AgendaRules(no_show_grace=timedelta(minutes=30), patient_cutoff=timedelta(hours=2))

    def test_no_show_only_after_the_grace_period(self) -> None:
        appt = appointment(START)
        with pytest.raises(TooEarlyOrTooLate):
            apply_action(
                appt,
                Action.MARK_NO_SHOW,
                actor=SYSTEM,
                now=START + timedelta(minutes=29),
                rules=self.rules,
            )
        done = apply_action(
            appt,
            Action.MARK_NO_SHOW,
            actor=SYSTEM,
            now=START + timedelta(minutes=30),
            rules=self.rules,
        )
        assert done.status is S.NO_SHOW

    def test_patient_reschedules_until_the_cutoff_staff_after(self) -> None:
        appt = appointment(START)
        late = START - timedelta(hours=1)
        with pytest.raises(TooEarlyOrTooLate):
            apply_action(appt, Action.RESCHEDULE, actor=PATIENT, now=late, rules=self.rules)
        assert (
            apply_action(
                appt, Action.RESCHEDULE, actor=RECEPTION, now=late, rules=self.rules
            ).status
            is S.RESCHEDULED
        )

    def test_patient_cannot_confirm_or_cancel_after_the_start(self) -> None:
        appt = appointment(START)
        for action in (Action.CONFIRM, Action.CANCEL):
            with pytest.raises(TooEarlyOrTooLate):
                apply_action(appt, action, actor=PATIENT, now=START)
        assert apply_action(appt, Action.CANCEL, actor=DOCTOR, now=START).status is S.CANCELLED

    def test_arrival_window(self) -> None:
        appt = appointment(START)
        with pytest.raises(TooEarlyOrTooLate):
            apply_action(
                appt, Action.MARK_ARRIVED, actor=RECEPTION, now=START - timedelta(hours=13)
            )
        with pytest.raises(TooEarlyOrTooLate):
            apply_action(
                appt, Action.MARK_ARRIVED, actor=RECEPTION, now=START + timedelta(hours=13)
            )

    def test_naive_now_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            apply_action(
                appointment(START), Action.CONFIRM, actor=PATIENT, now=BEFORE.replace(tzinfo=None)
            )


class TestAllowedActions:
    def test_buttons_for_reception_before_and_after_the_start(self) -> None:
        appt = appointment(START)
        assert allowed_actions(appt, actor=RECEPTION, now=BEFORE) == {
            Action.CONFIRM,
            Action.CANCEL,
            Action.RESCHEDULE,
        }
        assert allowed_actions(appt, actor=RECEPTION, now=START + timedelta(hours=1)) == {
            Action.CANCEL,
            Action.RESCHEDULE,
            Action.MARK_ARRIVED,
            Action.MARK_NO_SHOW,
        }

    def test_a_patient_sees_only_self_service_steps(self) -> None:
        assert allowed_actions(appointment(START), actor=PATIENT, now=BEFORE) == {
            Action.CONFIRM,
            Action.CANCEL,
            Action.RESCHEDULE,
        }
        assert allowed_actions(appointment(START), actor=STRANGER, now=BEFORE) == frozenset()


class TestLateCancellation:
    def test_patient_cancelling_the_evening_before_is_late(self) -> None:
        appt = apply_action(
            appointment(START), Action.CANCEL, actor=PATIENT, now=START - timedelta(hours=14)
        )
        assert is_late_cancellation(appt)

    def test_early_or_staff_cancellations_are_not_late(self) -> None:
        early = apply_action(
            appointment(START), Action.CANCEL, actor=PATIENT, now=START - timedelta(days=3)
        )
        staff = apply_action(
            appointment(START), Action.CANCEL, actor=DOCTOR, now=START - timedelta(hours=1)
        )
        assert not is_late_cancellation(early) and not is_late_cancellation(staff)


def test_rules_and_appointments_validate_their_values() -> None:
    with pytest.raises(ValidationFailed):
        AgendaRules(no_show_grace=timedelta(minutes=-1))
    with pytest.raises(ValidationFailed):
        appointment(START, minutes=0)
