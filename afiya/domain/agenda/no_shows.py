"""No-show statistics per patient. Pure.

Only appointments whose outcome is known count: those that started within the window
and are ``arrived``, ``completed`` or ``no_show``. Booked appointments in the past that
nobody has marked yet are left out rather than guessed. Late cancellations by the patient
(less than ``AgendaRules.late_cancellation`` before the start) are counted apart: they
waste a slot too, but the patient warned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from afiya.domain.agenda.appointments import (
    AgendaRules,
    Appointment,
    AppointmentStatus,
    is_late_cancellation,
)
from afiya.domain.agenda.intervals import require_aware

_ATTENDED = frozenset({AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED})


@dataclass(frozen=True, slots=True)
class NoShowStats:
    """One patient's attendance record over the window.

    Attributes:
        counted: appointments with a known outcome (attended + no_shows).
        streak: no-shows in a row among the most recent counted appointments.
        frequent: rate at least the threshold over at least the minimum count.
    """

    patient_id: str
    counted: int
    attended: int
    no_shows: int
    late_cancellations: int
    streak: int
    last_no_show_at: datetime | None
    frequent: bool

    @property
    def rate(self) -> float:
        """Share of counted appointments missed, 0.0 when none is counted."""
        return self.no_shows / self.counted if self.counted else 0.0


def no_show_stats(
    appointments: Iterable[Appointment],
    *,
    now: datetime,
    window: timedelta = timedelta(days=365),
    threshold: float = 0.3,
    min_appointments: int = 3,
    rules: AgendaRules | None = None,
) -> dict[str, NoShowStats]:
    """Statistics of every patient found in ``appointments``, keyed by patient id."""
    now = require_aware("now", now)
    rules = rules or AgendaRules()
    since = now - window
    by_patient: dict[str, list[Appointment]] = {}
    for appointment in appointments:
        if since <= appointment.starts_at < now:
            by_patient.setdefault(appointment.patient_id, []).append(appointment)
    result: dict[str, NoShowStats] = {}
    for patient_id, items in by_patient.items():
        items.sort(key=lambda a: a.starts_at)
        outcomes = [
            a for a in items if a.status in _ATTENDED or a.status is AppointmentStatus.NO_SHOW
        ]
        missed = [a for a in outcomes if a.status is AppointmentStatus.NO_SHOW]
        streak = 0
        for appointment in reversed(outcomes):
            if appointment.status is not AppointmentStatus.NO_SHOW:
                break
            streak += 1
        counted = len(outcomes)
        rate = len(missed) / counted if counted else 0.0
        result[patient_id] = NoShowStats(
            patient_id=patient_id,
            counted=counted,
            attended=counted - len(missed),
            no_shows=len(missed),
            late_cancellations=sum(1 for a in items if is_late_cancellation(a, rules)),
            streak=streak,
            last_no_show_at=missed[-1].starts_at if missed else None,
            frequent=counted >= min_appointments and rate >= threshold,
        )
    return result
