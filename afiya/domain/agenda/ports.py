"""Ports of the agenda. The SQL adapters come with the agenda's tables (next round)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from afiya.domain.agenda.appointments import AgendaRules, Appointment
from afiya.domain.agenda.model import FacilityCalendar
from afiya.domain.agenda.reminders import FacilityReminderSettings


class CalendarReader(Protocol):
    """Loads what slot computation needs, in a few queries."""

    async def load_calendar(
        self,
        *,
        facility_id: str,
        first_day: date,
        last_day: date,
        practitioner_ids: Sequence[str] | None = None,
    ) -> FacilityCalendar:
        """Schedules, extra sessions, closures, resources and types of the facility, plus
        leave and active bookings (at any facility) of its practitioners and resources
        over the local days ``first_day``..``last_day`` (one day of margin each side for
        night sessions and buffers)."""
        ...


class AppointmentRepository(Protocol):
    """Stores appointments. Writers run in the caller's unit of work."""

    async def get(self, appointment_id: str) -> Appointment | None:
        """The appointment, or ``None``."""
        ...

    async def add(self, appointment: Appointment) -> None:
        """Insert a new appointment.

        The database refuses an overlap of occupancies with another appointment that
        holds time for the same practitioner or resource (ADR 0106).

        Raises:
            SlotUnavailable: a concurrent transaction booked the time first.
        """
        ...

    async def save(self, appointment: Appointment) -> None:
        """Write a status change.

        Raises:
            StaleAppointment: the row changed since it was read.
        """
        ...

    async def for_patient(
        self, patient_id: str, *, since: datetime, until: datetime
    ) -> Sequence[Appointment]:
        """The patient's appointments starting in ``[since, until)``, by start."""
        ...

    async def for_day(self, facility_id: str, day: date) -> Sequence[Appointment]:
        """The facility's appointments on its local ``day`` (the day list), by start."""
        ...


class AgendaSettingsReader(Protocol):
    """Per-facility agenda rules and reminder settings."""

    async def agenda_rules(self, facility_id: str) -> AgendaRules:
        """Timing rules (patient cut-off, no-show grace...)."""
        ...

    async def reminder_settings(self, facility_id: str) -> FacilityReminderSettings:
        """Time zone, reminder policy and channels."""
        ...
