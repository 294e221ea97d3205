"""Entities of the DHIS2 exchange: connections, pulled metadata, mappings, figures, the
per-value sync ledger, push and pull runs, and alerts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.payloads import DataValue, ImportStrategy
from afiya.domain.dhis2.periods import PeriodType
from afiya.domain.shared.i18n import Message


class AuthKind(StrEnum):
    BASIC = "basic"  # user name and password
    TOKEN = "token"  # noqa: S105 - personal access token (``ApiToken d2pat_...``), DHIS2 2.37+


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """What a caller sets on a connection (the secret travels apart, encrypted)."""

    name: str
    base_url: str
    auth_kind: AuthKind
    username: str | None = None
    timeout_seconds: int = 60
    page_size: int = 200
    chunk_size: int = 1000
    concurrency: int = 2
    retry_delay_seconds: int = 30
    active: bool = True


@dataclass(frozen=True, slots=True)
class Connection:
    """One DHIS2 instance Afiya exchanges with."""

    id: UUID
    settings: ConnectionSettings
    has_secret: bool = True
    dhis2_version: str | None = None
    system_id: str | None = None
    last_tested_at: datetime | None = None
    last_test_ok: bool | None = None
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The answer of ``/api/system/info`` and ``/api/me``, or why they failed."""

    ok: bool
    version: str | None = None
    system_id: str | None = None
    system_name: str | None = None
    username: str | None = None
    authorities: tuple[str, ...] = ()
    org_units: tuple[str, ...] = ()
    can_write_data: bool = False
    error_code: str | None = None
    error: Message | None = None


@dataclass(frozen=True, slots=True)
class MetadataObject:
    """One pulled DHIS2 object, with the fields Afiya reads pulled out of ``data``."""

    resource: MetadataResource
    uid: str
    name: str
    code: str | None = None
    last_updated: str | None = None
    path: str | None = None  # organisation units: "/a/b/c"
    level: int | None = None
    parent_uid: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    afiya_unit_id: UUID | None = None  # organisation units matched to an Afiya unit
    match_method: str | None = None  # "uid" | "code"


@dataclass(frozen=True, slots=True)
class ResourceSyncCount:
    resource: MetadataResource
    received: int
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """DHIS2 organisation units matched to Afiya's, and those that did not match."""

    matched_by_uid: int
    matched_by_code: int
    unmatched: tuple[MetadataObject, ...]
    moved: tuple[str, ...] = ()  # DHIS2 uids whose parent changed (re-districting)


@dataclass(frozen=True, slots=True)
class MetadataSyncReport:
    counts: tuple[ResourceSyncCount, ...]
    reconciliation: Reconciliation
    afiya_units_updated: int = 0
    afiya_unit_errors: tuple[tuple[str, str], ...] = ()


DEFAULT_SOURCE = "figure_table"


@dataclass(frozen=True, slots=True)
class MappingSettings:
    """Which Afiya figure goes to which DHIS2 data element and combos, for a period type."""

    figure: str
    period_type: PeriodType
    data_element: str
    category_option_combo: str | None = None
    attribute_option_combo: str | None = None
    data_set: str | None = None
    source: str = DEFAULT_SOURCE
    active: bool = True


@dataclass(frozen=True, slots=True)
class FigureMapping:
    id: UUID
    connection_id: UUID
    settings: MappingSettings
    version: int = 1


@dataclass(frozen=True, slots=True)
class Figure:
    """A value some Afiya module produced for a unit and a period (a DHIS2 period id).

    ``value`` ``None`` asks DHIS2 to delete its value. ``paid_at`` is set once money was
    paid on the figure (a PBF invoice): a later change in DHIS2 then raises an alert.
    """

    figure: str
    org_unit_id: UUID
    period: str
    value: str | None
    comment: str | None = None
    paid_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FigureQuery:
    figures: tuple[str, ...]
    start: date
    end: date


class LedgerState(StrEnum):
    PENDING = "pending"  # wanted in DHIS2, not sent yet (or sent by a dry run only)
    SENT = "sent"  # posted, answer unknown (connection lost): resent by the next attempt
    IMPORTED = "imported"
    UPDATED = "updated"
    IGNORED = "ignored"  # refused without a conflict (import strategy) or unchanged
    CONFLICT = "conflict"
    SUPERSEDED = "superseded"  # a newer value of the same key replaced this one


