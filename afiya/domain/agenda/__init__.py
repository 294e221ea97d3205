"""Agenda: availability, slots, appointments and their state machine, queue of the day.

Modules: ``intervals`` (half-open UTC intervals, local time across DST), ``model``
(schedules, leave, closures, resources, appointment types), ``availability``, ``slots``,
``appointments`` (state machine), ``booking`` (conflicts, booking, rescheduling),
``queue``, ``no_shows``, ``reminders``, ``ports``, ``errors``. See ADR 0106.
"""
