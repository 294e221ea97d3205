"""Properties of slot computation on random calendars, in zones with and without DST.

The oracle does not reuse the code under test: it looks at every minute of a slot in
local wall time and checks it against the sessions and closures as written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from afiya.domain.agenda.booking import find_conflicts
from afiya.domain.agenda.intervals import Interval
from afiya.domain.agenda.model import (
    Booking,
    Closure,
    FacilityCalendar,
    Leave,
    Owner,
    Schedule,
    WeeklySession,
)
from afiya.domain.agenda.slots import SlotQuery, compute_slots
from tests.unit.agenda.factories import FACILITY, SERVICE, consultation

ZONES = ["Africa/Nouakchott", "Europe/Paris", "Africa/Casablanca", "America/Santiago"]
# Weeks that contain a daylight-saving change in at least one of the zones.
FIRST_DAYS = [date(2025, 3, 27), date(2025, 10, 23), date(2025, 2, 27), date(2025, 4, 3)]
PRACTITIONERS = ["dr-a", "dr-b"]

minutes_of_day = st.integers(0, 23 * 4).map(lambda q: q * 15)


@st.composite
def sessions(draw: st.DrawFn) -> WeeklySession:
    start = draw(minutes_of_day)
    length = draw(st.integers(2, 24)) * 15
    end = min(start + length, 24 * 60 - 1)
    return WeeklySession(
        draw(st.integers(0, 6)), time(start // 60, start % 60), time(end // 60, end % 60)
    )


@st.composite
def calendars(draw: st.DrawFn) -> tuple[FacilityCalendar, date, datetime]:
    zone_name = draw(st.sampled_from(ZONES))
    first_day = draw(st.sampled_from(FIRST_DAYS))
    base = datetime.combine(first_day, time(0), tzinfo=UTC)
    schedules = tuple(
        Schedule(
            f"s-{p}",
            Owner.practitioner(p),
            FACILITY,
            SERVICE,
            tuple(draw(st.lists(sessions(), min_size=1, max_size=6))),
            first_day - timedelta(days=draw(st.integers(0, 3))),
        )
        for p in PRACTITIONERS
    )

    def span() -> Interval:
        start = base + timedelta(minutes=draw(st.integers(-600, 7 * 24 * 60)))
        return Interval(start, start + timedelta(minutes=draw(st.integers(5, 300))))

    leaves = tuple(
        Leave(f"l{i}", Owner.practitioner(draw(st.sampled_from(PRACTITIONERS))), *_ends(span()))
        for i in range(draw(st.integers(0, 3)))
    )
    bookings = tuple(
        Booking(f"b{i}", draw(st.sampled_from(PRACTITIONERS)), (), span())
        for i in range(draw(st.integers(0, 8)))
    )
    closures = tuple(
        Closure(f"c{i}", FACILITY, first_day + timedelta(days=draw(st.integers(0, 6))))
        for i in range(draw(st.integers(0, 1)))
    )
    kind = consultation(
        duration=timedelta(minutes=draw(st.sampled_from([10, 20, 30, 45]))),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 5]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 10]))),
    )
    cal = FacilityCalendar(
        FACILITY, zone_name, schedules, (), closures, leaves, (), (kind,), bookings
    )
    now = base + timedelta(hours=draw(st.integers(-48, 72)))
    return cal, first_day, now


def _ends(interval: Interval) -> tuple[datetime, datetime]:
    return interval.start, interval.end


def _inside_sessions(cal: FacilityCalendar, practitioner: str, instant: datetime) -> bool:
    zone = ZoneInfo(cal.time_zone)
    local = instant.astimezone(zone)
    if any(c.day == local.date() for c in cal.closures):
        return False
    for schedule in cal.schedules:
        if schedule.owner.id != practitioner or local.date() < schedule.valid_from:
            continue
        for s in schedule.sessions:
            if s.weekday == local.weekday() and s.start <= local.time() < s.end:
                return True
    return False


@settings(max_examples=60, deadline=None)
@given(calendars(), st.sampled_from([5, 15, 30]))
def test_slots_respect_availability_bookings_leave_and_the_window(
    drawn: tuple[FacilityCalendar, date, datetime], step: int
) -> None:
    cal, first_day, now = drawn
    last_day = first_day + timedelta(days=6)
    query = SlotQuery("consult", first_day, last_day, granularity=timedelta(minutes=step))
    slots = compute_slots(cal, query, now)
    kind = cal.appointment_types[0]
    zone = ZoneInfo(cal.time_zone)
    for slot in slots:
        assert slot.starts_at >= now
        assert first_day <= slot.starts_at.astimezone(zone).date() <= last_day
        assert slot.ends_at - slot.starts_at == kind.duration
        minute = slot.starts_at
        while minute < slot.ends_at:  # never outside availability, DST or not
            assert _inside_sessions(cal, slot.practitioner_id, minute), (slot, minute)
            minute += timedelta(minutes=1)
        occupancy = Interval(slot.starts_at - kind.buffer_before, slot.ends_at + kind.buffer_after)
        for leave in cal.leaves:
            if leave.owner.id == slot.practitioner_id:
                assert not occupancy.overlaps(leave.interval)
        candidate = Booking("new", slot.practitioner_id, (), occupancy)
        assert find_conflicts(candidate, cal.bookings) == []
    assert slots == sorted(slots)
    assert len({(s.practitioner_id, s.starts_at) for s in slots}) == len(slots)


@settings(max_examples=40, deadline=None)
@given(calendars())
def test_after_booking_a_slot_no_offered_slot_collides_with_it(
    drawn: tuple[FacilityCalendar, date, datetime],
) -> None:
    cal, first_day, now = drawn
    query = SlotQuery("consult", first_day, first_day + timedelta(days=6))
    slots = compute_slots(cal, query, now)
    if not slots:
        return
    kind = cal.appointment_types[0]
    chosen = slots[len(slots) // 2]
    taken = Booking(
        "taken",
        chosen.practitioner_id,
        (),
        Interval(chosen.starts_at - kind.buffer_before, chosen.ends_at + kind.buffer_after),
    )
    after = compute_slots(
        FacilityCalendar(
            cal.facility_id,
            cal.time_zone,
            cal.schedules,
            (),
            cal.closures,
            cal.leaves,
            (),
            cal.appointment_types,
            (*cal.bookings, taken),
        ),
        query,
        now,
    )
    assert chosen not in after
    assert set(after) <= set(slots)
    for slot in after:
        occupancy = Interval(slot.starts_at - kind.buffer_before, slot.ends_at + kind.buffer_after)
        assert find_conflicts(Booking("x", slot.practitioner_id, (), occupancy), [taken]) == []


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(ZONES), st.sampled_from(FIRST_DAYS), st.integers(6, 14))
def test_a_daily_session_gives_the_same_wall_clock_slots_every_day(
    zone_name: str, first_day: date, hour: int
) -> None:
    daily = tuple(WeeklySession(d, time(hour), time(hour + 2)) for d in range(7))
    cal = FacilityCalendar(
        FACILITY,
        zone_name,
        (Schedule("s", Owner.practitioner("dr-a"), FACILITY, SERVICE, daily, first_day),),
        appointment_types=(consultation(),),
    )
    now = datetime.combine(first_day - timedelta(days=1), time(0), tzinfo=UTC)
    slots = compute_slots(cal, SlotQuery("consult", first_day, first_day + timedelta(days=13)), now)
    zone = ZoneInfo(zone_name)
    per_day: dict[date, list[time]] = {}
    for slot in slots:
        local = slot.starts_at.astimezone(zone)
        per_day.setdefault(local.date(), []).append(local.time())
    assert len(per_day) == 14
    expected = [
        time(hour, 0),
        time(hour, 15),
        time(hour, 30),
        time(hour, 45),
        time(hour + 1, 0),
        time(hour + 1, 15),
        time(hour + 1, 30),
    ]
    assert all(times == expected for times in per_day.values()), per_day
