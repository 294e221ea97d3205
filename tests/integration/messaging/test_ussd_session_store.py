"""USSD session stores: memory (embedded) and Redis (shared by API processes), with expiry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from afiya.channels.sms_ussd.session import Frame, UssdSession
from afiya.channels.sms_ussd.store import MemoryUssdSessionStore, RedisUssdSessionStore
from tests.conftest import REDIS_URL, missing_service

SESSION = UssdSession(
    "ATUid_1",
    consumed=3,
    language="ar",
    patient_id="p-1",
    stack=(Frame("language"), Frame("main"), Frame("appointment", {"appointment_id": "a"})),
)


@pytest.fixture
async def redis() -> AsyncIterator[Any]:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        missing_service("Redis", exc)
    yield client
    await client.aclose()


class TestMemoryStore:
    async def test_round_trip_drop_and_expiry(self) -> None:
        store = MemoryUssdSessionStore(ttl_seconds=0.2)
        await store.save(SESSION)
        assert await store.load("ATUid_1") == SESSION
        await store.drop("ATUid_1")
        assert await store.load("ATUid_1") is None
        await store.save(SESSION)
        await asyncio.sleep(0.3)
        assert await store.load("ATUid_1") is None

    async def test_memory_stays_bounded(self) -> None:
        store = MemoryUssdSessionStore(ttl_seconds=60, max_sessions=3)
        for index in range(5):
            await store.save(UssdSession(f"s{index}"))
        assert len(store) == 3
        assert await store.load("s0") is None and await store.load("s4") is not None


class TestRedisStore:
    async def test_a_session_saved_by_one_process_is_read_by_another(self, redis) -> None:
        prefix = f"afiya-test:ussd:{uuid.uuid4().hex}:"
        writer = RedisUssdSessionStore(redis, ttl_seconds=60, prefix=prefix)
        reader = RedisUssdSessionStore(redis, ttl_seconds=60, prefix=prefix)
        await writer.save(SESSION)
        assert await reader.load("ATUid_1") == SESSION
        assert 0 < await redis.ttl(prefix + "ATUid_1") <= 60
        await reader.drop("ATUid_1")
        assert await writer.load("ATUid_1") is None

    async def test_expired_and_malformed_records_read_as_none(self, redis) -> None:
        prefix = f"afiya-test:ussd:{uuid.uuid4().hex}:"
        store = RedisUssdSessionStore(redis, ttl_seconds=1, prefix=prefix)
        await store.save(SESSION)
        await asyncio.sleep(1.2)
        assert await store.load("ATUid_1") is None
        await redis.set(prefix + "bad", "{not json", ex=60)
        assert await store.load("bad") is None
        await redis.delete(prefix + "bad")
