"""ARQ worker entry (``afiya worker``): runs outbox jobs delivered through Redis."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from arq import cron
from arq.connections import RedisSettings

from afiya.adapters.queue.arq_queue import ARQ_FUNCTION
from afiya.bootstrap import Container, build
from afiya.jobs.registry import handlers, periodic
from afiya.settings import Settings


async def startup(ctx: dict[str, Any]) -> None:
    settings = Settings.from_env()
    container = build(settings)
    container.runner.register_all(handlers(settings.job_modules))
    container.runner.periodic = periodic(settings.job_modules)
    ctx["container"] = container


async def shutdown(ctx: dict[str, Any]) -> None:
    container: Container | None = ctx.get("container")
    if container is not None:
        await container.close()


async def run_outbox_job(ctx: dict[str, Any], job_id: str) -> str:
    """Run one outbox job; idempotent, so ARQ may deliver it more than once."""
    container: Container = ctx["container"]
    return await container.runner.execute(UUID(job_id))


async def sweep(ctx: dict[str, Any]) -> int:
    """Deliver jobs whose post-commit dispatch was lost (a crash between the two)."""
    container: Container = ctx["container"]
    return await container.runner.sweep()


run_outbox_job.__qualname__ = ARQ_FUNCTION


def worker_settings() -> dict[str, Any]:
    settings = Settings.from_env()
    return {
        "functions": [run_outbox_job],
        "cron_jobs": [cron(sweep, second={0, 30}, run_at_startup=True)],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url or "redis://127.0.0.1:6379"),
        "queue_name": settings.arq_queue_name,
        "job_timeout": settings.job_timeout_seconds,
        "max_jobs": 4,
        "keep_result": 3600,
        "handle_signals": True,
    }
