"""Length of stay and bed occupancy, as hospital statistics count them.

Length of stay (durée de séjour) counts midnights: the number of calendar days between
admission and discharge, in the facility's time zone. A patient admitted on Monday and
discharged on Wednesday stayed 2 days; one admitted and discharged the same day stayed
0 days (a day case), reported separately by :attr:`LengthOfStay.same_day`. This is the
"midnight census" method, which makes the sum of lengths of stay equal the occupied
bed-days of the wards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from afiya.domain.clinical.encounters import Encounter, EncounterStatus, Location


@dataclass(frozen=True, slots=True)
class LengthOfStay:
    days: int  # midnights spent in the facility
    duration: timedelta  # exact time from start to end
    ongoing: bool  # still in the facility: counted up to ``now``

    @property
    def same_day(self) -> bool:
        return self.days == 0


@dataclass(frozen=True, slots=True)
class WardStay:
    """A stretch of an admission in one place, for bed-day statistics per ward."""

    location: Location
    start: datetime
    end: datetime
    days: int


def _midnights(start: datetime, end: datetime, tz: tzinfo) -> int:
    return (end.astimezone(tz).date() - start.astimezone(tz).date()).days


def length_of_stay(encounter: Encounter, *, tz: tzinfo, now: datetime) -> LengthOfStay:
    """The length of stay of ``encounter``, up to ``now`` when it is still open.

    Args:
        encounter: any encounter (for a consultation the figure is its duration).
        tz: the facility's time zone: midnights are local midnights.
        now: the current time, used only while the encounter is open.

    Raises:
        ValueError: for a cancelled encounter, which has no stay.
    """
    if encounter.status is EncounterStatus.CANCELLED:
        raise ValueError("a cancelled encounter has no length of stay")
    end = encounter.ended_at or max(now, encounter.last_event_at)
    return LengthOfStay(
        days=_midnights(encounter.started_at, end, tz),
        duration=end - encounter.started_at,
        ongoing=encounter.ended_at is None,
    )


def ward_stays(encounter: Encounter, *, tz: tzinfo, now: datetime) -> list[WardStay]:
    """Each place an admitted patient lay in, with its midnights (they add up to the stay)."""
    end = encounter.ended_at or max(now, encounter.last_event_at)
    stays: list[WardStay] = []
    for index, movement in enumerate(encounter.movements):
        until = encounter.movements[index + 1].at if index + 1 < len(encounter.movements) else end
        stays.append(
            WardStay(movement.location, movement.at, until, _midnights(movement.at, until, tz))
        )
    return stays
