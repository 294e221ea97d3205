"""Appointment reminder planning: which reminders to send, and when. Pure rules.

For each offset of the policy (48 h and 2 h before, by default) the nominal moment is
``start - offset``. Then:

* **Quiet hours** (21:00-07:00 facility time by default; the start is inside, the end
  outside) are never broken. A reminder that falls in them is *deferred* to the end of
  the quiet period, unless that would leave less than ``min_lead`` before the
  appointment; then it is *advanced* to ``advance_margin`` before the quiet period
  starts, i.e. the previous evening. We chose to move it earlier rather than drop it: a
  patient with a 07:30 appointment is better told at 20:30 the day before than not at
  all, and better than woken at 05:30.
* **Late planning** (the moment has passed: the appointment was booked late, or the
  job did not run): the reminder is due now if the appointment is still more than
  ``min_lead`` away and it is not quiet time; in quiet time it waits for the end of
  the quiet period if that is still early enough; otherwise it is skipped as too late.
* **Spacing**: two reminders of one appointment are never sent less than
  ``min_spacing`` apart; the one closer to the appointment wins, the other is skipped
  as superseded (a patient booked 5 h ahead gets the 2 h reminder only).
* Without consent for the channel, or once the appointment has started, nothing is sent.

Each reminder has an idempotency key built from the appointment id, the channel, the
offset and the appointment start: a job may plan the same appointment every few minutes
and the outbox keeps one message per key, while a rescheduled appointment (new start)
gets fresh reminders. All instants are aware datetimes; results are in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import pairwise

from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours when no message is sent: ``[start, end)``, may span midnight."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        """Whether the local wall-clock ``local`` is quiet."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    @property
    def duration(self) -> timedelta:
        span = datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)
        return span if span >= timedelta(0) else span + timedelta(days=1)


DEFAULT_QUIET_HOURS = QuietHours(time(21, 0), time(7, 0))


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """How a facility reminds patients of appointments.

    Attributes:
        offsets: delays before the appointment (distinct, positive).
        quiet_hours: local hours without messages, or ``None``.
        min_lead: a reminder later than this before the appointment is useless.
        advance_margin: when moved before quiet hours, land this long before they start.
        min_spacing: least time between two reminders of one appointment.
    """

    offsets: tuple[timedelta, ...] = (timedelta(hours=48), timedelta(hours=2))
    quiet_hours: QuietHours | None = DEFAULT_QUIET_HOURS
    min_lead: timedelta = timedelta(hours=1)
    advance_margin: timedelta = timedelta(minutes=30)
    min_spacing: timedelta = timedelta(hours=6)

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not self.offsets or len(set(self.offsets)) != len(self.offsets):
            errors.append(
                FieldError("offsets", Message(N_("Give at least one offset, each once.")))
            )
        elif min(self.offsets) < self.min_lead:
            errors.append(
                FieldError(
                    "offsets",
                    Message(N_("Every offset must be at least the minimum lead time.")),
                )
            )
        ordered = sorted(self.offsets)
        if any(b - a < self.min_spacing for a, b in pairwise(ordered)):
            errors.append(
                FieldError(
                    "offsets",
                    Message(N_("Offsets must be at least the minimum spacing apart.")),
                )
            )
        if self.min_lead < timedelta(0) or self.advance_margin < timedelta(0):
            errors.append(FieldError("min_lead", Message(N_("Durations cannot be negative."))))
        if (
            self.quiet_hours is not None
            and self.quiet_hours.duration + self.advance_margin >= timedelta(days=1)
        ):
            errors.append(
                FieldError(
                    "quiet_hours", Message(N_("Quiet hours leave no time to send messages."))
                )
            )
        if errors:
            raise ValidationFailed(errors)


class ReminderStatus(StrEnum):
    DUE = "due"  # send now
    SCHEDULED = "scheduled"  # send at ``send_at``
    SKIPPED = "skipped"


class SkipReason(StrEnum):
    NO_CONSENT = "no_consent"
    APPOINTMENT_PASSED = "appointment_passed"
    TOO_LATE = "too_late"
    SUPERSEDED = "superseded"


class Adjustment(StrEnum):
    NONE = "none"
    DEFERRED = "deferred"  # moved to the end of quiet hours
    ADVANCED = "advanced"  # moved before the start of quiet hours


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """The decision for one (appointment, offset, channel).

    Attributes:
        planned_at: UTC moment after the quiet-hours adjustment.
        send_at: UTC moment to send (``now`` when due); ``None`` when skipped.
    """

    appointment_id: str
    offset: timedelta
    channel: str
    idempotency_key: str
    status: ReminderStatus
    planned_at: datetime
    send_at: datetime | None
    adjustment: Adjustment
    skip_reason: SkipReason | None = None


