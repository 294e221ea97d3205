"""Job handlers used by the job tests (loaded through AFIYA_JOB_MODULES by real workers)."""

from __future__ import annotations

import os
from pathlib import Path

from afiya.adapters.queue.runner import JobContext
from afiya.domain.audit.model import AuditRecord


async def record_effect(ctx: JobContext, tag: str) -> None:
    """The job's effect: one audit row, written in the job's own transaction."""
    await ctx.uow.audit.record(AuditRecord("test.job_effect", "job", tag))


async def crash_once(ctx: JobContext, tag: str, marker: str) -> None:
    """Kill the worker process mid-run the first time (no commit happens)."""
    await record_effect(ctx, tag)
    await ctx.uow.session.flush()
    if not Path(marker).exists():
        Path(marker).write_text("crashed once")
        os._exit(17)


async def fail_once(ctx: JobContext, tag: str, marker: str) -> None:
    await record_effect(ctx, tag)
    if not Path(marker).exists():
        Path(marker).write_text("failed once")
        raise RuntimeError("transient failure")


HANDLERS = {
    "test.record_effect": record_effect,
    "test.crash_once": crash_once,
    "test.fail_once": fail_once,
}
