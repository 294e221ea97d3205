"""The embedded job queue: asyncio workers inside the ``afiya run`` process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

log = logging.getLogger("afiya.jobs")

Executor = Callable[[UUID], Awaitable[str]]
Sweeper = Callable[[], Awaitable[int]]


class InProcessJobQueue:
    """Runs jobs on the API's event loop with a few concurrent workers.

    Nothing is lost when the process stops: the outbox rows stay pending or enqueued in
    the database and the periodic sweep delivers them again at the next start.
    """

    def __init__(self, concurrency: int = 2, sweep_interval: float = 30.0) -> None:
        self._concurrency = concurrency
        self._sweep_interval = sweep_interval
        self._queue: asyncio.Queue[UUID] = asyncio.Queue()
        self._queued: set[UUID] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self.executor: Executor | None = None
        self.sweeper: Sweeper | None = None

    def bind(self, executor: Executor, sweeper: Sweeper | None = None) -> None:
        self.executor = executor
        self.sweeper = sweeper

    async def enqueue(
        self, job_id: UUID, *, defer_until: datetime | None = None, attempt: int = 0
    ) -> None:
        delay = 0.0
        if defer_until is not None:
            delay = max(0.0, (defer_until - datetime.now(UTC)).total_seconds())
        if delay > 0:
            loop = asyncio.get_running_loop()
            handle = loop.call_later(delay, self._put, job_id)
            self._timers.add(handle)
            return
        self._put(job_id)

    def _put(self, job_id: UUID) -> None:
        if job_id not in self._queued:  # duplicate deliveries collapse while queued
            self._queued.add(job_id)
            self._queue.put_nowait(job_id)

    async def _work(self) -> None:
        while True:
            job_id = await self._queue.get()
            self._queued.discard(job_id)
            try:
                if self.executor is not None:
                    await self.executor(job_id)
            except Exception:  # the runner records failures; this guards the loop
                log.exception("job executor crashed")
            finally:
                self._queue.task_done()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            if self.sweeper is not None:
                try:
                    await self.sweeper()
                except Exception:
                    log.exception("job sweep failed")

    async def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self._concurrency)]
        self._tasks.append(asyncio.create_task(self._sweep_forever()))
        if self.sweeper is not None:
            await self.sweeper()

    async def join(self) -> None:
        """Wait until every queued job has run (tests, graceful stop)."""
        await self._queue.join()

    async def stop(self) -> None:
        for handle in self._timers:
            handle.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
