"""Background jobs, written to an outbox in the caller's transaction.

A use case never talks to a queue. It calls :meth:`JobScheduler.schedule`, which writes a
row in the same transaction as the business change; after the commit a dispatcher hands
the row to the queue (in-process runner or ARQ). A rolled-back transaction leaves no row,
so its job never runs; a committed one is retried until it is marked done, and is marked
done in the same transaction as its own effects, so it takes effect once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class JobRequest:
    name: str  # registered handler name, e.g. "notifications.critical_result"
    args: Mapping[str, Any]  # JSON-serialisable ids and values, never objects
    idempotency_key: str  # same key = same job: scheduling twice runs it once
    run_after: datetime | None = None


class JobScheduler(Protocol):
    async def schedule(self, job: JobRequest) -> UUID:
        """Record the job in the current transaction; return its id (existing one if the key
        was already scheduled)."""
        ...


class JobQueue(Protocol):
    """Hands committed outbox jobs to workers. Implementations must tolerate duplicates."""

    async def enqueue(
        self, job_id: UUID, *, defer_until: datetime | None = None, attempt: int = 0
    ) -> None:
        """Deliver the job to a worker (at or after ``defer_until``). ``attempt`` tells
        a retry apart from a duplicate delivery of the same attempt."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
