"""The waiting queue of the day: who is seen next, and roughly when. Pure rules.

**Order.** Emergencies first, then urgent cases, then everyone else. Within a priority,
patients are seen in order of their *queue time*: the arrival time for walk-ins, and for
patients with an appointment the later of their arrival and their appointment start. A
patient who arrives at 08:00 for 10:00 keeps the 10:00 place and does not overtake the
walk-ins who came at 08:30; one who is late is placed at their arrival. Ties are broken
by arrival, then by ticket.

**Estimated wait.** A list-scheduling simulation: each present practitioner is free at
``now`` or when their current consultation should end; entries are taken in queue order
and each goes to the practitioner it waits for, or (no preference) to whoever is free
first. An entry's estimated start is when its practitioner becomes free. Expected
durations come from the appointment type, or from :func:`typical_duration` of recent
consultations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from statistics import median

from afiya.domain.agenda.intervals import require_aware


class Priority(IntEnum):
    """Lower is seen first."""

    EMERGENCY = 0
    URGENT = 1
    NORMAL = 2


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A patient waiting today.

    Attributes:
        ticket: the queue ticket id (printed or called out).
        practitioner_id: the one they wait for; ``None`` = any practitioner present.
        appointment_start: their appointment's start, ``None`` for a walk-in.
    """

    ticket: str
    patient_id: str
    arrived_at: datetime
    expected_duration: timedelta
    priority: Priority = Priority.NORMAL
    practitioner_id: str | None = None
    appointment_id: str | None = None
    appointment_start: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "arrived_at", require_aware("arrived_at", self.arrived_at))
        if self.appointment_start is not None:
            start = require_aware("appointment_start", self.appointment_start)
            object.__setattr__(self, "appointment_start", start)
        if self.expected_duration <= timedelta(0):
            raise ValueError("expected_duration must be positive")

    @property
    def queue_time(self) -> datetime:
        if self.appointment_start is None:
            return self.arrived_at
        return max(self.arrived_at, self.appointment_start)


@dataclass(frozen=True, slots=True)
class PractitionerState:
    """A practitioner present today; ``busy_until`` when in a consultation."""

    practitioner_id: str
    busy_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Where an entry stands.

    Attributes:
        position: 1 for the next patient to be called.
        practitioner_id: who is expected to see them (``None``: nobody present can).
        estimated_start, estimated_wait: ``None`` when no practitioner can see them.
    """

    entry: QueueEntry
    position: int
    practitioner_id: str | None
    estimated_start: datetime | None
    estimated_wait: timedelta | None


def queue_order(entries: Iterable[QueueEntry]) -> list[QueueEntry]:
    """The entries in the order patients are called."""
    return sorted(entries, key=lambda e: (e.priority, e.queue_time, e.arrived_at, e.ticket))


def estimate_waits(
    entries: Iterable[QueueEntry],
    practitioners: Sequence[PractitionerState],
    *,
    now: datetime,
) -> list[QueuePosition]:
    """Each entry's position and estimated start, in calling order."""
    now = require_aware("now", now)
    free_at: dict[str, datetime] = {}
    for state in practitioners:
        busy = require_aware("busy_until", state.busy_until) if state.busy_until else now
        free_at[state.practitioner_id] = max(now, busy)
    result: list[QueuePosition] = []
    for position, entry in enumerate(queue_order(entries), start=1):
        if entry.practitioner_id is not None:
            candidates = [entry.practitioner_id] if entry.practitioner_id in free_at else []
        else:
            candidates = sorted(free_at)
        if not candidates:
            result.append(QueuePosition(entry, position, None, None, None))
            continue
        chosen = min(candidates, key=lambda p: (free_at[p], p))
        start = free_at[chosen]
        free_at[chosen] = start + entry.expected_duration
        result.append(QueuePosition(entry, position, chosen, start, start - now))
    return result


def typical_duration(
    observed: Iterable[timedelta], *, default: timedelta, minimum_samples: int = 5
) -> timedelta:
    """The median of recent consultation durations, or ``default`` with too few.

    The median, not the mean: one consultation left open over lunch would otherwise
    inflate every estimate of the afternoon.
    """
    samples = [d for d in observed if d > timedelta(0)]
    if len(samples) < minimum_samples:
        return default
    seconds = median(d.total_seconds() for d in samples)
    return timedelta(seconds=round(seconds))
