"""Availability: weekly schedules, validity, alternate weeks, extra sessions, closures, DST."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from afiya.domain.agenda.availability import owner_availability
from afiya.domain.agenda.intervals import Interval
from afiya.domain.agenda.model import (
    AppointmentType,
    Closure,
    ExtraSession,
    Leave,
    Owner,
    Schedule,
    WeeklySession,
)
from afiya.domain.shared.errors import ValidationFailed
from tests.unit.agenda.factories import FACILITY, MONDAY, SERVICE, schedule, utc, weekdays

NKC = ZoneInfo("Africa/Nouakchott")
DR_A = Owner.practitioner("dr-a")


def available(
    schedules: list[Schedule],
    first: date = MONDAY,
    last: date = MONDAY + timedelta(days=6),
    *,
    extras: tuple[ExtraSession, ...] = (),
    closures: tuple[Closure, ...] = (),
    zone: ZoneInfo = NKC,
    type_id: str | None = None,
) -> list[Interval]:
    return owner_availability(
        owner=DR_A,
        facility_id=FACILITY,
        service_id=SERVICE,
        appointment_type_id=type_id,
        schedules=schedules,
        extra_sessions=extras,
        closures=closures,
        first_day=first,
        last_day=last,
        zone=zone,
    )


class TestWeeklySchedules:
    def test_weekday_mornings_give_five_sessions_a_week(self) -> None:
        result = available([schedule()])
        assert len(result) == 5
        assert result[0] == Interval(utc(MONDAY, 8), utc(MONDAY, 12))
        assert {i.start.weekday() for i in result} == set(range(5))

    def test_validity_dates_are_inclusive(self) -> None:
        wednesday = MONDAY + timedelta(days=2)
        result = available([schedule(valid_from=MONDAY + timedelta(days=1), valid_until=wednesday)])
        assert [i.start.date() for i in result] == [MONDAY + timedelta(days=1), wednesday]

    def test_a_new_schedule_takes_over_from_its_start_date(self) -> None:
        old = schedule(valid_until=MONDAY + timedelta(days=1))
        new = schedule(sessions=weekdays(time(14), time(17)), valid_from=MONDAY + timedelta(days=2))
        result = available([old, new])
        assert [i.start.hour for i in result] == [8, 8, 14, 14, 14]

    def test_every_other_week_counts_from_the_week_of_valid_from(self) -> None:
        fortnightly = schedule(
            sessions=(WeeklySession(1, time(9), time(13)),), valid_from=MONDAY, every_weeks=2
        )
        result = available([fortnightly], MONDAY, MONDAY + timedelta(days=27))
        assert [i.start.date() for i in result] == [
            MONDAY + timedelta(days=1),
            MONDAY + timedelta(days=15),
        ]

    def test_sessions_of_another_service_or_type_are_left_out(self) -> None:
        other = schedule(service="maternity")
        anc_only = schedule(types=frozenset({"anc"}))
        assert available([other]) == []
        assert available([anc_only], type_id="consult") == []
        assert len(available([anc_only], type_id="anc")) == 5

    def test_a_night_session_starting_the_day_before_counts_after_midnight(self) -> None:
        night = schedule(sessions=(WeeklySession(6, time(20), time(8)),))  # Sunday night
        result = available([night], MONDAY, MONDAY)
        assert result == [Interval(utc(MONDAY - timedelta(days=1), 20), utc(MONDAY, 8))]

    def test_two_touching_sessions_form_one_stretch(self) -> None:
        split = schedule(
            sessions=(WeeklySession(0, time(8), time(10)), WeeklySession(0, time(10), time(12)))
        )
        assert available([split], MONDAY, MONDAY) == [Interval(utc(MONDAY, 8), utc(MONDAY, 12))]


class TestExceptions:
    def test_an_extra_saturday_session_is_added(self) -> None:
        saturday = MONDAY + timedelta(days=5)
        extra = ExtraSession("x1", DR_A, FACILITY, SERVICE, saturday, time(9), time(11))
        result = available([schedule()], extras=(extra,))
        assert result[-1] == Interval(utc(saturday, 9), utc(saturday, 11))

    def test_a_facility_holiday_closes_everyone(self) -> None:
        holiday = Closure("c1", FACILITY, MONDAY, reason="Tabaski")
        assert len(available([schedule()], closures=(holiday,))) == 4

    def test_a_closure_of_another_facility_or_practitioner_is_ignored(self) -> None:
        elsewhere = Closure("c1", "cs-other", MONDAY)
        colleague = Closure("c2", FACILITY, MONDAY, owner=Owner.practitioner("dr-b"))
        assert len(available([schedule()], closures=(elsewhere, colleague))) == 5

    def test_a_partial_closure_cuts_the_session(self) -> None:
        staff_meeting = Closure("c1", FACILITY, MONDAY, owner=DR_A, start=time(9), end=time(10))
        result = available([schedule()], MONDAY, MONDAY, closures=(staff_meeting,))
        assert result == [
            Interval(utc(MONDAY, 8), utc(MONDAY, 9)),
            Interval(utc(MONDAY, 10), utc(MONDAY, 12)),
        ]


class TestDaylightSaving:
    def test_monday_eight_oclock_stays_eight_oclock_on_the_wall(self) -> None:
        paris = ZoneInfo("Europe/Paris")
        result = available([schedule()], date(2025, 3, 24), date(2025, 4, 4), zone=paris)
        local_starts = {i.start.astimezone(paris).time() for i in result}
        assert local_starts == {time(8)}
        utc_hours = sorted({i.start.hour for i in result})
        assert utc_hours == [6, 7]  # CET then CEST


class TestValidation:
    def test_a_schedule_reports_every_problem_at_once(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            Schedule(
                "s", DR_A, FACILITY, SERVICE, (), date(2025, 2, 1), date(2025, 1, 1), every_weeks=0
            )
        assert {e.field for e in caught.value.errors} == {"sessions", "valid_until", "every_weeks"}

    def test_a_session_needs_a_weekday_and_a_length(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            WeeklySession(7, time(8), time(8))
        assert {e.field for e in caught.value.errors} == {"weekday", "end"}

    def test_leave_must_end_after_it_starts(self) -> None:
        with pytest.raises(ValidationFailed):
            Leave("l1", DR_A, utc(MONDAY, 10), utc(MONDAY, 9))

    def test_appointment_type_rejects_zero_duration_and_negative_buffers(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            AppointmentType(
                "t", SERVICE, "T", "T", timedelta(0), buffer_after=timedelta(minutes=-5)
            )
        assert {e.field for e in caught.value.errors} == {"duration", "buffer_before"}

    def test_a_partial_closure_needs_both_ends(self) -> None:
        with pytest.raises(ValidationFailed):
            Closure("c", FACILITY, MONDAY, start=time(9))