SETTLED = frozenset({LedgerState.IMPORTED, LedgerState.UPDATED, LedgerState.IGNORED})
ACCEPTED = frozenset({LedgerState.IMPORTED, LedgerState.UPDATED})


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One version of one value pushed to one DHIS2 connection."""

    id: UUID
    connection_id: UUID
    value: DataValue
    content_hash: str
    state: LedgerState
    run_id: UUID | None = None
    chunk_no: int | None = None
    attempts: int = 0
    conflict_code: str | None = None
    conflict_kind: str | None = None  # "blocking" | "retriable"
    conflict_text: str | None = None
    retry_on: date | None = None
    response: Mapping[str, Any] = field(default_factory=dict)
    paid_at: datetime | None = None
    replaces_accepted: bool = False  # DHIS2 accepted an earlier version of this key
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None
    settled_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def value_key(self) -> str:
        return value_key(self.value)


def value_key(value: DataValue) -> str:
    """The DHIS2 identity of a value as one short string (uids hold no ``|``)."""
    return "|".join(
        (
            value.data_element,
            value.period,
            value.org_unit,
            value.category_option_combo or "",
            value.attribute_option_combo or "",
        )
    )


class RunStatus(StrEnum):
    PLANNING = "planning"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # stopped on an error that needs a person; resumable
    ABANDONED = "abandoned"  # a later run took over its values


ACTIVE_RUN = frozenset({RunStatus.PLANNING, RunStatus.RUNNING})
ID_SCHEMES = frozenset({"UID", "CODE"})


@dataclass(frozen=True, slots=True)
class PushOptions:
    dry_run: bool = False
    import_strategy: ImportStrategy = ImportStrategy.CREATE_AND_UPDATE
    id_scheme: str = "UID"  # UID or CODE, for data elements, org units and combos
    chunk_size: int = 1000
    concurrency: int = 2
    async_import: bool = False


@dataclass(frozen=True, slots=True)
class PushSelection:
    start: date | None = None
    end: date | None = None
    mapping_ids: tuple[UUID, ...] = ()  # empty: every active mapping
    retry_only: bool = False  # only retriable conflicts whose retry date has come


@dataclass(frozen=True, slots=True)
class PlanReport:
    planned: int = 0
    unchanged: int = 0
    blocked: int = 0  # same value still refused by a blocking conflict
    waiting: int = 0  # retriable conflict whose retry date is still ahead
    unmatched_units: int = 0
    wrong_period_type: int = 0


@dataclass(frozen=True, slots=True)
class ChunkTotals:
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0
    conflicts: int = 0


@dataclass(frozen=True, slots=True)
class PushRun:
    id: UUID
    connection_id: UUID
    status: RunStatus
    options: PushOptions
    selection: PushSelection
    plan: PlanReport = PlanReport()
    total_values: int = 0
    total_chunks: int = 0
    chunks_done: int = 0
    totals: ChunkTotals = ChunkTotals()
    error: str | None = None
    resumes: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ChunkStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PushChunk:
    run_id: UUID
    chunk_no: int
    status: ChunkStatus
    size: int
    attempts: int = 0
    totals: ChunkTotals = ChunkTotals()
    conflicts: tuple[Mapping[str, Any], ...] = ()
    last_error: str | None = None
    sent_at: datetime | None = None
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PullRequest:
    data_set: str
    org_unit: str  # DHIS2 uid of the sub-tree root
    children: bool = True
    periods: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    include_deleted: bool = False


@dataclass(frozen=True, slots=True)
class PullRun:
    id: UUID
    connection_id: UUID
    request: PullRequest
    status: RunStatus
    received: int = 0
    alerts: int = 0
    error: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """A value DHIS2 now holds differently from what Afiya sent and was paid on."""

    id: UUID
    connection_id: UUID
    kind: str
    value_key: str
    expected: str | None
    found: str | None
    dhis2_last_updated: str | None
    paid_at: datetime | None
    created_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None


@dataclass(frozen=True, slots=True)
class PulledValue:
    """The latest value DHIS2 holds for a key, as last pulled (for cross-checks)."""

    id: int
    connection_id: UUID
    pull_id: UUID
    value: DataValue  # with DHIS2's stored_by, last_updated and deleted
    pulled_at: datetime
    afiya_unit_id: UUID | None = None  # the Afiya unit the DHIS2 org unit is matched to
