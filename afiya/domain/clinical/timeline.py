"""The patient timeline: light items from every clinical source, in time order.

Each source (encounters, observations, notes...) yields its items already sorted by the
timeline key ``(at, id)``; :func:`merge` interleaves them, filters by type and date range,
and cuts a page. Pages are keyset-paginated: the cursor is the key of the last item shown,
so page 100 costs what page 1 costs, and an item inserted meanwhile neither repeats nor
hides another. Repositories use :func:`decode_cursor` and :attr:`TimelineQuery.newest_first`
to push the same predicate into SQL (``(at, id) < (:at, :id)``).
"""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice
from types import MappingProxyType
from uuid import UUID

from afiya.domain.clinical.common import check_time, field_error, raise_if
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

MAX_PAGE = 200
DEFAULT_PAGE = 50


class ItemType(StrEnum):
    ENCOUNTER = "encounter"
    OBSERVATION = "observation"
    DIAGNOSIS = "diagnosis"
    PROBLEM = "problem"
    ALLERGY = "allergy"
    NOTE = "note"
    RESULT = "result"
    IMAGING = "imaging"
    DOCUMENT = "document"
    PRESCRIPTION = "prescription"
    DISPENSING = "dispensing"


LINKS: Mapping[ItemType, str] = MappingProxyType(
    {
        ItemType.ENCOUNTER: "/api/v1/encounters/{id}",
        ItemType.OBSERVATION: "/api/v1/observations/{id}",
        ItemType.DIAGNOSIS: "/api/v1/diagnoses/{id}",
        ItemType.PROBLEM: "/api/v1/problems/{id}",
        ItemType.ALLERGY: "/api/v1/allergies/{id}",
        ItemType.NOTE: "/api/v1/notes/{id}",
        ItemType.RESULT: "/api/v1/results/{id}",
        ItemType.IMAGING: "/api/v1/imaging-reports/{id}",
        ItemType.DOCUMENT: "/api/v1/documents/{id}",
        ItemType.PRESCRIPTION: "/api/v1/prescriptions/{id}",
        ItemType.DISPENSING: "/api/v1/dispensings/{id}",
    }
)


@dataclass(frozen=True, slots=True)
class TimelineItem:
    id: UUID
    type: ItemType
    at: datetime  # aware
    summary: Message  # one line: "Admission, internal medicine", "Temperature 38.5 Cel"
    link: str

    @property
    def key(self) -> tuple[datetime, UUID]:
        return (self.at, self.id)


def item(type: ItemType, id: UUID, at: datetime, summary: Message) -> TimelineItem:
    """A timeline item with its detail link."""
    return TimelineItem(id, type, at, summary, LINKS[type].format(id=id))


@dataclass(frozen=True, slots=True)
class Cursor:
    at: datetime
    id: UUID


@dataclass(frozen=True, slots=True)
class TimelineQuery:
    types: frozenset[ItemType] | None = None  # None: every type
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    cursor: Cursor | None = None
    limit: int = DEFAULT_PAGE
    newest_first: bool = True


@dataclass(frozen=True, slots=True)
class TimelinePage:
    items: tuple[TimelineItem, ...]
    next_cursor: str | None  # None: no more items


def encode_cursor(at: datetime, id: UUID) -> str:
    """An opaque, URL-safe cursor for the key ``(at, id)``."""
    raw = f"{at.astimezone(UTC).isoformat(timespec='microseconds')}|{id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """Read a cursor made by :func:`encode_cursor`.

    Raises:
        ValidationFailed: on ``cursor`` when the token was not made here.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        at_text, id_text = raw.split("|")
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError(at_text)
        return Cursor(at, UUID(id_text))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise_if(
            [
                field_error(
                    "cursor",
                    "invalid_cursor",
                    N_("This page cursor is not valid; start again from the first page."),
                )
            ]
        )
        raise AssertionError from None  # unreachable


def make_query(
    *,
    types: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
    newest_first: bool = True,
) -> TimelineQuery:
    """Validate the timeline's query parameters.

    Raises:
        ValidationFailed: unknown types, naive or inverted dates, a bad limit or cursor.
    """
    errors: list[FieldError] = []
    chosen: frozenset[ItemType] | None = None
    if types is not None:
        names = set(types)
        known = {t.value for t in ItemType}
        if names - known:
            errors.append(
                field_error(
                    "types",
                    "unknown_type",
                    N_("Unknown timeline types: {types}."),
                    types=", ".join(sorted(names - known)),
                )
            )
        chosen = frozenset(ItemType(n) for n in names & known)
    time_errors = check_time("since", since) if since is not None else []
    time_errors += check_time("until", until) if until is not None else []
    errors += time_errors
    if not time_errors and since is not None and until is not None and since >= until:
        errors.append(
            field_error(
                "until", "before_since", N_("The end of the period must come after its start.")
            )
        )
    if not 1 <= limit <= MAX_PAGE:
        errors.append(
            field_error(
                "limit",
                "out_of_range",
                N_("The page size must lie between 1 and {max}."),
                max=MAX_PAGE,
            )
        )
    raise_if(errors)
    return TimelineQuery(
        chosen, since, until, decode_cursor(cursor) if cursor else None, limit, newest_first
    )


def matches(entry: TimelineItem, query: TimelineQuery) -> bool:
    """True when ``entry`` passes the query's type, period and cursor filters."""
    if query.types is not None and entry.type not in query.types:
        return False
    if query.since is not None and entry.at < query.since:
        return False
    if query.until is not None and entry.at >= query.until:
        return False
    if query.cursor is not None:
        mark = (query.cursor.at, query.cursor.id)
        return entry.key < mark if query.newest_first else entry.key > mark
    return True


def merge(sources: Iterable[Iterable[TimelineItem]], query: TimelineQuery) -> TimelinePage:
    """Interleave sorted sources into one page.

    Args:
        sources: item streams, each sorted by ``(at, id)`` in the query's direction
            (descending when ``newest_first``). Each is read lazily, at most one page deep
            past the filters.
        query: the validated query.
    """
    streams: list[Iterator[TimelineItem]] = [
        (entry for entry in source if matches(entry, query)) for source in sources
    ]
    merged = heapq.merge(*streams, key=lambda e: e.key, reverse=query.newest_first)
    taken = list(islice(merged, query.limit + 1))
    page = tuple(taken[: query.limit])
    more = len(taken) > query.limit
    return TimelinePage(page, encode_cursor(page[-1].at, page[-1].id) if more and page else None)


def order(items: Iterable[TimelineItem], *, newest_first: bool = True) -> list[TimelineItem]:
    """Sort items by the timeline key, in the chosen direction."""
    return sorted(items, key=lambda e: e.key, reverse=newest_first)
