"""The reminder plan of an appointment, delegated to the messaging module's planner.

Quiet hours, offsets, spacing, late planning and idempotency keys are decided by
:func:`afiya.domain.messaging.reminders.plan_reminders`; this module only decides which
appointments get reminders, on which channels, in which time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from afiya.domain.agenda.appointments import Appointment, AppointmentStatus
from afiya.domain.agenda.slots import facility_zone
from afiya.domain.messaging.reminders import PlannedReminder, ReminderPolicy, plan_reminders

#: Statuses that still expect the patient: the others get no reminder.
REMINDED_STATUSES = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED})


@dataclass(frozen=True, slots=True)
class FacilityReminderSettings:
    """A facility's reminder settings.

    Attributes:
        time_zone: IANA zone of the facility (quiet hours are local).
        channels: channels tried for every appointment, e.g. ``("sms",)``.
        enabled: reminders switched off (a facility without an SMS contract yet).
    """

    time_zone: str
    policy: ReminderPolicy = field(default_factory=ReminderPolicy)
    channels: tuple[str, ...] = ("sms",)
    enabled: bool = True


def plan_appointment_reminders(
    appointment: Appointment,
    settings: FacilityReminderSettings,
    *,
    consents: Mapping[str, bool],
    now: datetime,
) -> list[PlannedReminder]:
    """Every reminder decision for ``appointment``, channel by channel.

    Args:
        appointment: the appointment; cancelled, moved or past ones get nothing.
        settings: the facility's reminder settings.
        consents: channel to the patient's consent; a missing channel means no consent.
        now: the current instant.

    Returns:
        The planner's decisions (scheduled, due now or skipped with a reason), for each
        channel in the order of ``settings.channels``; empty when the facility has
        reminders off or the appointment no longer expects the patient.
    """
    if not settings.enabled or appointment.status not in REMINDED_STATUSES:
        return []
    zone = facility_zone(settings.time_zone)
    plan: list[PlannedReminder] = []
    for channel in settings.channels:
        plan.extend(
            plan_reminders(
                appointment_id=appointment.id,
                starts_at=appointment.starts_at,
                zone=zone,
                now=now,
                consent=consents.get(channel, False),
                policy=settings.policy,
                channel=channel,
            )
        )
    return plan