def reminder_idempotency_key(
    appointment_id: str, offset: timedelta, channel: str, starts_at: datetime
) -> str:
    """A stable key per (appointment, offset, channel) and appointment start."""
    minutes = int(offset.total_seconds() // 60)
    start = starts_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    return f"reminder:{appointment_id}:{channel}:{minutes}m:{start}"


def _is_quiet(instant: datetime, zone: tzinfo, quiet: QuietHours | None) -> bool:
    return quiet is not None and quiet.contains(instant.astimezone(zone).time())


def _quiet_end(instant: datetime, zone: tzinfo, quiet: QuietHours) -> datetime:
    """End of the quiet period ``instant`` (quiet) belongs to, in UTC."""
    local = instant.astimezone(zone)
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=zone).astimezone(UTC)


def _quiet_start(instant: datetime, zone: tzinfo, quiet: QuietHours) -> datetime:
    """Start of the quiet period ``instant`` (quiet) belongs to, in UTC."""
    local = instant.astimezone(zone)
    day = local.date()
    if quiet.start > quiet.end and local.time() < quiet.end:
        day -= timedelta(days=1)
    return datetime.combine(day, quiet.start, tzinfo=zone).astimezone(UTC)


def _avoid_quiet_hours(
    nominal: datetime, start: datetime, zone: tzinfo, policy: ReminderPolicy
) -> tuple[datetime, Adjustment]:
    quiet = policy.quiet_hours
    if quiet is None or not _is_quiet(nominal, zone, quiet):
        return nominal, Adjustment.NONE
    deferred = _quiet_end(nominal, zone, quiet)
    if deferred <= start - policy.min_lead:
        return deferred, Adjustment.DEFERRED
    return _quiet_start(nominal, zone, quiet) - policy.advance_margin, Adjustment.ADVANCED


def _require_aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def plan_reminders(
    *,
    appointment_id: str,
    starts_at: datetime,
    zone: tzinfo,
    now: datetime,
    consent: bool,
    policy: ReminderPolicy | None = None,
    channel: str = "sms",
) -> list[PlannedReminder]:
    """Decide every reminder of one appointment, from the farthest offset to the closest.

    Args:
        appointment_id: the appointment's id, as text.
        starts_at: appointment start, timezone-aware.
        zone: the facility's time zone (``ZoneInfo("Africa/Nouakchott")``).
        now: the current instant, timezone-aware.
        consent: whether the patient agreed to reminders on ``channel``.
        policy: offsets, quiet hours and margins; the default policy when ``None``.
        channel: ``sms`` or another channel name; part of the idempotency key.
    """
    policy = policy or ReminderPolicy()
    start = _require_aware("starts_at", starts_at)
    current = _require_aware("now", now)
    decisions: list[PlannedReminder] = []
    kept_send_times: list[datetime] = []  # of closer reminders already decided
    for offset in sorted(policy.offsets):  # closest first, so spacing can look ahead
        planned, adjustment = _avoid_quiet_hours(start - offset, start, zone, policy)
        status, send_at, reason = _decide(planned, start, current, zone, consent, policy)
        if send_at is not None and any(
            abs(other - send_at) < policy.min_spacing for other in kept_send_times
        ):
            status, send_at, reason = ReminderStatus.SKIPPED, None, SkipReason.SUPERSEDED
        if send_at is not None:
            kept_send_times.append(send_at)
        decisions.append(
            PlannedReminder(
                appointment_id=appointment_id,
                offset=offset,
                channel=channel,
                idempotency_key=reminder_idempotency_key(appointment_id, offset, channel, start),
                status=status,
                planned_at=planned,
                send_at=send_at,
                adjustment=adjustment,
                skip_reason=reason,
            )
        )
    decisions.reverse()
    return decisions


def _decide(
    planned: datetime,
    start: datetime,
    now: datetime,
    zone: tzinfo,
    consent: bool,
    policy: ReminderPolicy,
) -> tuple[ReminderStatus, datetime | None, SkipReason | None]:
    if start <= now:
        return ReminderStatus.SKIPPED, None, SkipReason.APPOINTMENT_PASSED
    if not consent:
        return ReminderStatus.SKIPPED, None, SkipReason.NO_CONSENT
    if planned > now:
        return ReminderStatus.SCHEDULED, planned, None
    latest = start - policy.min_lead
    if now > latest:
        return ReminderStatus.SKIPPED, None, SkipReason.TOO_LATE
    quiet = policy.quiet_hours
    if quiet is not None and _is_quiet(now, zone, quiet):
        resume = _quiet_end(now, zone, quiet)
        if resume > latest:
            return ReminderStatus.SKIPPED, None, SkipReason.TOO_LATE
        return ReminderStatus.SCHEDULED, resume, None
    return ReminderStatus.DUE, now, None


def due_now(reminders: Sequence[PlannedReminder]) -> list[PlannedReminder]:
    """The reminders to hand to the outbox right away."""
    return [r for r in reminders if r.status is ReminderStatus.DUE]
