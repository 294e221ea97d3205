"""Slot computation for a facility with 30 practitioners over 4 weeks.

Run: ``.venv/bin/python benchmarks/agenda_slots.py``. Bounded: one synthetic facility
(30 practitioners on weekday mornings and afternoons, 12 consultation rooms, about half
of the time already booked, a week of leave for three practitioners, one holiday), each
case timed 5 times; prints the best and median wall time.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall

from afiya.domain.agenda.intervals import Interval
from afiya.domain.agenda.model import (
    AppointmentType,
    Booking,
    Closure,
    FacilityCalendar,
    Leave,
    Owner,
    Resource,
    ResourceKind,
    Schedule,
    WeeklySession,
)
from afiya.domain.agenda.slots import SlotQuery, compute_slots

FIRST_DAY = date(2025, 3, 3)
DAYS = 28
PRACTITIONERS = 30
ROOMS = 12
REPEATS = 5


def build(with_rooms: bool) -> FacilityCalendar:
    rng = random.Random(7)
    sessions = tuple(
        WeeklySession(d, start, end)
        for d in range(5)
        for start, end in ((wall(8), wall(12, 30)), (wall(14), wall(17)))
    )
    doctors = [f"dr-{i:02d}" for i in range(PRACTITIONERS)]
    rooms = [f"room-{i:02d}" for i in range(ROOMS)]
    schedules = [
        Schedule(f"s-{d}", Owner.practitioner(d), "cs", "general", sessions, FIRST_DAY)
        for d in doctors
    ]
    if with_rooms:
        schedules += [
            Schedule(f"s-{r}", Owner.resource(r), "cs", "general", sessions, FIRST_DAY)
            for r in rooms
        ]
    bookings: list[Booking] = []
    for day_index in range(DAYS):
        day = FIRST_DAY + timedelta(days=day_index)
        if day.weekday() >= 5:
            continue
        for n, doctor in enumerate(doctors):
            for half_hour in range(15):  # ~half of the 15 visits a doctor could see
                if rng.random() < 0.5:
                    hour = 8 + half_hour // 2 if half_hour < 9 else 14 + (half_hour - 9) // 2
                    start = datetime(
                        day.year, day.month, day.day, hour, 30 * (half_hour % 2), tzinfo=UTC
                    )
                    used = (rooms[(n + half_hour) % ROOMS],) if with_rooms else ()
                    bookings.append(
                        Booking(
                            f"b{len(bookings)}",
                            doctor,
                            used,
                            Interval(start, start + timedelta(minutes=30)),
                        )
                    )
    leaves = [
        Leave(
            f"l{i}",
            Owner.practitioner(doctors[i]),
            datetime(2025, 3, 10, tzinfo=UTC),
            datetime(2025, 3, 15, tzinfo=UTC),
        )
        for i in range(3)
    ]
    kind = AppointmentType(
        "consult",
        "general",
        "CPC",
        "Consultation",
        timedelta(minutes=30),
        buffer_after=timedelta(minutes=5),
        resource_categories=("consultation_room",) if with_rooms else (),
    )
    return FacilityCalendar(
        "cs",
        "Africa/Nouakchott",
        tuple(schedules),
        (),
        (Closure("holiday", "cs", date(2025, 3, 31), "Korité"),),
        tuple(leaves),
        tuple(Resource(r, "cs", ResourceKind.ROOM, "consultation_room", r) for r in rooms)
        if with_rooms
        else (),
        (kind,),
        tuple(bookings),
    )


def timed(function: Callable[[], object]) -> tuple[float, float, object]:
    runs, result = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - started)
    return min(runs), statistics.median(runs), result


def main() -> None:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    print(f"{'case':48} {'bookings':>8} {'slots':>7} {'best ms':>8} {'median ms':>10}")
    for with_rooms in (False, True):
        calendar = build(with_rooms)
        for granularity, limit in ((15, None), (5, None), (15, 3)):
            query = SlotQuery(
                "consult",
                FIRST_DAY,
                FIRST_DAY + timedelta(days=DAYS - 1),
                granularity=timedelta(minutes=granularity),
                limit=limit,
            )
            best, median, slots = timed(lambda q=query, c=calendar: compute_slots(c, q, now))
            name = (
                f"30 dr x 4 weeks, {granularity}-min grid"
                f"{', 12 rooms' if with_rooms else ''}{', first 3' if limit else ''}"
            )
            count = len(slots) if isinstance(slots, list) else 0
            print(
                f"{name:48} {len(calendar.bookings):>8} {count:>7} "
                f"{best * 1000:>8.1f} {median * 1000:>10.1f}"
            )


if __name__ == "__main__":
    main()
