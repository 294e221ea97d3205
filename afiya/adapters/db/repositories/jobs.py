"""The job outbox in SQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import session_now
from afiya.adapters.db.models.platform import JobRow
from afiya.domain.platform.jobs import JobRequest
from afiya.domain.shared.ids import uuid7


class SqlJobScheduler:
    """Writes jobs in the caller's transaction; remembers them for the post-commit dispatch."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.scheduled: list[tuple[UUID, datetime | None]] = []

    async def schedule(self, job: JobRequest) -> UUID:
        existing = (
            await self._session.execute(
                select(JobRow.id).where(JobRow.idempotency_key == job.idempotency_key)
            )
        ).scalar_one_or_none()
        if existing is not None:
            return existing
        job_id = uuid7()
        self._session.add(
            JobRow(
                id=job_id,
                name=job.name,
                args=dict(job.args),
                idempotency_key=job.idempotency_key,
                status="pending",
                attempts=0,
                max_attempts=8,
                run_after=job.run_after,
                created_at=session_now(self._session),
            )
        )
        await self._session.flush()
        self.scheduled.append((job_id, job.run_after))
        return job_id


async def claim_job(session: AsyncSession, job_id: UUID) -> JobRow | None:
    """Lock the job row for this transaction; None when it is done, failed or missing.

    ``FOR UPDATE`` makes a second worker that picked the same job (a duplicate delivery)
    wait, then see it done. SQLite ignores it, but there the transaction holds the write
    lock from its start.
    """
    row = (
        await session.execute(select(JobRow).where(JobRow.id == job_id).with_for_update())
    ).scalar_one_or_none()
    if row is None or row.status in {"done", "failed"}:
        return None
    return row


async def record_attempt_failure(
    session: AsyncSession, job_id: UUID, error: str, now: datetime
) -> tuple[str, datetime | None, int]:
    """Count a failed attempt; schedule a retry with exponential back-off or give up."""
    row = await session.get(JobRow, job_id, with_for_update=True)
    if row is None:
        return "missing", None, 0
    row.attempts += 1
    row.last_error = error[:4000]
    if row.attempts >= row.max_attempts:
        row.status = "failed"
        row.finished_at = now
        return "failed", None, row.attempts
    row.status = "pending"
    row.run_after = now + timedelta(seconds=min(2**row.attempts, 3600))
    return "retry", row.run_after, row.attempts


async def due_jobs(
    session: AsyncSession, now: datetime, *, stale_before: datetime, limit: int = 500
) -> list[tuple[UUID, datetime | None]]:
    """Pending jobs, plus ``enqueued`` ones not finished since ``stale_before`` (lost)."""
    rows = await session.execute(
        select(JobRow.id, JobRow.run_after)
        .where(
            or_(
                JobRow.status == "pending",
                (JobRow.status == "enqueued")
                & (JobRow.created_at < stale_before)
                & ((JobRow.started_at.is_(None)) | (JobRow.started_at < stale_before)),
            )
        )
        .order_by(JobRow.id)
        .limit(limit)
    )
    return [(job_id, run_after) for job_id, run_after in rows]


async def mark_enqueued(session: AsyncSession, job_ids: list[UUID]) -> None:
    if job_ids:
        await session.execute(
            update(JobRow)
            .where(JobRow.id.in_(job_ids), JobRow.status == "pending")
            .values(status="enqueued")
        )


def job_args(row: JobRow) -> dict[str, Any]:
    return dict(row.args or {})
