"""What can be booked, and when: schedules, leave, exceptions, resources, appointment types.

Schedules and exceptions are kept in the facility's *local* wall time (what a médecin-chef
writes on the planning board: "Monday 08:00-13:00"); leave, bookings and slots are UTC
instants. :mod:`afiya.domain.agenda.availability` turns the first into the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from afiya.domain.agenda.intervals import Interval, require_aware
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


class OwnerKind(StrEnum):
    """Who or what an availability belongs to."""

    PRACTITIONER = "practitioner"
    RESOURCE = "resource"


@dataclass(frozen=True, slots=True, order=True)
class Owner:
    """A practitioner or a bookable resource, by id."""

    kind: OwnerKind
    id: str

    @classmethod
    def practitioner(cls, practitioner_id: str) -> Owner:
        return cls(OwnerKind.PRACTITIONER, practitioner_id)

    @classmethod
    def resource(cls, resource_id: str) -> Owner:
        return cls(OwnerKind.RESOURCE, resource_id)


def _raise(errors: Sequence[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


@dataclass(frozen=True, slots=True)
class WeeklySession:
    """One recurring stretch of work: ``weekday`` (0 = Monday) from ``start`` to ``end``.

    An ``end`` at or before ``start`` means the session runs past midnight (a night
    session 20:00-08:00 belongs to the day it starts on).
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not 0 <= self.weekday <= 6:
            errors.append(
                FieldError("weekday", Message(N_("The day of the week must be from 0 to 6.")))
            )
        if self.start == self.end:
            errors.append(
                FieldError("end", Message(N_("A session must end at another time than it starts.")))
            )
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            errors.append(
                FieldError("start", Message(N_("Session times are local: give no time zone.")))
            )
        _raise(errors)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A recurring weekly schedule of one owner at one facility and service.

    Attributes:
        valid_from: first local date the schedule applies to.
        valid_until: last local date it applies to (inclusive); ``None`` = open-ended.
        every_weeks: 1 for every week, 2 for every other week counted from the week of
            ``valid_from`` (mobile-clinic rounds), and so on.
        appointment_type_ids: the types these sessions accept; empty = every type of
            the service (a Monday-morning antenatal clinic accepts ANC visits only).
    """

    id: str
    owner: Owner
    facility_id: str
    service_id: str
    sessions: tuple[WeeklySession, ...]
    valid_from: date
    valid_until: date | None = None
    every_weeks: int = 1
    appointment_type_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if not self.sessions:
            errors.append(
                FieldError("sessions", Message(N_("A schedule needs at least one session.")))
            )
        if self.valid_until is not None and self.valid_until < self.valid_from:
            errors.append(
                FieldError("valid_until", Message(N_("A schedule cannot end before it starts.")))
            )
        if not 1 <= self.every_weeks <= 52:
            errors.append(
                FieldError("every_weeks", Message(N_("The repetition must be from 1 to 52 weeks.")))
            )
        _raise(errors)

    def applies_on(self, day: date) -> bool:
        """Whether the schedule is valid on local ``day`` and its week is a working week."""
        if day < self.valid_from or (self.valid_until is not None and day > self.valid_until):
            return False
        if self.every_weeks == 1:
            return True
        anchor = self.valid_from - timedelta(days=self.valid_from.weekday())
        return ((day - anchor).days // 7) % self.every_weeks == 0

    def accepts(self, appointment_type_id: str) -> bool:
        return not self.appointment_type_ids or appointment_type_id in self.appointment_type_ids


@dataclass(frozen=True, slots=True)
class ExtraSession:
    """A one-off session on a local date (a Saturday vaccination day)."""

    id: str
    owner: Owner
    facility_id: str
    service_id: str
    day: date
    start: time
    end: time
    appointment_type_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValidationFailed(
                [
                    FieldError(
                        "end", Message(N_("A session must end at another time than it starts."))
                    )
                ]
            )

    def accepts(self, appointment_type_id: str) -> bool:
        return not self.appointment_type_ids or appointment_type_id in self.appointment_type_ids


@dataclass(frozen=True, slots=True)
class Closure:
    """A local date (or part of it) without availability: a public holiday, a strike.

    Attributes:
        owner: the practitioner or resource concerned; ``None`` closes the whole facility.
        start, end: local times of a partial closure; both ``None`` for the whole day.
    """

    id: str
    facility_id: str
    day: date
    reason: str = ""
    owner: Owner | None = None
    start: time | None = None
    end: time | None = None

    def __post_init__(self) -> None:
        if (self.start is None) != (self.end is None) or (
            self.start is not None and self.start == self.end
        ):
            raise ValidationFailed(
                [
                    FieldError(
                        "start",
                        Message(N_("A partial closure needs a start and a different end.")),
                    )
                ]
            )


class LeaveKind(StrEnum):
    ANNUAL = "annual"  # congé annuel
    SICK = "sick"
    TRAINING = "training"  # formation, séminaire
    MISSION = "mission"  # supervision, campagne
    MAINTENANCE = "maintenance"  # for resources: the ultrasound is being repaired
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Leave:
    """An absence of an owner between two instants, wherever they work."""

    id: str
    owner: Owner
    starts_at: datetime
    ends_at: datetime
    kind: LeaveKind = LeaveKind.ANNUAL

    def __post_init__(self) -> None:
        start = require_aware("starts_at", self.starts_at)
        end = require_aware("ends_at", self.ends_at)
        if end <= start:
            raise ValidationFailed(
                [FieldError("ends_at", Message(N_("A leave must end after it starts.")))]
            )
        object.__setattr__(self, "starts_at", start)
        object.__setattr__(self, "ends_at", end)

    @property
    def interval(self) -> Interval:
        return Interval(self.starts_at, self.ends_at)


class ResourceKind(StrEnum):
    ROOM = "room"
    EQUIPMENT = "equipment"


@dataclass(frozen=True, slots=True)
class Resource:
    """A bookable room or piece of equipment, used by one appointment at a time.

    Attributes:
        category: what appointment types ask for (``consultation_room``, ``ultrasound``,
            ``ecg``); any active resource of that category at the facility will do.
        schedules: its opening hours are :class:`Schedule` rows whose owner is this
            resource; a resource without a schedule is never available.
    """

    id: str
    facility_id: str
    kind: ResourceKind
    category: str
    name: str
    active: bool = True

    @property
    def owner(self) -> Owner:
        return Owner.resource(self.id)


@dataclass(frozen=True, slots=True)
class AppointmentType:
    """A kind of visit: how long it takes and what it needs.

    Attributes:
        duration: time with the patient.
        buffer_before, buffer_after: time the practitioner and resources stay blocked
            around the visit (preparing the room, writing the notes). They may fall
            outside the sessions but never on another booking or on leave.
        resource_categories: one free resource of each category is needed.
        min_notice: bookings closer than this to now are not offered.
        max_advance: bookings farther than this are not offered.
        self_bookable: whether patients may book or move it themselves (SMS, USSD).
    """

    id: str
    service_id: str
    code: str
    name: str
    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    resource_categories: tuple[str, ...] = ()
    min_notice: timedelta = timedelta(0)
    max_advance: timedelta = timedelta(days=180)
    self_bookable: bool = True

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if self.duration <= timedelta(0) or self.duration > timedelta(hours=24):
            errors.append(
                FieldError(
                    "duration",
                    Message(N_("The duration must be more than zero and at most a day.")),
                )
            )
        if self.buffer_before < timedelta(0) or self.buffer_after < timedelta(0):
            errors.append(FieldError("buffer_before", Message(N_("Buffers cannot be negative."))))
        if self.min_notice < timedelta(0) or self.max_advance <= self.min_notice:
            errors.append(
                FieldError(
                    "max_advance",
                    Message(N_("The booking horizon must be longer than the minimum notice.")),
                )
            )
        if len(set(self.resource_categories)) != len(self.resource_categories):
            errors.append(
                FieldError(
                    "resource_categories",
                    Message(N_("Each resource category may be required only once.")),
                )
            )
        _raise(errors)


@dataclass(frozen=True, slots=True)
class FacilityCalendar:
    """Everything slot computation reads for one facility over a period.

    The repository loads it in a few queries. ``bookings`` must hold every active
    booking of the listed practitioners and resources in the period, *at any facility*:
    a doctor who also consults at the district hospital on Tuesday is busy there.
    """

    facility_id: str
    time_zone: str
    schedules: tuple[Schedule, ...] = ()
    extra_sessions: tuple[ExtraSession, ...] = ()
    closures: tuple[Closure, ...] = ()
    leaves: tuple[Leave, ...] = ()
    resources: tuple[Resource, ...] = ()
    appointment_types: tuple[AppointmentType, ...] = ()
    bookings: tuple[Booking, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Booking:
    """What an active appointment blocks: its practitioner and resources, buffers included.

    Attributes:
        occupancy: ``[start - buffer_before, end + buffer_after)``, the interval the
            database guard compares.
    """

    appointment_id: str
    practitioner_id: str
    resource_ids: tuple[str, ...]
    occupancy: Interval
