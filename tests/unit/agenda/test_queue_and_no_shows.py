"""Queue of the day (order, emergencies, estimated waits) and no-show statistics."""

from __future__ import annotations

from datetime import timedelta

from afiya.domain.agenda.appointments import (
    Action,
    Actor,
    ActorKind,
    AppointmentStatus,
    apply_action,
)
from afiya.domain.agenda.no_shows import no_show_stats
from afiya.domain.agenda.queue import (
    PractitionerState,
    Priority,
    QueueEntry,
    estimate_waits,
    queue_order,
    typical_duration,
)
from tests.unit.agenda.factories import MONDAY, appointment, utc

M15, M20 = timedelta(minutes=15), timedelta(minutes=20)


def entry(ticket: str, hour: int, minute: int = 0, **changes: object) -> QueueEntry:
    values: dict[str, object] = {
        "ticket": ticket,
        "patient_id": f"pat-{ticket}",
        "arrived_at": utc(MONDAY, hour, minute),
        "expected_duration": M15,
    }
    values.update(changes)
    return QueueEntry(**values)  # type: ignore[arg-type]


class TestOrder:
    def test_walk_ins_are_seen_in_arrival_order_emergencies_first(self) -> None:
        entries = [
            entry("A", 8, 0),
            entry("B", 8, 5),
            entry("C", 8, 30, priority=Priority.EMERGENCY),
            entry("D", 8, 20, priority=Priority.URGENT),
        ]
        assert [e.ticket for e in queue_order(entries)] == ["C", "D", "A", "B"]

    def test_an_early_appointment_keeps_its_time_a_late_one_queues_at_arrival(self) -> None:
        early = entry("E", 8, 0, appointment_start=utc(MONDAY, 10))
        late = entry("L", 9, 40, appointment_start=utc(MONDAY, 9))
        walk_in = entry("W", 8, 30)
        assert [e.ticket for e in queue_order([early, late, walk_in])] == ["W", "L", "E"]


class TestEstimatedWait:
    def test_one_practitioner_busy_for_ten_minutes(self) -> None:
        now = utc(MONDAY, 9)
        positions = estimate_waits(
            [entry("A", 8, 50), entry("B", 8, 55, expected_duration=M20), entry("C", 8, 58)],
            [PractitionerState("dr-a", busy_until=now + timedelta(minutes=10))],
            now=now,
        )
        assert [(p.entry.ticket, p.position, p.estimated_wait) for p in positions] == [
            ("A", 1, timedelta(minutes=10)),
            ("B", 2, timedelta(minutes=25)),
            ("C", 3, timedelta(minutes=45)),
        ]

    def test_two_practitioners_share_walk_ins_but_not_named_patients(self) -> None:
        now = utc(MONDAY, 9)
        positions = estimate_waits(
            [
                entry("A", 8, 50, practitioner_id="dr-a"),
                entry("B", 8, 51, practitioner_id="dr-a"),
                entry("C", 8, 52),
                entry("D", 8, 53, practitioner_id="dr-z"),
            ],
            [PractitionerState("dr-a"), PractitionerState("dr-b")],
            now=now,
        )
        by_ticket = {p.entry.ticket: p for p in positions}
        assert by_ticket["B"].estimated_wait == M15 and by_ticket["B"].practitioner_id == "dr-a"
        assert (
            by_ticket["C"].estimated_wait == timedelta(0)
            and by_ticket["C"].practitioner_id == "dr-b"
        )
        assert by_ticket["D"].estimated_start is None  # dr-z is not here today

    def test_typical_duration_is_the_median_with_enough_samples(self) -> None:
        samples = [timedelta(minutes=m) for m in (10, 12, 14, 16, 240)]
        assert typical_duration(samples, default=M20) == timedelta(minutes=14)
        assert typical_duration(samples[:3], default=M20) == M20


class TestNoShowStatistics:
    def test_rate_streak_and_flag(self) -> None:
        now = utc(MONDAY + timedelta(days=60), 12)
        history = [
            appointment(utc(MONDAY, 9), appointment_id="1", status=AppointmentStatus.COMPLETED),
            appointment(
                utc(MONDAY + timedelta(days=7), 9),
                appointment_id="2",
                status=AppointmentStatus.NO_SHOW,
            ),
            appointment(
                utc(MONDAY + timedelta(days=14), 9),
                appointment_id="3",
                status=AppointmentStatus.NO_SHOW,
            ),
            appointment(utc(MONDAY + timedelta(days=21), 9), appointment_id="4"),  # not marked
            appointment(utc(MONDAY + timedelta(days=90), 9), appointment_id="5"),  # future
            appointment(
                utc(MONDAY, 9),
                appointment_id="6",
                patient="pat-2",
                status=AppointmentStatus.ARRIVED,
            ),
        ]
        stats = no_show_stats(history, now=now)
        mine = stats["pat-1"]
        assert (mine.counted, mine.attended, mine.no_shows, mine.streak) == (3, 1, 2, 2)
        assert mine.rate == 2 / 3 and mine.frequent
        assert mine.last_no_show_at == utc(MONDAY + timedelta(days=14), 9)
        assert not stats["pat-2"].frequent and stats["pat-2"].rate == 0.0

    def test_old_appointments_fall_out_of_the_window_and_late_cancellations_count_apart(
        self,
    ) -> None:
        start = utc(MONDAY, 9)
        cancelled = apply_action(
            appointment(start, appointment_id="c"),
            Action.CANCEL,
            actor=Actor(ActorKind.PATIENT, "pat-1"),
            now=start - timedelta(hours=3),
        )
        old = appointment(
            start - timedelta(days=400), appointment_id="o", status=AppointmentStatus.NO_SHOW
        )
        stats = no_show_stats([cancelled, old], now=start + timedelta(days=1))["pat-1"]
        assert (stats.counted, stats.no_shows, stats.late_cancellations) == (0, 0, 1)
        assert not stats.frequent
