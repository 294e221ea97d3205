"""Ports of the DHIS2 exchange: stores of connections, metadata, mappings, figures, the
ledger, runs and alerts, the figure sources, and the way to reach a DHIS2 server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.payloads import DataValue
from afiya.domain.dhis2.ports import Dhis2Gateway
from afiya.domain.dhis2.sync_model import (
    Alert,
    ChunkStatus,
    ChunkTotals,
    Connection,
    ConnectionCheck,
    Figure,
    FigureMapping,
    FigureQuery,
    LedgerEntry,
    LedgerState,
    MetadataObject,
    PulledValue,
    PullRun,
    PushChunk,
    PushRun,
)


class ConnectionRepository(Protocol):
    """Connections; the secret is stored encrypted and only :meth:`secret` decrypts it."""

    async def add(self, connection: Connection, secret: str) -> None: ...

    async def get(self, connection_id: UUID) -> Connection | None: ...

    async def find_name(self, name: str) -> Connection | None: ...

    async def all(self) -> list[Connection]: ...

    async def update(self, connection: Connection, secret: str | None) -> Connection:
        """Save settings (and a new secret when given); return the stored connection."""
        ...

    async def delete(self, connection_id: UUID) -> None: ...

    async def secret(self, connection_id: UUID) -> str: ...

    async def record_check(
        self, connection_id: UUID, check: ConnectionCheck, at: datetime
    ) -> None: ...


class MetadataStore(Protocol):
    """DHIS2 metadata pulled per connection, and the org-unit matches."""

    async def upsert(
        self, connection_id: UUID, objects: Sequence[MetadataObject]
    ) -> tuple[int, int, list[str]]:
        """Insert or update; return (created, updated, uids whose parent changed)."""
        ...

    async def cursor(self, connection_id: UUID, resource: MetadataResource) -> str | None: ...

    async def set_cursor(
        self, connection_id: UUID, resource: MetadataResource, last_updated: str, at: datetime
    ) -> None: ...

    async def get(
        self, connection_id: UUID, resource: MetadataResource, uid: str
    ) -> MetadataObject | None: ...

    async def browse(
        self,
        connection_id: UUID,
        resource: MetadataResource,
        *,
        search: str | None = None,
        unmatched_only: bool = False,
        after_uid: str | None = None,
        limit: int = 50,
    ) -> list[MetadataObject]: ...

    async def org_units(self, connection_id: UUID) -> list[MetadataObject]: ...

    async def set_matches(
        self, connection_id: UUID, matches: Mapping[str, tuple[UUID | None, str | None]]
    ) -> None: ...

    async def unit_map(self, connection_id: UUID) -> dict[UUID, str]:
        """Afiya unit id -> DHIS2 org unit uid, for every matched unit."""
        ...

    async def codes(
        self, connection_id: UUID, resource: MetadataResource, uids: Iterable[str]
    ) -> dict[str, str]: ...

    async def default_combo(self, connection_id: UUID) -> str | None:
        """The uid of DHIS2's ``default`` category option combo, once pulled."""
        ...

    async def open_future_periods(self, connection_id: UUID) -> dict[str, int]:
        """Data element uid -> the most open future periods among its data sets."""
        ...


class MappingRepository(Protocol):
    async def add(self, mapping: FigureMapping) -> None: ...

    async def get(self, mapping_id: UUID) -> FigureMapping | None: ...

    async def for_connection(
        self, connection_id: UUID, *, active_only: bool = False
    ) -> list[FigureMapping]: ...

    async def update(self, mapping: FigureMapping) -> FigureMapping: ...

    async def delete(self, mapping_id: UUID) -> None: ...

    async def target_taken(self, mapping: FigureMapping) -> bool:
        """Whether another live mapping of the connection has the same target."""
        ...


class FigureSource(Protocol):
    """Where figures come from: the figure table now; PBF results, statistics later."""

    def figures(self, query: FigureQuery) -> AsyncIterator[Figure]:
        """Figures of the query's codes whose periods lie within its dates, streamed."""
        ...


