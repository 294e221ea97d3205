"""Booking, the overlap rule between appointments, rescheduling and its options."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.agenda.appointments import Actor, ActorKind, AppointmentStatus, BookingChannel
from afiya.domain.agenda.booking import (
    BookingConflict,
    BookingRequest,
    ConflictKind,
    book,
    find_conflicts,
    reschedule,
    rescheduling_options,
)
from afiya.domain.agenda.errors import ActorNotAllowed, SlotUnavailable, TooEarlyOrTooLate
from afiya.domain.agenda.intervals import Interval
from afiya.domain.agenda.model import Booking, FacilityCalendar
from tests.unit.agenda.factories import (
    MONDAY,
    RECEPTION,
    appointment,
    calendar,
    consultation,
    room,
    schedule,
    utc,
)

NOW = utc(MONDAY - timedelta(days=2), 9)
PATIENT = Actor(ActorKind.PATIENT, "pat-1")


def request(start: datetime, **changes: object) -> BookingRequest:
    values: dict[str, object] = {
        "appointment_id": "appt-new",
        "patient_id": "pat-1",
        "practitioner_id": "dr-a",
        "appointment_type_id": "consult",
        "starts_at": start,
        "actor": RECEPTION,
    }
    values.update(changes)
    return BookingRequest(**values)  # type: ignore[arg-type]


def with_bookings(cal: FacilityCalendar, *appointments: object) -> FacilityCalendar:
    from dataclasses import replace

    return replace(cal, bookings=tuple(a.as_booking() for a in appointments))  # type: ignore[attr-defined]


class TestOverlapRule:
    base = Booking("a", "dr-a", ("room-1",), Interval(utc(MONDAY, 9), utc(MONDAY, 9, 30)))

    def test_back_to_back_appointments_do_not_conflict(self) -> None:
        after = Booking("b", "dr-a", ("room-1",), Interval(utc(MONDAY, 9, 30), utc(MONDAY, 10)))
        assert find_conflicts(after, [self.base]) == []

    def test_same_practitioner_or_same_room_conflicts(self) -> None:
        other_doctor_same_room = Booking(
            "b", "dr-b", ("room-1",), Interval(utc(MONDAY, 9, 15), utc(MONDAY, 9, 45))
        )
        same_doctor_other_room = Booking(
            "c", "dr-a", ("room-2",), Interval(utc(MONDAY, 9, 15), utc(MONDAY, 9, 45))
        )
        assert find_conflicts(other_doctor_same_room, [self.base]) == [
            BookingConflict(ConflictKind.RESOURCE, "a", "room-1")
        ]
        assert find_conflicts(same_doctor_other_room, [self.base]) == [
            BookingConflict(ConflictKind.PRACTITIONER, "a")
        ]

    def test_an_appointment_never_conflicts_with_itself(self) -> None:
        assert find_conflicts(self.base, [self.base]) == []

    @given(st.integers(-120, 120), st.integers(1, 90), st.integers(1, 90))
    def test_conflict_iff_minutes_are_shared(
        self, offset: int, length_a: int, length_b: int
    ) -> None:
        start = utc(MONDAY, 9)
        a = Booking("a", "dr-a", (), Interval(start, start + timedelta(minutes=length_a)))
        b_start = start + timedelta(minutes=offset)
        b = Booking("b", "dr-a", (), Interval(b_start, b_start + timedelta(minutes=length_b)))
        shared = set(range(0, length_a)) & set(range(offset, offset + length_b))
        assert bool(find_conflicts(b, [a])) == bool(shared)
        assert bool(find_conflicts(a, [b])) == bool(shared)


class TestBook:
    def test_a_free_start_is_booked_with_the_type_duration_and_buffers(self) -> None:
        cal = calendar(appointment_types=(consultation(buffer_after=timedelta(minutes=10)),))
        appt = book(cal, request(utc(MONDAY, 9)), now=NOW)
        assert appt.status is AppointmentStatus.BOOKED
        assert appt.interval == Interval(utc(MONDAY, 9), utc(MONDAY, 9, 30))
        assert appt.occupancy.end == utc(MONDAY, 9, 40)
        assert appt.booked_by == RECEPTION and appt.booked_at == NOW

    def test_double_booking_the_practitioner_is_refused(self) -> None:
        cal = calendar()
        first = book(cal, request(utc(MONDAY, 9), appointment_id="first"), now=NOW)
        with pytest.raises(SlotUnavailable) as caught:
            book(with_bookings(cal, first), request(utc(MONDAY, 9, 15)), now=NOW)
        assert caught.value.details["problems"] == ["practitioner_booked"]
        assert caught.value.code == "slot_unavailable"

    def test_the_room_is_picked_and_then_blocks_a_colleague(self) -> None:
        kind = consultation(resource_categories=("consultation_room",))
        cal = calendar(
            appointment_types=(kind,),
            resources=(room(),),
            schedules=(schedule(), schedule("dr-b"), schedule("room-1", resource=True)),
        )
        first = book(cal, request(utc(MONDAY, 9)), now=NOW)
        assert first.resource_ids == ("room-1",)
        with pytest.raises(SlotUnavailable) as caught:
            book(
                with_bookings(cal, first),
                request(utc(MONDAY, 9), practitioner_id="dr-b", appointment_id="x"),
                now=NOW,
            )
        assert caught.value.details["problems"] == ["resource_unavailable"]

    def test_patients_book_only_for_themselves_and_only_self_bookable_types(self) -> None:
        with pytest.raises(ActorNotAllowed):
            book(
                calendar(),
                request(utc(MONDAY, 9), actor=Actor(ActorKind.PATIENT, "pat-9")),
                now=NOW,
            )
        staff_only = calendar(appointment_types=(consultation(self_bookable=False),))
        with pytest.raises(ActorNotAllowed):
            book(
                staff_only,
                request(utc(MONDAY, 9), actor=PATIENT, channel=BookingChannel.USSD),
                now=NOW,
            )

    def test_minimum_notice_binds_patients_not_the_desk(self) -> None:
        cal = calendar(appointment_types=(consultation(min_notice=timedelta(hours=4)),))
        now = utc(MONDAY, 8)
        with pytest.raises(SlotUnavailable):
            book(cal, request(utc(MONDAY, 9), actor=PATIENT), now=now)
        assert book(cal, request(utc(MONDAY, 9)), now=now).status is AppointmentStatus.BOOKED


class TestReschedule:
    def test_moving_to_an_overlapping_later_time_is_allowed(self) -> None:
        cal = calendar()
        old = book(cal, request(utc(MONDAY, 9), appointment_id="old"), now=NOW)
        closed, moved = reschedule(
            with_bookings(cal, old),
            old,
            new_appointment_id="new",
            starts_at=utc(MONDAY, 9, 15),
            actor=RECEPTION,
            now=NOW,
        )
        assert closed.status is AppointmentStatus.RESCHEDULED
        assert closed.rescheduled_to_id == "new" and moved.rescheduled_from_id == "old"
        assert moved.status is AppointmentStatus.BOOKED and moved.starts_at == utc(MONDAY, 9, 15)

    def test_a_patient_choosing_the_new_time_confirms_it(self) -> None:
        cal = calendar()
        old = book(cal, request(utc(MONDAY, 9), appointment_id="old"), now=NOW)
        _, moved = reschedule(
            with_bookings(cal, old),
            old,
            new_appointment_id="new",
            starts_at=utc(MONDAY + timedelta(days=1), 8),
            actor=PATIENT,
            now=NOW,
            channel=BookingChannel.SMS,
        )
        assert moved.status is AppointmentStatus.CONFIRMED and moved.channel is BookingChannel.SMS

    def test_rescheduling_onto_another_booking_or_too_late_fails(self) -> None:
        cal = calendar()
        old = book(cal, request(utc(MONDAY, 9), appointment_id="old"), now=NOW)
        other = appointment(utc(MONDAY, 10), appointment_id="other", patient="pat-2")
        busy = with_bookings(cal, old, other)
        with pytest.raises(SlotUnavailable):
            reschedule(
                busy,
                old,
                new_appointment_id="new",
                starts_at=utc(MONDAY, 10),
                actor=RECEPTION,
                now=NOW,
            )
        with pytest.raises(TooEarlyOrTooLate):
            reschedule(
                busy,
                old,
                new_appointment_id="new",
                starts_at=utc(MONDAY, 11),
                actor=PATIENT,
                now=utc(MONDAY, 8),
            )


class TestReschedulingOptions:
    def test_the_next_free_slots_skip_the_current_time_and_other_bookings(self) -> None:
        cal = calendar()
        mine = appointment(utc(MONDAY, 8), appointment_id="mine")
        other = appointment(utc(MONDAY, 8, 30), appointment_id="other", patient="pat-2")
        options = rescheduling_options(
            with_bookings(cal, mine, other), mine, now=utc(MONDAY, 7), count=3
        )
        assert [o.starts_at for o in options] == [
            utc(MONDAY, 9),
            utc(MONDAY, 9, 15),
            utc(MONDAY, 9, 30),
        ]
        # 08:00 is free only because "mine" would leave it: it is not offered back, and
        # 08:15 overlaps "other" once "mine" is gone.

    def test_any_practitioner_when_asked(self) -> None:
        cal = calendar(
            schedules=(schedule("dr-a", valid_until=MONDAY - timedelta(days=1)), schedule("dr-b"))
        )
        mine = appointment(utc(MONDAY, 8), appointment_id="mine")
        assert rescheduling_options(cal, mine, now=utc(MONDAY, 7)) == []
        options = rescheduling_options(
            cal, mine, now=utc(MONDAY, 7), same_practitioner=False, count=1
        )
        assert [(o.practitioner_id, o.starts_at) for o in options] == [("dr-b", utc(MONDAY, 8))]
