"""Slot computation and the check of one requested start."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from afiya.domain.agenda.errors import UnknownAppointmentType
from afiya.domain.agenda.intervals import Interval
from afiya.domain.agenda.model import Booking, Leave, LeaveKind, Owner
from afiya.domain.agenda.slots import (
    SlotProblem,
    SlotQuery,
    check_slot,
    compute_slots,
    parse_slot_key,
)
from afiya.domain.shared.errors import ValidationFailed
from tests.unit.agenda.factories import (
    MONDAY,
    calendar,
    consultation,
    room,
    schedule,
    utc,
    weekdays,
)

NOW = utc(MONDAY - timedelta(days=7), 9)
DAY = SlotQuery("consult", MONDAY, MONDAY)


def starts(slots: list) -> list[str]:  # type: ignore[type-arg]
    return [s.starts_at.strftime("%H:%M") for s in slots]


def booking(
    start: datetime, minutes: int = 30, *, who: str = "dr-a", rooms: tuple[str, ...] = ()
) -> Booking:
    return Booking(
        f"b-{start:%H%M}-{who}", who, rooms, Interval(start, start + timedelta(minutes=minutes))
    )


class TestGrid:
    def test_a_morning_gives_thirty_minute_visits_on_a_quarter_hour_grid(self) -> None:
        slots = compute_slots(calendar(), DAY, NOW)
        assert starts(slots)[:3] == ["08:00", "08:15", "08:30"]
        assert starts(slots)[-1] == "11:30"  # 11:30-12:00 ends with the session
        assert len(slots) == 15

    def test_slots_of_several_practitioners_are_sorted_by_time(self) -> None:
        cal = calendar(schedules=(schedule("dr-b"), schedule("dr-a")))
        slots = compute_slots(cal, replace(DAY, granularity=timedelta(hours=1)), NOW)
        assert [(s.starts_at.hour, s.practitioner_id) for s in slots[:4]] == [
            (8, "dr-a"),
            (8, "dr-b"),
            (9, "dr-a"),
            (9, "dr-b"),
        ]

    def test_limit_and_practitioner_filter(self) -> None:
        cal = calendar(schedules=(schedule("dr-b"), schedule("dr-a")))
        query = replace(DAY, practitioner_ids=frozenset({"dr-b"}), limit=2)
        slots = compute_slots(cal, query, NOW)
        assert [s.practitioner_id for s in slots] == ["dr-b", "dr-b"]

    def test_no_slot_before_now_plus_notice_and_grid_stays_anchored(self) -> None:
        cal = calendar(appointment_types=(consultation(min_notice=timedelta(hours=1)),))
        slots = compute_slots(cal, DAY, utc(MONDAY, 9, 5))
        assert starts(slots)[0] == "10:15"

    def test_no_slot_beyond_the_booking_horizon(self) -> None:
        cal = calendar(appointment_types=(consultation(max_advance=timedelta(days=3)),))
        assert compute_slots(cal, DAY, NOW) == []

    def test_unknown_type_is_not_found(self) -> None:
        with pytest.raises(UnknownAppointmentType):
            compute_slots(calendar(), replace(DAY, appointment_type_id="nope"), NOW)

    def test_query_validation(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            SlotQuery("consult", MONDAY, MONDAY - timedelta(days=1), granularity=timedelta(0))
        assert {e.field for e in caught.value.errors} == {"last_day", "granularity"}


class TestBookingsLeaveAndBuffers:
    def test_a_booking_removes_the_slots_it_overlaps_only(self) -> None:
        cal = calendar(bookings=(booking(utc(MONDAY, 9)),))
        got = starts(compute_slots(cal, DAY, NOW))
        assert "08:30" in got and "09:30" in got
        assert {"08:45", "09:00", "09:15"}.isdisjoint(got)

    def test_buffers_keep_a_gap_around_each_booking(self) -> None:
        kind = consultation(buffer_before=timedelta(minutes=5), buffer_after=timedelta(minutes=10))
        cal = calendar(appointment_types=(kind,), bookings=(booking(utc(MONDAY, 9)),))
        got = starts(compute_slots(cal, DAY, NOW))
        # 08:30-09:00 would need 09:00-09:10 free; 09:30 would need 09:25 free.
        assert "08:15" in got and "08:30" not in got
        assert "09:30" not in got and "09:45" in got

    def test_buffers_may_spill_outside_the_session(self) -> None:
        kind = consultation(buffer_after=timedelta(minutes=15))
        got = starts(compute_slots(calendar(appointment_types=(kind,)), DAY, NOW))
        assert got[0] == "08:00" and got[-1] == "11:30"

    def test_leave_removes_slots_and_a_booking_elsewhere_too(self) -> None:
        leave = Leave(
            "l1", Owner.practitioner("dr-a"), utc(MONDAY, 10), utc(MONDAY, 23), LeaveKind.MISSION
        )
        elsewhere = replace(booking(utc(MONDAY, 8)), appointment_id="at-district-hospital")
        cal = calendar(leaves=(leave,), bookings=(elsewhere,))
        assert starts(compute_slots(cal, DAY, NOW)) == ["08:30", "08:45", "09:00", "09:15", "09:30"]

    def test_an_ignored_booking_does_not_block(self) -> None:
        cal = calendar(bookings=(booking(utc(MONDAY, 8)),))
        query = replace(DAY, ignore_appointment_ids=frozenset({"b-0800-dr-a"}))
        assert starts(compute_slots(cal, query, NOW))[0] == "08:00"


class TestResources:
    def test_a_required_room_must_be_open_and_free(self) -> None:
        kind = consultation(resource_categories=("consultation_room",))
        room_hours = schedule("room-1", weekdays(time(9), time(11)), resource=True)
        cal = calendar(
            appointment_types=(kind,),
            resources=(room(),),
            schedules=(schedule(), room_hours),
            bookings=(booking(utc(MONDAY, 10), who="dr-b", rooms=("room-1",)),),
        )
        slots = compute_slots(cal, DAY, NOW)
        assert starts(slots) == ["09:00", "09:15", "09:30", "10:30"]
        assert {s.resource_ids for s in slots} == {("room-1",)}

    def test_the_second_room_is_used_when_the_first_is_taken(self) -> None:
        kind = consultation(resource_categories=("consultation_room",))
        cal = calendar(
            appointment_types=(kind,),
            resources=(room("room-1"), room("room-2")),
            schedules=(
                schedule(),
                schedule("room-1", resource=True),
                schedule("room-2", resource=True),
            ),
            bookings=(booking(utc(MONDAY, 8), who="dr-b", rooms=("room-1",)),),
        )
        first = compute_slots(cal, DAY, NOW)[0]
        assert first.starts_at == utc(MONDAY, 8) and first.resource_ids == ("room-2",)

    def test_no_room_of_the_category_means_no_slot(self) -> None:
        kind = consultation(resource_categories=("ultrasound",))
        assert (
            compute_slots(calendar(appointment_types=(kind,), resources=(room(),)), DAY, NOW) == []
        )


class TestCheckSlot:
    def test_a_free_start_off_the_grid_is_accepted(self) -> None:
        assert check_slot(
            calendar(),
            appointment_type_id="consult",
            practitioner_id="dr-a",
            starts_at=utc(MONDAY, 9, 10),
            now=NOW,
        ).free

    def test_every_problem_is_reported(self) -> None:
        leave = Leave("l1", Owner.practitioner("dr-a"), utc(MONDAY, 11, 50), utc(MONDAY, 13))
        kind = consultation(resource_categories=("ecg",))
        cal = calendar(
            leaves=(leave,),
            appointment_types=(kind,),
            bookings=(booking(utc(MONDAY, 11, 30)),),
        )
        verdict = check_slot(
            cal,
            appointment_type_id="consult",
            practitioner_id="dr-a",
            starts_at=utc(MONDAY, 11, 45),
            now=NOW,
        )
        assert set(verdict.problems) == {
            SlotProblem.OUTSIDE_AVAILABILITY,
            SlotProblem.PRACTITIONER_ON_LEAVE,
            SlotProblem.PRACTITIONER_BOOKED,
            SlotProblem.RESOURCE_UNAVAILABLE,
        }

    def test_past_and_notice(self) -> None:
        cal = calendar(appointment_types=(consultation(min_notice=timedelta(hours=2)),))
        args = {"appointment_type_id": "consult", "practitioner_id": "dr-a"}
        now = utc(MONDAY, 9)
        assert check_slot(cal, starts_at=utc(MONDAY, 8), now=now, **args).problems == (
            SlotProblem.IN_THE_PAST,
        )
        assert check_slot(cal, starts_at=utc(MONDAY, 10), now=now, **args).problems == (
            SlotProblem.TOO_SOON,
        )
        assert check_slot(
            cal, starts_at=utc(MONDAY, 10), now=now, enforce_notice=False, **args
        ).free


class TestSlotKey:
    def test_the_key_round_trips(self) -> None:
        slot = compute_slots(calendar(), DAY, NOW)[0]
        assert parse_slot_key(slot.key) == ("dr-a", "consult", datetime(2025, 3, 10, 8, tzinfo=UTC))

    @pytest.mark.parametrize(
        "key", ["", "dr-a|consult", "dr-a|consult|2025-03-10", "|consult|20250310T0800Z"]
    )
    def test_a_bad_key_is_a_validation_error(self, key: str) -> None:
        with pytest.raises(ValidationFailed):
            parse_slot_key(key)
