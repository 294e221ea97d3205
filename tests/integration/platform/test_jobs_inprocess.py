"""Jobs go through the outbox: rolled back → never run; committed → effect exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from afiya.adapters.db.models import AuditEventRow, JobRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.domain.platform.jobs import JobRequest
from tests.integration.platform import job_handlers


async def _effects(container, tag):
    async with container.sessions() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(AuditEventRow)
                .where(AuditEventRow.action == "test.job_effect", AuditEventRow.resource_id == tag)
            )
        ).scalar_one()


async def _job(container, key):
    async with container.sessions() as session:
        return (
            await session.execute(select(JobRow).where(JobRow.idempotency_key == key))
        ).scalar_one_or_none()


async def _schedule(container, name, key, **args):
    async with container.uow(SYSTEM_CONTEXT) as uow:
        job_id = await uow.jobs.schedule(JobRequest(name, args, key))
        await uow.commit()
    return job_id


async def test_a_job_scheduled_in_a_rolled_back_transaction_never_runs(container):
    container.runner.register_all(job_handlers.HANDLERS)
    await container.start()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        await uow.jobs.schedule(JobRequest("test.record_effect", {"tag": "rb"}, "rb-1"))
        await uow.rollback()
    await container.runner.sweep(stale_after_seconds=0)
    await container.queue.join()
    assert await _job(container, "rb-1") is None
    assert await _effects(container, "rb") == 0


async def test_a_committed_job_runs_once_even_when_delivered_twice(container):
    container.runner.register_all(job_handlers.HANDLERS)
    await container.start()
    job_id = await _schedule(container, "test.record_effect", "once-1", tag="once")
    await container.queue.join()
    assert (await _job(container, "once-1")).status == "done"
    # A duplicate delivery (queue redelivery, sweep) finds the job done.
    assert await container.runner.execute(job_id) == "skipped"
    await container.runner.sweep(stale_after_seconds=0)
    await container.queue.join()
    assert await _effects(container, "once") == 1


async def test_scheduling_the_same_idempotency_key_twice_gives_one_job(container):
    container.runner.register_all(job_handlers.HANDLERS)
    first = await _schedule(container, "test.record_effect", "dup-1", tag="dup")
    second = await _schedule(container, "test.record_effect", "dup-1", tag="dup")
    assert first == second


async def test_a_failed_attempt_rolls_back_its_effects_and_is_retried(container, tmp_path):
    container.runner.register_all(job_handlers.HANDLERS)
    job_id = await _schedule(
        container, "test.fail_once", "retry-1", tag="retry", marker=str(tmp_path / "marker")
    )
    assert await container.runner.execute(job_id) == "retry"
    job = await _job(container, "retry-1")
    assert job.status == "pending" and job.attempts == 1 and "transient" in job.last_error
    assert await _effects(container, "retry") == 0  # the failed attempt left nothing
    # Back-off: the retry waits; run it as the clock would at that time.
    assert job.run_after > container.clock.now() + timedelta(seconds=1)
    async with container.sessions() as session:
        row = await session.get(JobRow, job_id)
        row.run_after = container.clock.now()
        await session.commit()
    assert await container.runner.execute(job_id) == "done"
    assert await _effects(container, "retry") == 1


async def test_a_job_whose_dispatch_was_lost_is_found_by_the_sweep(container):
    container.runner.register_all(job_handlers.HANDLERS)
    dispatch, container.uow.dispatch = container.uow.dispatch, None  # crash after commit
    await _schedule(container, "test.record_effect", "lost-1", tag="lost")
    container.uow.dispatch = dispatch
    assert (await _job(container, "lost-1")).status == "pending"
    await container.start()  # the start-up sweep delivers it
    await container.queue.join()
    assert await _effects(container, "lost") == 1


async def test_daily_housekeeping_is_scheduled_once_per_day_and_purges_old_sessions(
    container, client
):
    from datetime import timedelta

    from afiya.adapters.db.models import RefreshTokenRow
    from afiya.jobs.registry import periodic

    await client.post(
        "/api/v1/auth/login", json={"username": "demo.nurse", "password": "Afiya-demo-2026"}
    )
    async with container.sessions() as session:
        token = (await session.execute(select(RefreshTokenRow))).scalars().first()
        token.expires_at = container.clock.now() - timedelta(days=60)
        await session.commit()
    container.runner.periodic = periodic()
    await container.runner.sweep()
    await container.runner.sweep()  # a second sweep the same day schedules nothing new
    await container.queue.join()
    async with container.sessions() as session:
        jobs = (
            (await session.execute(select(JobRow).where(JobRow.name.like("platform.%"))))
            .scalars()
            .all()
        )
        left = await session.execute(select(func.count()).select_from(RefreshTokenRow))
    today = container.clock.now().date().isoformat()
    assert sorted(j.idempotency_key for j in jobs) == [
        f"platform.purge_refresh_tokens:{today}",
        f"platform.verify_audit_chain:{today}",
    ]
    assert {j.status for j in jobs} == {"done"}
    assert left.scalar_one() == 0
