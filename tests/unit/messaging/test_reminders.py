"""Reminder planning: offsets, quiet hours, late planning, spacing, consent, DST."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afiya.domain.messaging.reminders import (
    Adjustment,
    PlannedReminder,
    QuietHours,
    ReminderPolicy,
    ReminderStatus,
    SkipReason,
    due_now,
    plan_reminders,
    reminder_idempotency_key,
)
from afiya.domain.shared.errors import ValidationFailed

NOUAKCHOTT = ZoneInfo("Africa/Nouakchott")  # UTC+0, no daylight saving
PARIS = ZoneInfo("Europe/Paris")
H48, H2 = timedelta(hours=48), timedelta(hours=2)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def plan(
    start: datetime,
    now: datetime,
    *,
    zone: ZoneInfo = NOUAKCHOTT,
    consent: bool = True,
    policy: ReminderPolicy | None = None,
) -> dict[timedelta, PlannedReminder]:
    reminders = plan_reminders(
        appointment_id="appt-1",
        starts_at=start,
        zone=zone,
        now=now,
        consent=consent,
        policy=policy,
    )
    return {r.offset: r for r in reminders}


class TestNominalPlanning:
    def test_reminders_are_scheduled_48h_and_2h_before(self) -> None:
        start = utc(2025, 3, 11, 10, 0)
        result = plan(start, now=utc(2025, 3, 1, 12, 0))

        assert result[H48].status is ReminderStatus.SCHEDULED
        assert result[H48].send_at == utc(2025, 3, 9, 10, 0)
        assert result[H2].send_at == utc(2025, 3, 11, 8, 0)
        assert {r.adjustment for r in result.values()} == {Adjustment.NONE}

    def test_results_are_ordered_farthest_first_and_due_now_filters(self) -> None:
        start = utc(2025, 3, 11, 10, 0)
        reminders = plan_reminders(
            appointment_id="a",
            starts_at=start,
            zone=NOUAKCHOTT,
            now=utc(2025, 3, 9, 10, 0),
            consent=True,
        )
        assert [r.offset for r in reminders] == [H48, H2]
        assert due_now(reminders) == [reminders[0]]

    def test_reminder_is_due_when_its_moment_comes(self) -> None:
        start = utc(2025, 3, 11, 10, 0)
        result = plan(start, now=utc(2025, 3, 11, 8, 0))

        assert result[H2].status is ReminderStatus.DUE
        assert result[H2].send_at == utc(2025, 3, 11, 8, 0)
        assert result[H48].skip_reason is SkipReason.SUPERSEDED


class TestQuietHours:
    def test_reminder_in_quiet_hours_is_deferred_to_their_end(self) -> None:
        result = plan(utc(2025, 3, 11, 8, 30), now=utc(2025, 3, 1))

        assert result[H2].adjustment is Adjustment.DEFERRED
        assert result[H2].send_at == utc(2025, 3, 11, 7, 0)

    def test_reminder_is_advanced_to_the_evening_when_deferring_is_too_late(self) -> None:
        # 07:30 appointment: 05:30 is quiet, 07:00 leaves under an hour, so 20:30 the eve.
        result = plan(utc(2025, 3, 11, 7, 30), now=utc(2025, 3, 1))

        assert result[H2].adjustment is Adjustment.ADVANCED
        assert result[H2].send_at == utc(2025, 3, 10, 20, 30)
        assert result[H48].send_at == utc(2025, 3, 9, 7, 30)

    def test_quiet_hours_need_not_span_midnight(self) -> None:
        siesta = ReminderPolicy(quiet_hours=QuietHours(time(13, 0), time(15, 0)))
        result = plan(utc(2025, 3, 11, 16, 0), now=utc(2025, 3, 1), policy=siesta)

        assert result[H2].send_at == utc(2025, 3, 11, 15, 0)  # 14:00 is siesta
        assert result[H48].send_at == utc(2025, 3, 9, 16, 0)
        assert result[H48].adjustment is Adjustment.NONE

    def test_no_quiet_hours_keeps_nominal_times(self) -> None:
        policy = ReminderPolicy(quiet_hours=None)
        result = plan(utc(2025, 3, 11, 4, 0), now=utc(2025, 3, 1), policy=policy)

        assert result[H2].send_at == utc(2025, 3, 11, 2, 0)

    def test_quiet_hours_follow_daylight_saving_time(self) -> None:
        # Paris switches to CEST in the night of 29-30 March 2025.
        deferred = plan(utc(2025, 3, 30, 6, 30), now=utc(2025, 3, 1), zone=PARIS)
        assert deferred[H2].send_at == utc(2025, 3, 30, 5, 0)  # 07:00 CEST
        assert deferred[H48].send_at == utc(2025, 3, 28, 6, 30)  # 07:30 CET, not quiet

        advanced = plan(utc(2025, 3, 30, 5, 30), now=utc(2025, 3, 1), zone=PARIS)
        assert advanced[H2].adjustment is Adjustment.ADVANCED
        assert advanced[H2].send_at == utc(2025, 3, 29, 19, 30)  # 20:30 CET

    def test_quiet_hours_around_the_autumn_change(self) -> None:
        # 26 October 2025, Paris falls back from CEST to CET at 03:00.
        result = plan(utc(2025, 10, 27, 7, 30), now=utc(2025, 10, 1), zone=PARIS)
        assert result[H2].adjustment is Adjustment.DEFERRED
        assert result[H2].send_at == utc(2025, 10, 27, 6, 0)  # 07:00 CET
        # On the night of the change itself the morning end is CET, the evening start CEST.
        result = plan(utc(2025, 10, 26, 7, 30), now=utc(2025, 10, 1), zone=PARIS)
        assert result[H2].send_at == utc(2025, 10, 26, 6, 0)  # 07:00 CET
        result = plan(utc(2025, 10, 26, 6, 0), now=utc(2025, 10, 1), zone=PARIS)
        assert result[H2].adjustment is Adjustment.ADVANCED
        assert result[H2].send_at == utc(2025, 10, 25, 18, 30)  # 20:30 CEST


class TestLatePlanning:
    def test_appointment_booked_late_gets_the_missed_reminder_now(self) -> None:
        now = utc(2025, 3, 11, 8, 0)
        result = plan(utc(2025, 3, 11, 18, 0), now=now)

        assert result[H48].status is ReminderStatus.DUE
        assert result[H48].send_at == now
        assert result[H2].status is ReminderStatus.SCHEDULED

    def test_closer_reminder_supersedes_one_too_near_it(self) -> None:
        result = plan(utc(2025, 3, 11, 15, 0), now=utc(2025, 3, 11, 10, 0))

        assert result[H48].skip_reason is SkipReason.SUPERSEDED
        assert result[H48].send_at is None
        assert result[H2].send_at == utc(2025, 3, 11, 13, 0)

    def test_late_reminder_during_quiet_hours_waits_for_morning(self) -> None:
        policy = ReminderPolicy(min_spacing=timedelta(hours=1))
        result = plan(utc(2025, 3, 11, 10, 0), now=utc(2025, 3, 10, 22, 0), policy=policy)

        assert result[H48].status is ReminderStatus.SCHEDULED
        assert result[H48].send_at == utc(2025, 3, 11, 7, 0)
        assert result[H2].send_at == utc(2025, 3, 11, 8, 0)

    def test_late_reminder_is_dropped_when_morning_is_too_close(self) -> None:
        result = plan(utc(2025, 3, 11, 7, 30), now=utc(2025, 3, 10, 23, 0))

        assert {r.skip_reason for r in result.values()} == {SkipReason.TOO_LATE}

    def test_nothing_is_sent_within_the_last_hour(self) -> None:
        result = plan(utc(2025, 3, 11, 10, 0), now=utc(2025, 3, 11, 9, 30))

        assert {r.skip_reason for r in result.values()} == {SkipReason.TOO_LATE}


class TestSkips:
    def test_without_consent_nothing_is_sent(self) -> None:
        result = plan(utc(2025, 3, 11, 10, 0), now=utc(2025, 3, 1), consent=False)

        assert {r.skip_reason for r in result.values()} == {SkipReason.NO_CONSENT}
        assert all(r.send_at is None for r in result.values())

    def test_past_appointment_gets_no_reminder(self) -> None:
        result = plan(utc(2025, 3, 11, 10, 0), now=utc(2025, 3, 11, 10, 0))

        assert {r.skip_reason for r in result.values()} == {SkipReason.APPOINTMENT_PASSED}


class TestIdempotencyKey:
    def test_key_is_stable_across_planning_runs(self) -> None:
        start = utc(2025, 3, 11, 10, 0)
        first = plan(start, now=utc(2025, 3, 1))
        second = plan(start, now=utc(2025, 3, 9, 11, 0))
        assert first[H48].idempotency_key == second[H48].idempotency_key
        assert first[H48].idempotency_key == "reminder:appt-1:sms:2880m:20250311T1000Z"

    def test_key_differs_per_offset_channel_and_start(self) -> None:
        start = utc(2025, 3, 11, 10, 0)
        keys = {
            reminder_idempotency_key("a", H48, "sms", start),
            reminder_idempotency_key("a", H2, "sms", start),
            reminder_idempotency_key("a", H2, "whatsapp", start),
            reminder_idempotency_key("a", H2, "sms", start + timedelta(days=1)),
            reminder_idempotency_key("b", H2, "sms", start),
        }
        assert len(keys) == 5

    def test_key_does_not_depend_on_the_zone_the_start_is_written_in(self) -> None:
        start = utc(2025, 3, 11, 10, 0)
        assert reminder_idempotency_key("a", H2, "sms", start) == reminder_idempotency_key(
            "a", H2, "sms", start.astimezone(PARIS)
        )


class TestPolicyValidation:
    def test_offsets_closer_than_the_spacing_are_refused(self) -> None:
        with pytest.raises(ValidationFailed):
            ReminderPolicy(offsets=(timedelta(hours=3), timedelta(hours=1)))

    def test_offset_shorter_than_the_lead_is_refused(self) -> None:
        with pytest.raises(ValidationFailed):
            ReminderPolicy(offsets=(timedelta(minutes=30),))

    def test_duplicate_offsets_are_refused(self) -> None:
        with pytest.raises(ValidationFailed):
            ReminderPolicy(offsets=(H2, H2))

    def test_all_day_quiet_hours_are_refused(self) -> None:
        with pytest.raises(ValidationFailed):
            ReminderPolicy(quiet_hours=QuietHours(time(8, 0), time(7, 45)))

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            plan_reminders(
                appointment_id="a",
                starts_at=datetime(2025, 3, 11, 10),
                zone=NOUAKCHOTT,
                now=utc(2025, 3, 1),
                consent=True,
            )


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(
    start=instants,
    ahead=st.timedeltas(min_value=timedelta(minutes=-60), max_value=timedelta(days=5)),
    zone=st.sampled_from([NOUAKCHOTT, PARIS, ZoneInfo("America/New_York")]),
)
def test_kept_reminders_respect_every_rule(
    start: datetime, ahead: timedelta, zone: ZoneInfo
) -> None:
    policy = ReminderPolicy()
    assert policy.quiet_hours is not None
    now = start - ahead
    kept = [
        r
        for r in plan_reminders(
            appointment_id="p", starts_at=start, zone=zone, now=now, consent=True
        )
        if r.send_at is not None
    ]
    for reminder in kept:
        assert reminder.send_at is not None
        assert reminder.send_at >= now
        assert reminder.send_at <= start - policy.min_lead
        assert not policy.quiet_hours.contains(reminder.send_at.astimezone(zone).time())
        assert (reminder.status is ReminderStatus.DUE) == (reminder.send_at == now)
    sends = sorted(r.send_at for r in kept if r.send_at is not None)
    assert all(b - a >= policy.min_spacing for a, b in itertools.pairwise(sends))