class FigureTable(FigureSource, Protocol):
    """The built-in source: a table other modules (and the API) write figures into."""

    async def upsert(self, figures: Sequence[Figure]) -> tuple[int, int, int]:
        """Return (created, updated, unchanged)."""
        ...

    async def mark_paid(self, keys: Sequence[tuple[str, UUID, str]], paid_at: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class LedgerQuery:
    state: LedgerState | None = None
    data_element: str | None = None
    period: str | None = None
    org_unit: str | None = None
    run_id: UUID | None = None
    after_id: UUID | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class LedgerUpdate:
    """The outcome of one posted value."""

    entry_id: UUID
    state: LedgerState
    conflict_code: str | None = None
    conflict_kind: str | None = None
    conflict_text: str | None = None
    retry_on: date | None = None


class Ledger(Protocol):
    """The per-value sync ledger of pushes."""

    async def current(self, connection_id: UUID, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        """The latest (not superseded) entry of each key that has one."""
        ...

    async def add_many(self, entries: Sequence[LedgerEntry]) -> None: ...

    async def supersede(self, entry_ids: Sequence[UUID]) -> None: ...

    async def set_paid(self, paid: Sequence[tuple[UUID, datetime | None]]) -> None: ...

    async def assign(self, run_id: UUID, entry_chunks: Sequence[tuple[UUID, int]]) -> None:
        """Put entries in a run's chunks and make them pending."""
        ...

    def due_retries(self, connection_id: UUID, today: date) -> AsyncIterator[LedgerEntry]:
        """Retriable conflicts whose retry date has come, streamed."""
        ...

    async def chunk_entries(self, run_id: UUID, chunk_no: int) -> list[LedgerEntry]: ...

    async def record_attempt(
        self, entry_ids: Sequence[UUID], at: datetime, state: LedgerState | None
    ) -> None:
        """Count one more posting of the entries (and set their state when given)."""
        ...

    async def record_outcomes(
        self, updates: Sequence[LedgerUpdate], response: Mapping[str, Any], at: datetime
    ) -> None: ...

    async def earliest_retry(self, run_id: UUID) -> date | None: ...

    async def browse(self, connection_id: UUID, query: LedgerQuery) -> list[LedgerEntry]: ...

    async def paid_accepted(
        self, connection_id: UUID, keys: Sequence[str]
    ) -> dict[str, LedgerEntry]:
        """Current entries among ``keys`` that DHIS2 accepted and that were paid."""
        ...

    async def count_placed(self, run_id: UUID) -> int:
        """How many current entries are placed in a run's chunks (a resumed plan)."""
        ...

    async def chunk_sizes(self, run_id: UUID) -> dict[int, int]:
        """Chunk number -> how many current entries it holds."""
        ...


class PlanCheckpoint(Protocol):
    """Makes what a plan wrote so far durable (a commit), or does nothing."""

    async def __call__(self) -> None: ...


class RunStore(Protocol):
    """Push runs and their chunks, pull runs and the pulled values."""

    async def lock_connection(self, connection_id: UUID) -> None:
        """Serialise the start of runs of one connection (until the transaction ends)."""
        ...

    async def add_run(self, run: PushRun) -> None: ...

    async def get_run(self, run_id: UUID, *, lock: bool = False) -> PushRun | None:
        """``lock`` serialises the chunks of a run finishing at the same time."""
        ...

    async def update_run(self, run: PushRun) -> None: ...

    async def runs(
        self, connection_id: UUID, *, statuses: Iterable[str] = (), limit: int = 50
    ) -> list[PushRun]: ...

    async def add_chunks(self, run_id: UUID, sizes: Sequence[int]) -> None: ...

    async def chunk(self, run_id: UUID, chunk_no: int) -> PushChunk | None: ...

    async def chunks(
        self, run_id: UUID, *, status: ChunkStatus | None = None
    ) -> list[PushChunk]: ...

    async def update_chunk(
        self,
        chunk: PushChunk,
        *,
        status: ChunkStatus,
        attempts: int,
        totals: ChunkTotals | None = None,
        conflicts: Sequence[Mapping[str, Any]] | None = None,
        last_error: str | None = None,
        sent_at: datetime | None = None,
        done_at: datetime | None = None,
    ) -> None: ...

    async def reopen_failed_chunks(self, run_id: UUID) -> None: ...

    async def add_pull(self, run: PullRun) -> None: ...

    async def get_pull(self, pull_id: UUID) -> PullRun | None: ...

    async def update_pull(self, run: PullRun) -> None: ...

    async def store_pulled(
        self, connection_id: UUID, pull_id: UUID, values: Sequence[DataValue], at: datetime
    ) -> None:
        """Upsert pulled values (one row per value key) for cross-checks."""
        ...


@dataclass(frozen=True, slots=True)
class PulledValueQuery:
    """Filters of the pulled values; ``root_path`` is a DHIS2 org-unit path (sub-tree)."""

    data_element: str | None = None
    root_path: str | None = None
    start: date | None = None  # periods lying wholly within start..end
    end: date | None = None
    unit_paths: tuple[str, ...] = ()  # the caller's Afiya sub-trees (scope)
    after_id: int | None = None
    limit: int = 50


class PulledValueStore(Protocol):
    """The values pulled from DHIS2, read back for cross-checks."""

    async def browse(self, connection_id: UUID, query: PulledValueQuery) -> list[PulledValue]:
        """Values matching the filters whose org unit is matched to an Afiya unit inside
        ``unit_paths``, by id, at most ``limit``."""
        ...


class AlertRepository(Protocol):
    async def add_many(self, alerts: Sequence[Alert]) -> int:
        """Store alerts not already raised for the same key and value; return how many."""
        ...

    async def for_connection(
        self, connection_id: UUID, *, open_only: bool = True, limit: int = 100
    ) -> list[Alert]: ...

    async def get(self, alert_id: UUID) -> Alert | None: ...

    async def acknowledge(self, alert_id: UUID, by: str, at: datetime) -> Alert: ...


class GatewayOpener(Protocol):
    """Opens a client to the DHIS2 server of a connection."""

    def open(
        self, connection: Connection, secret: str
    ) -> AbstractAsyncContextManager[Dhis2Gateway]: ...
