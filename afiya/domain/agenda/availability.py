"""Availability: recurring schedules and extra sessions, minus closures, as UTC intervals.

Expansion is done day by day in the facility's local calendar and each local session is
converted with :func:`~afiya.domain.agenda.intervals.local_to_utc`, so "Monday 08:00" is
08:00 on the wall clock on both sides of a daylight-saving change. Leave and bookings are
*not* subtracted here: slot computation checks them against each slot with its buffers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta, tzinfo

from afiya.domain.agenda.intervals import Interval, local_span, merge, subtract
from afiya.domain.agenda.model import Closure, ExtraSession, Owner, Schedule


def _days(first_day: date, last_day: date) -> Iterable[date]:
    day = first_day
    while day <= last_day:
        yield day
        day += timedelta(days=1)


def session_intervals(
    schedules: Iterable[Schedule],
    extra_sessions: Iterable[ExtraSession],
    first_day: date,
    last_day: date,
    zone: tzinfo,
) -> list[Interval]:
    """Sessions starting on local days ``first_day``..``last_day``, merged, in UTC.

    The caller passes the schedules and extra sessions already filtered to one owner
    (and to the service and appointment type it books).
    """
    found: list[Interval] = []
    schedules = list(schedules)
    for day in _days(first_day, last_day):
        weekday = day.weekday()
        for schedule in schedules:
            if not schedule.applies_on(day):
                continue
            for session in schedule.sessions:
                if session.weekday == weekday:
                    span = local_span(day, session.start, session.end, zone)
                    if span is not None:
                        found.append(span)
    for extra in extra_sessions:
        if first_day <= extra.day <= last_day:
            span = local_span(extra.day, extra.start, extra.end, zone)
            if span is not None:
                found.append(span)
    return merge(found)


def closure_intervals(closures: Iterable[Closure], zone: tzinfo) -> list[Interval]:
    """The closures as merged UTC intervals (whole local days or parts of them)."""
    found: list[Interval] = []
    for closure in closures:
        if closure.start is None or closure.end is None:
            span = local_span(closure.day, time(0), time(0), zone)
        else:
            span = local_span(closure.day, closure.start, closure.end, zone)
        if span is not None:
            found.append(span)
    return merge(found)


def closures_for(closures: Iterable[Closure], facility_id: str, owner: Owner) -> list[Closure]:
    """Closures of the whole facility and those of ``owner`` there."""
    return [
        c
        for c in closures
        if c.facility_id == facility_id and (c.owner is None or c.owner == owner)
    ]


def owner_availability(
    *,
    owner: Owner,
    facility_id: str,
    service_id: str | None,
    appointment_type_id: str | None,
    schedules: Iterable[Schedule],
    extra_sessions: Iterable[ExtraSession],
    closures: Iterable[Closure],
    first_day: date,
    last_day: date,
    zone: tzinfo,
) -> list[Interval]:
    """When ``owner`` works at ``facility_id``, between two local days, closures removed.

    Args:
        owner: the practitioner or resource.
        facility_id: the facility whose sessions count.
        service_id: keep only sessions of this service; ``None`` keeps all (resources
            are usually shared between services).
        appointment_type_id: keep only sessions that accept this type; ``None`` keeps all.
        schedules, extra_sessions, closures: candidates; filtered here.
        first_day, last_day: local dates, both included. A night session that starts on
            the day before ``first_day`` is included too, for its part after midnight.
        zone: the facility's time zone.

    Returns:
        Sorted, disjoint UTC intervals.
    """

    def keep(item: Schedule | ExtraSession) -> bool:
        return (
            item.owner == owner
            and item.facility_id == facility_id
            and (service_id is None or item.service_id == service_id)
            and (appointment_type_id is None or item.accepts(appointment_type_id))
        )

    sessions = session_intervals(
        [s for s in schedules if keep(s)],
        [e for e in extra_sessions if keep(e)],
        first_day - timedelta(days=1),
        last_day,
        zone,
    )
    closed = closure_intervals(closures_for(closures, facility_id, owner), zone)
    return subtract(sessions, closed)
