"""Free slots: availability minus bookings minus leave, on a grid, with buffers. Pure.

A slot for appointment type *T* with practitioner *P* starting at *t* is offered when:

1. ``[t, t + T.duration)`` lies inside one stretch of *P*'s availability for *T* at the
   facility (schedules and extra sessions, closures removed);
2. the *occupancy* ``[t - T.buffer_before, t + T.duration + T.buffer_after)`` overlaps
   neither *P*'s leave nor the occupancy of any of *P*'s active bookings, anywhere;
3. for each resource category *T* needs, one active resource of the facility has the
   visit inside its opening hours and its occupancy free of its bookings and
   maintenance; the first such resource by id is proposed;
4. ``now + T.min_notice <= t <= now + T.max_advance``, and *t* falls on a local day of
   the query.

Candidate starts are laid on a grid anchored at the start of each stretch of
availability (a session 08:00-12:00 with a 15-minute grid offers 08:00, 08:15, ...).
All intervals are half-open, so slots end exactly where the next booking begins.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from afiya.domain.agenda.availability import owner_availability
from afiya.domain.agenda.errors import UnknownAppointmentType
from afiya.domain.agenda.intervals import (
    BusyIndex,
    Interval,
    local_day_window,
    require_aware,
)
from afiya.domain.agenda.model import (
    AppointmentType,
    ExtraSession,
    FacilityCalendar,
    Owner,
    OwnerKind,
    Resource,
    Schedule,
)
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

MAX_QUERY_DAYS = 366


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A bookable start for one appointment type with one practitioner (and resources)."""

    starts_at: datetime
    practitioner_id: str
    ends_at: datetime
    appointment_type_id: str
    resource_ids: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A stable text id (USSD menus and API clients hand it back to book)."""
        start = self.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
        return f"{self.practitioner_id}|{self.appointment_type_id}|{start}"


def parse_slot_key(key: str) -> tuple[str, str, datetime]:
    """``(practitioner_id, appointment_type_id, starts_at)`` from :attr:`Slot.key`.

    Raises:
        ValidationFailed: when ``key`` is not a slot key.
    """
    try:
        practitioner_id, type_id, start = key.rsplit("|", 2)
        starts_at = datetime.strptime(start, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(
            [FieldError("slot", Message(N_("This slot reference is not valid.")))]
        ) from None
    if not practitioner_id or not type_id:
        raise ValidationFailed(
            [FieldError("slot", Message(N_("This slot reference is not valid.")))]
        )
    return practitioner_id, type_id, starts_at


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """Which slots to compute.

    Attributes:
        first_day, last_day: local dates of the facility, both included.
        granularity: step between candidate starts.
        practitioner_ids: restrict to these practitioners; ``None`` = all who have
            sessions for the type's service at the facility.
        ignore_appointment_ids: bookings to disregard (the appointment being moved).
        limit: stop after this many slots (soonest first).
    """

    appointment_type_id: str
    first_day: date
    last_day: date
    granularity: timedelta = timedelta(minutes=15)
    practitioner_ids: frozenset[str] | None = None
    ignore_appointment_ids: frozenset[str] = frozenset()
    limit: int | None = None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if self.last_day < self.first_day:
            errors.append(FieldError("last_day", Message(N_("The period ends before it starts."))))
        elif (self.last_day - self.first_day).days >= MAX_QUERY_DAYS:
            errors.append(
                FieldError(
                    "last_day",
                    Message(N_("Ask for at most {days} days at once."), {"days": MAX_QUERY_DAYS}),
                )
            )
        if not timedelta(minutes=1) <= self.granularity <= timedelta(hours=24):
            errors.append(
                FieldError(
                    "granularity",
                    Message(N_("The step must be between one minute and one day.")),
                )
            )
        if self.limit is not None and self.limit < 1:
            errors.append(FieldError("limit", Message(N_("The limit must be at least 1."))))
        if errors:
            raise ValidationFailed(errors)


class SlotProblem(StrEnum):
    """Why a requested start cannot be booked."""

    IN_THE_PAST = "in_the_past"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"
    OUTSIDE_AVAILABILITY = "outside_availability"
    PRACTITIONER_ON_LEAVE = "practitioner_on_leave"
    PRACTITIONER_BOOKED = "practitioner_booked"
    RESOURCE_UNAVAILABLE = "resource_unavailable"


@dataclass(frozen=True, slots=True)
class SlotCheck:
    """The verdict on one requested start."""

    problems: tuple[SlotProblem, ...]
    resource_ids: tuple[str, ...] = ()

    @property
    def free(self) -> bool:
        return not self.problems


def facility_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a facility with a wrong zone is a configuration error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            [
                FieldError(
                    "time_zone",
                    Message(N_("Unknown time zone {zone}."), {"zone": name}),
                )
            ]
        ) from None


def _covers(intervals: Sequence[Interval], candidate: Interval) -> bool:
    i = bisect_right(intervals, candidate.start, key=lambda x: x.start)
    return i > 0 and intervals[i - 1].contains(candidate)


@dataclass(slots=True)
class _Context:
    """Availability and busy indexes of one query, computed once per owner."""

    calendar: FacilityCalendar
    kind: AppointmentType
    first_day: date
    last_day: date
    ignore: frozenset[str]
    zone: ZoneInfo = field(init=False)
    _available: dict[Owner, list[Interval]] = field(default_factory=dict)
    _leave: dict[Owner, BusyIndex] = field(default_factory=dict)
    _booked: dict[Owner, BusyIndex] = field(default_factory=dict)
    _resources: dict[str, list[Resource]] = field(default_factory=dict)
    _resource_state: dict[str, tuple[list[Interval], BusyIndex | None, BusyIndex | None]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.zone = facility_zone(self.calendar.time_zone)
        leaves: dict[Owner, list[Interval]] = {}
        for leave in self.calendar.leaves:
            leaves.setdefault(leave.owner, []).append(leave.interval)
        booked: dict[Owner, list[Interval]] = {}
        for booking in self.calendar.bookings:
            if booking.appointment_id in self.ignore:
                continue
            owners = [Owner.practitioner(booking.practitioner_id)]
            owners += [Owner.resource(r) for r in booking.resource_ids]
            for owner in owners:
                booked.setdefault(owner, []).append(booking.occupancy)
        self._leave = {o: BusyIndex(v) for o, v in leaves.items()}
        self._booked = {o: BusyIndex(v) for o, v in booked.items()}
        for resource in sorted(self.calendar.resources, key=lambda r: r.id):
            if resource.active and resource.facility_id == self.calendar.facility_id:
                self._resources.setdefault(resource.category, []).append(resource)

    def available(self, owner: Owner) -> list[Interval]:
        if owner not in self._available:
            is_practitioner = owner.kind is OwnerKind.PRACTITIONER
            self._available[owner] = owner_availability(
                owner=owner,
                facility_id=self.calendar.facility_id,
                service_id=self.kind.service_id if is_practitioner else None,
                appointment_type_id=self.kind.id if is_practitioner else None,
                schedules=self.calendar.schedules,
                extra_sessions=self.calendar.extra_sessions,
                closures=self.calendar.closures,
                first_day=self.first_day,
                last_day=self.last_day,
                zone=self.zone,
            )
        return self._available[owner]

    def leave_index(self, owner: Owner) -> BusyIndex | None:
        return self._leave.get(owner)

    def booking_index(self, owner: Owner) -> BusyIndex | None:
        return self._booked.get(owner)

    def on_leave(self, owner: Owner, occupancy: Interval) -> bool:
        index = self._leave.get(owner)
        return index is not None and index.overlaps(occupancy)

    def booked(self, owner: Owner, occupancy: Interval) -> bool:
        index = self._booked.get(owner)
        return index is not None and index.overlaps(occupancy)

    def resource_free(self, resource: Resource, visit: Interval, occupancy: Interval) -> bool:
        state = self._resource_state.get(resource.id)
        if state is None:
            owner = resource.owner
            state = (self.available(owner), self._leave.get(owner), self._booked.get(owner))
            self._resource_state[resource.id] = state
        opening, leave, booked = state
        # Cheapest and most often failing test first: a busy room is the common case.
        return (
            not (booked is not None and booked.overlaps(occupancy))
            and not (leave is not None and leave.overlaps(occupancy))
            and _covers(opening, visit)
        )

    def pick_resources(
        self, visit: Interval, occupancy: Interval, wanted: Sequence[str] | None = None
    ) -> tuple[str, ...] | None:
        """One free resource per required category (``wanted`` ones when given)."""
        chosen: list[str] = []
        for category in self.kind.resource_categories:
            candidates = self._resources.get(category, [])
            if wanted is not None:
                candidates = [r for r in candidates if r.id in wanted]
            found = next(
                (r.id for r in candidates if self.resource_free(r, visit, occupancy)), None
            )
            if found is None:
                return None
            chosen.append(found)
        return tuple(chosen)

    def occupancy(self, visit: Interval) -> Interval:
        return visit.widened(self.kind.buffer_before, self.kind.buffer_after)


def appointment_type(calendar: FacilityCalendar, type_id: str) -> AppointmentType:
    """The calendar's appointment type ``type_id``.

    Raises:
        UnknownAppointmentType: when the facility does not offer it.
    """
    for kind in calendar.appointment_types:
        if kind.id == type_id:
            return kind
    raise UnknownAppointmentType(type_id)


def practitioners_for(calendar: FacilityCalendar, kind: AppointmentType) -> list[str]:
    """Practitioners with sessions for ``kind`` at the facility, sorted by id."""
    items: list[Schedule | ExtraSession] = [*calendar.schedules, *calendar.extra_sessions]
    found = {
        item.owner.id
        for item in items
        if item.owner.kind is OwnerKind.PRACTITIONER
        and item.facility_id == calendar.facility_id
        and item.service_id == kind.service_id
        and item.accepts(kind.id)
    }
    return sorted(found)


def compute_slots(calendar: FacilityCalendar, query: SlotQuery, now: datetime) -> list[Slot]:
    """Every free slot of ``query``, soonest first (ties by practitioner id).

    Raises:
        UnknownAppointmentType: when the facility does not offer the type.
        ValidationFailed: when the facility's time zone is unknown.
    """
    now = require_aware("now", now)
    kind = appointment_type(calendar, query.appointment_type_id)
    context = _Context(
        calendar, kind, query.first_day, query.last_day, query.ignore_appointment_ids
    )
    window = local_day_window(query.first_day, query.last_day, context.zone)
    earliest = max(window.start, now + kind.min_notice)
    latest = min(window.end - timedelta(microseconds=1), now + kind.max_advance)
    practitioners = practitioners_for(calendar, kind)
    if query.practitioner_ids is not None:
        practitioners = [p for p in practitioners if p in query.practitioner_ids]
    slots: list[Slot] = []
    duration, before, after = kind.duration, kind.buffer_before, kind.buffer_after
    for practitioner_id in practitioners:
        owner = Owner.practitioner(practitioner_id)
        leave = context.leave_index(owner)
        booked = context.booking_index(owner)
        found = 0  # each practitioner's slots come in time order: stop at ``limit``
        for stretch in context.available(owner):
            if query.limit is not None and found >= query.limit:
                break
            start = stretch.start
            if start < earliest:  # jump to the first grid point not before ``earliest``
                steps = -((start - earliest) // query.granularity)
                start += steps * query.granularity
            while start + duration <= stretch.end and start <= latest:
                end = start + duration
                # Raw instants in the hot loop; Interval objects only for survivors.
                if not (
                    (leave is not None and leave.overlaps_span(start - before, end + after))
                    or (booked is not None and booked.overlaps_span(start - before, end + after))
                ):
                    resources: tuple[str, ...] | None = ()
                    if kind.resource_categories:
                        visit = Interval(start, end)
                        resources = context.pick_resources(visit, context.occupancy(visit))
                    if resources is not None:
                        slots.append(Slot(start, practitioner_id, end, kind.id, resources))
                        found += 1
                        if query.limit is not None and found >= query.limit:
                            break
                start += query.granularity
    slots.sort()
    return slots[: query.limit] if query.limit is not None else slots


def check_slot(
    calendar: FacilityCalendar,
    *,
    appointment_type_id: str,
    practitioner_id: str,
    starts_at: datetime,
    now: datetime,
    resource_ids: Iterable[str] | None = None,
    ignore_appointment_ids: frozenset[str] = frozenset(),
    enforce_notice: bool = True,
) -> SlotCheck:
    """Whether one start may be booked, and every reason it may not.

    Unlike :func:`compute_slots`, the start need not be on a grid: reception may book
    09:10 by hand. ``resource_ids`` pins the resources (they must cover each category);
    otherwise free ones are picked. ``enforce_notice=False`` lets staff book inside the
    minimum notice (a patient standing at the desk).
    """
    now = require_aware("now", now)
    start = require_aware("starts_at", starts_at)
    kind = appointment_type(calendar, appointment_type_id)
    context = _Context(
        calendar, kind, *_local_days(start, kind.duration, calendar), ignore_appointment_ids
    )
    owner = Owner.practitioner(practitioner_id)
    visit = Interval(start, start + kind.duration)
    occupancy = context.occupancy(visit)
    problems: list[SlotProblem] = []
    if start < now:
        problems.append(SlotProblem.IN_THE_PAST)
    elif enforce_notice and start < now + kind.min_notice:
        problems.append(SlotProblem.TOO_SOON)
    if start > now + kind.max_advance:
        problems.append(SlotProblem.TOO_FAR)
    if not _covers(context.available(owner), visit):
        problems.append(SlotProblem.OUTSIDE_AVAILABILITY)
    if context.on_leave(owner, occupancy):
        problems.append(SlotProblem.PRACTITIONER_ON_LEAVE)
    if context.booked(owner, occupancy):
        problems.append(SlotProblem.PRACTITIONER_BOOKED)
    wanted = list(resource_ids) if resource_ids is not None else None
    resources = context.pick_resources(visit, occupancy, wanted)
    if resources is None:
        problems.append(SlotProblem.RESOURCE_UNAVAILABLE)
    return SlotCheck(tuple(problems), resources or ())


def _local_days(
    start: datetime, duration: timedelta, calendar: FacilityCalendar
) -> tuple[date, date]:
    zone = facility_zone(calendar.time_zone)
    return start.astimezone(zone).date(), (start + duration).astimezone(zone).date()
