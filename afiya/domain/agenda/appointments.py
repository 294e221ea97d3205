"""Appointments and their state machine: which step, from which status, by whom, when.

```
            confirm                 arrive                complete
  booked ───────────▶ confirmed ───────────▶ arrived ───────────▶ completed
    │  ╲                 │  │                   ▲
    │   ╲ arrive         │  └── no-show ──▶ no_show (arrive, same day: came very late)
    │    ╲──────────────────────────────────────┘
    ├── cancel ─────▶ cancelled        (booked or confirmed)
    └── reschedule ─▶ rescheduled      (booked or confirmed; a new appointment is booked)
```

| step | from | who | when |
|---|---|---|---|
| confirm | booked | patient, staff | before the start |
| cancel | booked, confirmed | patient, staff | patient: before the start |
| reschedule | booked, confirmed | patient, staff | patient: until ``patient_cutoff`` |
| arrive | booked, confirmed, no_show | staff | start ± ``arrival_opens/closes`` |
| no-show | booked, confirmed | staff, system | from start + ``no_show_grace`` |
| complete | arrived | practitioner | after arrival |

(staff = reception and practitioners)

Confirming a confirmed appointment and cancelling a cancelled one change nothing (a
patient who answers "OUI" twice). A patient acts only on their own appointments. Route
permissions (``appointments:write``) and facility scope are checked before, by the access
policy; these rules are the finer, per-appointment ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from afiya.domain.agenda.errors import ActorNotAllowed, TooEarlyOrTooLate, TransitionNotAllowed
from afiya.domain.agenda.intervals import Interval, require_aware
from afiya.domain.agenda.model import Booking
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    ARRIVED = "arrived"
    COMPLETED = "completed"

    @property
    def holds_time(self) -> bool:
        """Whether the appointment keeps its practitioner and resources busy.

        The same set is the ``WHERE`` of the database's exclusion constraint.
        """
        return self in HOLDING_STATUSES

    @property
    def is_final(self) -> bool:
        return self in (
            AppointmentStatus.RESCHEDULED,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.COMPLETED,
        )


HOLDING_STATUSES = frozenset(
    {
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.ARRIVED,
        AppointmentStatus.COMPLETED,
    }
)


class Action(StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    MARK_ARRIVED = "mark_arrived"
    MARK_NO_SHOW = "mark_no_show"
    COMPLETE = "complete"


class ActorKind(StrEnum):
    """Who takes a step. The API maps roles: receptionist → reception; doctor, nurse,
    midwife → practitioner; SMS keywords and USSD → patient; jobs → system."""

    PATIENT = "patient"
    RECEPTION = "reception"
    PRACTITIONER = "practitioner"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """A user id, a patient id (self-service) or a job name, with its kind."""

    kind: ActorKind
    id: str


class BookingChannel(StrEnum):
    DESK = "desk"
    PHONE = "phone"
    SMS = "sms"
    USSD = "ussd"
    API = "api"


@dataclass(frozen=True, slots=True)
class AgendaRules:
    """Timing rules of a facility's agenda (defaults suit a Mauritanian health centre)."""

    patient_cutoff: timedelta = timedelta(hours=2)
    arrival_opens: timedelta = timedelta(hours=12)
    arrival_closes: timedelta = timedelta(hours=12)
    no_show_grace: timedelta = timedelta(minutes=30)
    late_cancellation: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        values = (
            self.patient_cutoff,
            self.arrival_opens,
            self.arrival_closes,
            self.no_show_grace,
            self.late_cancellation,
        )
        if any(v < timedelta(0) for v in values):
            raise ValidationFailed(
                [FieldError("rules", Message(N_("Durations cannot be negative.")))]
            )


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One step in an appointment's life, kept on the appointment for its history."""

    action: Action
    from_status: AppointmentStatus
    to_status: AppointmentStatus
    at: datetime
    actor: Actor
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Appointment:
    """A patient's appointment with a practitioner, and the resources it holds.

    Buffers are copied from the appointment type when booking, so editing the type later
    does not move the occupancy of bookings already made.
    """

    id: str
    facility_id: str
    service_id: str
    patient_id: str
    practitioner_id: str
    appointment_type_id: str
    starts_at: datetime
    ends_at: datetime
    booked_at: datetime
    booked_by: Actor
    channel: BookingChannel = BookingChannel.DESK
    resource_ids: tuple[str, ...] = ()
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    status: AppointmentStatus = AppointmentStatus.BOOKED
    note: str = ""
    rescheduled_from_id: str | None = None
    rescheduled_to_id: str | None = None
    arrived_at: datetime | None = None
    history: tuple[StatusChange, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", require_aware("starts_at", self.starts_at))
        object.__setattr__(self, "ends_at", require_aware("ends_at", self.ends_at))
        if self.ends_at <= self.starts_at:
            raise ValidationFailed(
                [FieldError("ends_at", Message(N_("An appointment must end after it starts.")))]
            )

    @property
    def interval(self) -> Interval:
        return Interval(self.starts_at, self.ends_at)

    @property
    def occupancy(self) -> Interval:
        """``[start - buffer_before, end + buffer_after)``: what no other booking may touch."""
        return self.interval.widened(self.buffer_before, self.buffer_after)

    def as_booking(self) -> Booking:
        return Booking(self.id, self.practitioner_id, self.resource_ids, self.occupancy)

    def last_change(self, action: Action) -> StatusChange | None:
        """The latest step of kind ``action``, if any."""
        return next((c for c in reversed(self.history) if c.action is action), None)


_S = AppointmentStatus
_K = ActorKind
_STAFF = frozenset({_K.RECEPTION, _K.PRACTITIONER})

#: action -> (statuses it may start from, status it leads to, who may take it)
TRANSITIONS: dict[
    Action, tuple[frozenset[AppointmentStatus], AppointmentStatus, frozenset[ActorKind]]
] = {
    Action.CONFIRM: (frozenset({_S.BOOKED}), _S.CONFIRMED, _STAFF | {_K.PATIENT}),
    Action.CANCEL: (frozenset({_S.BOOKED, _S.CONFIRMED}), _S.CANCELLED, _STAFF | {_K.PATIENT}),
    Action.RESCHEDULE: (
        frozenset({_S.BOOKED, _S.CONFIRMED}),
        _S.RESCHEDULED,
        _STAFF | {_K.PATIENT},
    ),
    Action.MARK_ARRIVED: (frozenset({_S.BOOKED, _S.CONFIRMED, _S.NO_SHOW}), _S.ARRIVED, _STAFF),
    Action.MARK_NO_SHOW: (
        frozenset({_S.BOOKED, _S.CONFIRMED}),
        _S.NO_SHOW,
        _STAFF | {_K.SYSTEM},
    ),
    Action.COMPLETE: (frozenset({_S.ARRIVED}), _S.COMPLETED, frozenset({_K.PRACTITIONER})),
}

#: Steps that, repeated, change nothing instead of failing.
IDEMPOTENT = frozenset({Action.CONFIRM, Action.CANCEL})


def _check_time(
    appointment: Appointment, action: Action, actor: Actor, now: datetime, rules: AgendaRules
) -> bool:
    start = appointment.starts_at
    if action is Action.CONFIRM:
        return now < start
    if action is Action.CANCEL:
        return actor.kind is not _K.PATIENT or now < start
    if action is Action.RESCHEDULE:
        return actor.kind is not _K.PATIENT or now <= start - rules.patient_cutoff
    if action is Action.MARK_ARRIVED:
        return start - rules.arrival_opens <= now <= start + rules.arrival_closes
    if action is Action.MARK_NO_SHOW:
        return now >= start + rules.no_show_grace
    # COMPLETE: the visit cannot end before the patient arrived.
    return appointment.arrived_at is None or now >= appointment.arrived_at


def _check(
    appointment: Appointment, action: Action, actor: Actor, now: datetime, rules: AgendaRules
) -> None:
    sources, _, actors = TRANSITIONS[action]
    if actor.kind not in actors or (
        actor.kind is _K.PATIENT and actor.id != appointment.patient_id
    ):
        raise ActorNotAllowed(details={"action": action.value, "actor": actor.kind.value})
    if appointment.status not in sources:
        raise TransitionNotAllowed(appointment.status.value, action.value)
    if not _check_time(appointment, action, actor, now, rules):
        raise TooEarlyOrTooLate(details={"action": action.value})


def apply_action(
    appointment: Appointment,
    action: Action,
    *,
    actor: Actor,
    now: datetime,
    rules: AgendaRules | None = None,
    reason: str | None = None,
) -> Appointment:
    """The appointment after ``actor`` takes step ``action`` at ``now``.

    Rescheduling goes through :func:`afiya.domain.agenda.booking.reschedule`, which
    also books the new appointment; calling this with ``RESCHEDULE`` only closes the old.

    Raises:
        ActorNotAllowed: this kind of actor may not take the step, or a patient acts on
            someone else's appointment.
        TransitionNotAllowed: not from the current status.
        TooEarlyOrTooLate: not at this time (no-show before the grace period ends).
    """
    rules = rules or AgendaRules()
    now = require_aware("now", now)
    target = TRANSITIONS[action][1]
    if action in IDEMPOTENT and appointment.status is target:
        actors = TRANSITIONS[action][2]
        if actor.kind in actors and (
            actor.kind is not _K.PATIENT or actor.id == appointment.patient_id
        ):
            return appointment
    _check(appointment, action, actor, now, rules)
    change = StatusChange(action, appointment.status, target, now, actor, reason)
    arrived_at = now if target is _S.ARRIVED else appointment.arrived_at
    return replace(
        appointment,
        status=target,
        arrived_at=arrived_at,
        history=(*appointment.history, change),
    )


def allowed_actions(
    appointment: Appointment, *, actor: Actor, now: datetime, rules: AgendaRules | None = None
) -> frozenset[Action]:
    """The steps ``actor`` may take now (the buttons a staff app shows)."""
    rules = rules or AgendaRules()
    now = require_aware("now", now)
    allowed: set[Action] = set()
    for action in Action:
        try:
            _check(appointment, action, actor, now, rules)
        except (ActorNotAllowed, TransitionNotAllowed, TooEarlyOrTooLate):
            continue
        allowed.add(action)
    return frozenset(allowed)


def is_late_cancellation(appointment: Appointment, rules: AgendaRules | None = None) -> bool:
    """Whether the patient cancelled less than ``late_cancellation`` before the start."""
    rules = rules or AgendaRules()
    change = appointment.last_change(Action.CANCEL)
    return (
        appointment.status is _S.CANCELLED
        and change is not None
        and change.actor.kind is _K.PATIENT
        and change.at > appointment.starts_at - rules.late_cancellation
    )
