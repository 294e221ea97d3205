"""Composition root: settings → adapters → units of work, shared by every entry point.

The API, the ARQ worker, the USSD/SMS channels and the CLI all call :func:`build` and
get the same wiring; only this module knows which adapter backs which port.
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from afiya.adapters.blob.local import LocalBlobStore
from afiya.adapters.crypto.envelope import (
    AesGcmFieldCipher,
    HmacBlindIndex,
    KeyRing,
    load_key_ring,
)
from afiya.adapters.crypto.passwords import Argon2PasswordHasher
from afiya.adapters.crypto.tokens import JwtAccessTokens
from afiya.adapters.db.engine import create_engine, create_session_factory
from afiya.adapters.db.uow import UnitOfWorkFactory
from afiya.adapters.queue.inprocess import InProcessJobQueue
from afiya.adapters.queue.runner import JobRunner
from afiya.domain.identity.rules import LoginPolicy
from afiya.domain.platform.blobs import BlobStore
from afiya.domain.platform.jobs import JobQueue
from afiya.domain.shared.clock import Clock, HybridLogicalClock, SystemClock
from afiya.settings import Settings


@dataclass
class Container:
    """Everything an entry point needs, built once per process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    key_ring: KeyRing
    uow: UnitOfWorkFactory
    hasher: Argon2PasswordHasher
    tokens: JwtAccessTokens
    queue: Any  # JobQueue: InProcessJobQueue or ArqJobQueue
    runner: JobRunner
    blobs: BlobStore
    login_policy: LoginPolicy
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def sms(self) -> Any:
        """The default SMS gateway, built on first use (vendor SDKs load only if needed)."""
        if "sms" not in self.extras:
            self.extras["sms"] = _sms_gateway(self.settings)
        return self.extras["sms"]

    @property
    def refresh_lifetime(self) -> timedelta:
        return timedelta(days=self.settings.refresh_token_days)

    async def readiness(self) -> dict[str, str]:
        """Check each configured dependency; values are ``ok`` or the error class."""
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = type(exc).__name__
        if self.settings.redis_url:
            try:
                await self.queue.ping() if hasattr(self.queue, "ping") else await _ping_redis(
                    self.settings.redis_url
                )
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = type(exc).__name__
        try:
            await self.blobs.check()
            checks["blob_store"] = "ok"
        except Exception as exc:
            checks["blob_store"] = type(exc).__name__
        return checks

    async def start(self) -> None:
        await self.queue.start()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.queue.stop()
        for extra in list(self.extras.values()):  # built on demand: hubs, clients, gateways
            closer = getattr(extra, "aclose", None) or getattr(extra, "close", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    result = closer()
                    if inspect.isawaitable(result):
                        await result
        await self.engine.dispose()


async def _ping_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.ping()
    finally:
        await client.aclose()


def _blob_store(settings: Settings) -> BlobStore:
    if settings.blob_store == "s3":
        from afiya.adapters.blob.s3 import S3BlobStore

        return S3BlobStore(
            endpoint_url=settings.s3_endpoint_url,
            bucket=settings.s3_bucket,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
        )
    return LocalBlobStore(settings.effective_blob_dir)


def _job_queue(settings: Settings) -> JobQueue:
    if settings.job_queue == "arq":
        from afiya.adapters.queue.arq_queue import ArqJobQueue

        return ArqJobQueue(settings.redis_url, queue_name=settings.arq_queue_name)
    return InProcessJobQueue()


def _sms_gateway(settings: Settings) -> Any:
    import json

    from afiya.adapters.sms.registry import GATEWAYS

    config = json.loads(settings.sms_gateway_config or "{}")
    return GATEWAYS.create(settings.sms_gateway, config)


def build(
    settings: Settings, *, clock: Clock | None = None, hasher: Argon2PasswordHasher | None = None
) -> Container:
    """Wire the adapters chosen by ``settings``."""
    clock = clock or SystemClock()
    engine = create_engine(settings.effective_database_url, pool_size=settings.database_pool_size)
    sessions = create_session_factory(engine)
    ring = load_key_ring(
        settings.encryption_keys,
        settings.blind_index_key,
        settings.effective_key_file,
        create=settings.env != "production",
    )
    uow = UnitOfWorkFactory(
        sessions=sessions,
        read_sessions=create_session_factory(engine, read_only=True),
        cipher=AesGcmFieldCipher(ring),
        blind_index=HmacBlindIndex(ring.blind_index_key),
        clock=clock,
        hlc=HybridLogicalClock(clock),
        node=settings.node_id,
    )
    queue = _job_queue(settings)
    runner = JobRunner(uow_factory=uow, queue=queue, node=settings.node_id)
    uow.dispatch = runner.dispatch
    if isinstance(queue, InProcessJobQueue):
        queue.bind(runner.execute, runner.sweep)
    container = Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        key_ring=ring,
        uow=uow,
        hasher=hasher or Argon2PasswordHasher(),
        tokens=JwtAccessTokens(
            settings.jwt_signing_secret(), timedelta(minutes=settings.access_token_minutes)
        ),
        queue=queue,
        runner=runner,
        blobs=_blob_store(settings),
        login_policy=LoginPolicy(
            max_failures=settings.login_max_failures,
            lockout=timedelta(minutes=settings.login_lockout_minutes),
        ),
    )
    runner.services = container
    return container
