"""The production job queue: Redis + ARQ workers (``afiya worker``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

ARQ_FUNCTION = "run_outbox_job"


class ArqJobQueue:
    """Enqueues outbox job ids into ARQ.

    The ARQ job id is ``<outbox id>:<attempt>``: ARQ refuses a second job with the same id,
    so a job dispatched twice (by the post-commit dispatch and by a sweep) is queued once,
    while a retry after a failure gets a fresh id.
    """

    def __init__(self, redis_url: str, queue_name: str = "afiya:queue") -> None:
        self._settings = RedisSettings.from_dsn(redis_url)
        self.queue_name = queue_name
        self._pool: ArqRedis | None = None

    async def _redis(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(self._settings, default_queue_name=self.queue_name)
        return self._pool

    async def enqueue(
        self, job_id: UUID, *, defer_until: datetime | None = None, attempt: int = 0
    ) -> None:
        pool = await self._redis()
        await pool.enqueue_job(
            ARQ_FUNCTION,
            str(job_id),
            _job_id=f"{job_id}:{attempt}",
            _defer_until=defer_until,
            _queue_name=self.queue_name,
        )

    async def ping(self) -> None:
        pool = await self._redis()
        await pool.ping()

    async def start(self) -> None:
        await self._redis()

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
