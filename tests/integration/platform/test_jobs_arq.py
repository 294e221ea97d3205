"""ARQ on the real Redis with real worker processes: a worker killed mid-job loses
nothing and the job takes effect once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import func, select

from afiya.adapters.db.models import AuditEventRow, JobRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.bootstrap import build
from afiya.domain.platform.jobs import JobRequest
from tests.conftest import FAST_HASHER, REDIS_URL, REPO, TEST_BLIND_KEY, TEST_KEYS, missing_service


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        missing_service("Redis", exc)
    return REDIS_URL


@pytest.fixture
async def arq_container(settings, redis_url):
    from dataclasses import replace

    arq_settings = replace(
        settings,
        job_queue="arq",
        redis_url=redis_url,
        arq_queue_name=f"afiya:test:{uuid.uuid4().hex[:8]}",
        job_timeout_seconds=2,
    )
    built = build(arq_settings, hasher=FAST_HASHER)
    yield built
    await built.close()


def _start_worker(container) -> subprocess.Popen[bytes]:
    s = container.settings
    env = {
        **os.environ,
        "AFIYA_DATABASE_URL": s.database_url,
        "AFIYA_VAR_DIR": str(s.var_dir),
        "AFIYA_JOB_QUEUE": "arq",
        "AFIYA_REDIS_URL": s.redis_url,
        "AFIYA_ARQ_QUEUE_NAME": s.arq_queue_name,
        "AFIYA_JOB_TIMEOUT_SECONDS": "2",
        "AFIYA_JOB_MODULES": "tests.integration.platform.job_handlers",
        "AFIYA_ENCRYPTION_KEYS": TEST_KEYS,
        "AFIYA_BLIND_INDEX_KEY": TEST_BLIND_KEY,
        "AFIYA_JWT_SECRET": s.jwt_secret,
        "AFIYA_NODE_ID": "test-node",
        "AFIYA_LOG_JSON": "false",
        "AFIYA_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "afiya.cli", "worker"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _wait_for_status(container, job_id, status, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with container.sessions() as session:
            job = await session.get(JobRow, job_id)
            if job is not None and job.status == status:
                return job
        await asyncio.sleep(0.3)
    raise AssertionError(f"job {job_id} never reached {status}")


async def _effects(container, tag):
    async with container.sessions() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(AuditEventRow)
                .where(AuditEventRow.action == "test.job_effect", AuditEventRow.resource_id == tag)
            )
        ).scalar_one()


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def test_a_worker_killed_mid_job_is_replaced_and_the_job_takes_effect_once(
    arq_container, tmp_path
):
    marker = tmp_path / "crashed"
    async with arq_container.uow(SYSTEM_CONTEXT) as uow:
        job_id = await uow.jobs.schedule(
            JobRequest("test.crash_once", {"tag": "crash", "marker": str(marker)}, "crash-1")
        )
        await uow.commit()  # dispatches to ARQ after the commit
    first = _start_worker(arq_container)
    try:
        assert first.wait(timeout=60) == 17  # the handler killed its worker mid-run
    finally:
        _stop(first)
    assert marker.exists()
    assert await _effects(arq_container, "crash") == 0  # nothing committed by the dead run

    second = _start_worker(arq_container)  # ARQ re-delivers once the in-progress lock expires
    try:
        job = await _wait_for_status(arq_container, job_id, "done")
    finally:
        _stop(second)
    assert await _effects(arq_container, "crash") == 1
    assert job.attempts == 1


async def test_a_job_delivered_twice_by_arq_takes_effect_once(arq_container):
    async with arq_container.uow(SYSTEM_CONTEXT) as uow:
        job_id = await uow.jobs.schedule(
            JobRequest("test.record_effect", {"tag": "twice"}, "twice-1")
        )
        await uow.commit()
    await arq_container.queue.enqueue(job_id, attempt=99)  # a second, distinct ARQ job
    worker = _start_worker(arq_container)
    try:
        await _wait_for_status(arq_container, job_id, "done")
        await asyncio.sleep(2.0)  # let the duplicate delivery run too
    finally:
        _stop(worker)
    assert await _effects(arq_container, "twice") == 1
