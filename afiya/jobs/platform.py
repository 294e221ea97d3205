"""Platform jobs: housekeeping of sessions and a nightly audit-chain check."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete

from afiya.adapters.db.models.identity import RefreshTokenRow
from afiya.adapters.db.repositories.audit import verify_stored_chain
from afiya.adapters.db.uow import UnitOfWork
from afiya.adapters.queue.runner import Handler, JobContext
from afiya.domain.platform.jobs import JobRequest

log = logging.getLogger("afiya.jobs")


async def purge_refresh_tokens(ctx: JobContext, keep_days: int = 30) -> None:
    """Delete refresh tokens that expired more than ``keep_days`` ago (idempotent)."""
    cutoff = ctx.uow.clock.now() - timedelta(days=keep_days)
    await ctx.uow.session.execute(
        delete(RefreshTokenRow).where(RefreshTokenRow.expires_at < cutoff)
    )


async def verify_audit_chain(ctx: JobContext) -> None:
    """Walk the audit chain; a break is logged as an error for the operators' alerting."""
    _, broken = await verify_stored_chain(ctx.uow.session)
    if broken is not None:
        log.error("audit chain broken", extra={"error": f"seq {broken.seq}: {broken.reason}"})


async def schedule_housekeeping(uow: UnitOfWork, now: datetime) -> None:
    """Once a day (the key holds the UTC date): purge old sessions, verify the audit chain."""
    day = now.date().isoformat()
    for name in ("platform.purge_refresh_tokens", "platform.verify_audit_chain"):
        await uow.jobs.schedule(JobRequest(name, {}, f"{name}:{day}"))


PERIODIC = [schedule_housekeeping]

HANDLERS: dict[str, Handler] = {
    "platform.purge_refresh_tokens": purge_refresh_tokens,
    "platform.verify_audit_chain": verify_audit_chain,
}
