"""Runs one outbox job exactly once in effect, whichever queue delivered it."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from afiya.adapters.db.models.platform import JobRow
from afiya.adapters.db.repositories.jobs import (
    claim_job,
    due_jobs,
    mark_enqueued,
    record_attempt_failure,
)
from afiya.adapters.db.uow import UnitOfWork, UnitOfWorkFactory
from afiya.domain.audit.model import AuditContext

log = logging.getLogger("afiya.jobs")


@dataclass
class JobContext:
    """What a handler gets: its own unit of work (committed with the job), and services."""

    uow: UnitOfWork
    job_id: UUID
    attempt: int
    services: Any = None


Handler = Callable[..., Awaitable[None]]
Periodic = Callable[[UnitOfWork, datetime], Awaitable[None]]
"""Schedules recurring jobs through the outbox; idempotency keys make repeated calls harmless."""


class QueueLike(Protocol):
    async def enqueue(
        self, job_id: UUID, *, defer_until: datetime | None = None, attempt: int = 0
    ) -> None: ...


@dataclass
class JobRunner:
    """Executes outbox jobs.

    A job's effects and its ``done`` mark commit in one transaction: a worker that dies
    mid-run leaves the job pending (its partial effects roll back) and a later delivery
    runs it again; a duplicate delivery of a finished job finds it done and does nothing.
    """

    uow_factory: UnitOfWorkFactory
    handlers: dict[str, Handler] = field(default_factory=dict)
    services: Any = None
    queue: QueueLike | None = None
    node: str = "central"
    periodic: list[Periodic] = field(default_factory=list)

    def register(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    def register_all(self, handlers: Mapping[str, Handler]) -> None:
        self.handlers.update(handlers)

    def _context(self, job_id: UUID) -> AuditContext:
        return AuditContext(
            user_id=None,
            username="system:jobs",
            roles=None,
            ip=None,
            user_agent=None,
            node=self.node,
            request_id=f"job:{job_id}",
        )

    async def execute(self, job_id: UUID) -> str:
        """Run the job; return ``done``, ``skipped``, ``deferred``, ``retry`` or ``failed``."""
        now = self.uow_factory.clock.now()
        try:
            async with self.uow_factory(self._context(job_id)) as uow:
                row: JobRow | None = await claim_job(uow.session, job_id)
                if row is None:
                    return "skipped"
                if row.run_after is not None and row.run_after > now:
                    run_after = row.run_after
                    await uow.rollback()
                    await self._requeue(job_id, run_after, row.attempts)
                    return "deferred"
                handler = self.handlers.get(row.name)
                if handler is None:
                    raise LookupError(f"no handler registered for job {row.name!r}")
                attempt = row.attempts + 1
                row.started_at = now
                await handler(JobContext(uow, job_id, attempt, self.services), **dict(row.args))
                row.status = "done"
                row.attempts = attempt
                row.finished_at = self.uow_factory.clock.now()
                await uow.commit()
                return "done"
        except Exception as exc:
            log.warning("job failed", extra={"job_id": str(job_id), "error": type(exc).__name__})
            return await self._fail(job_id, exc)

    async def _fail(self, job_id: UUID, exc: BaseException) -> str:
        now = self.uow_factory.clock.now()
        async with self.uow_factory(self._context(job_id)) as uow:
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            outcome, run_after, attempts = await record_attempt_failure(
                uow.session, job_id, text, now
            )
            await uow.commit()
        if outcome == "retry":
            await self._requeue(job_id, run_after, attempts)
        return outcome

    async def _requeue(self, job_id: UUID, run_after: datetime | None, attempt: int) -> None:
        if self.queue is not None:
            await self.queue.enqueue(job_id, defer_until=run_after, attempt=attempt)

    async def dispatch(self, scheduled: list[tuple[UUID, datetime | None]]) -> None:
        """After a commit: hand new jobs to the queue and mark them enqueued.

        A crash between the commit and here loses nothing: :meth:`sweep` finds them.
        """
        if self.queue is None:
            return
        for job_id, run_after in scheduled:
            await self.queue.enqueue(job_id, defer_until=run_after)
        async with self.uow_factory(self._context(scheduled[0][0])) as uow:
            await mark_enqueued(uow.session, [job_id for job_id, _ in scheduled])
            await uow.commit()

    async def sweep(self, stale_after_seconds: int = 600) -> int:
        """Schedule recurring jobs, then re-deliver pending jobs and jobs enqueued long ago
        that never finished."""
        now = self.uow_factory.clock.now()
        if self.periodic:
            async with self.uow_factory(self._context(UUID(int=0))) as uow:
                for schedule in self.periodic:
                    await schedule(uow, now)
                await uow.commit()
        async with self.uow_factory(self._context(UUID(int=0))) as uow:
            due = await due_jobs(
                uow.session, now, stale_before=now - timedelta(seconds=stale_after_seconds)
            )
        if due:
            await self.dispatch(due)
        return len(due)
