"""The staff notification hub: change log → mappers → broker, in memory and through Redis
shared by two "processes" (two hubs), with one relay at a time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.api.messaging.hub import (
    MAPPERS,
    ChangeEntry,
    NotificationHub,
    StaffEvent,
    map_entries,
    register_mapper,
)
from tests.conftest import REDIS_URL, missing_service


async def _feed_item(container, kind: str = "reminder_failed", path: str = "/MR/") -> str:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        item_id = await uow.messaging.add_feed_item(
            kind=kind,
            unit_path=path,
            patient_id=None,
            resource_type="appointment",
            resource_id="a-1",
            details={"provider": "console"},
            now=container.clock.now(),
        )
        await uow.commit()
    return item_id


async def _next(queue: asyncio.Queue[StaffEvent], timeout: float = 10.0) -> StaffEvent:
    return await asyncio.wait_for(queue.get(), timeout)


class TestMappers:
    def test_an_arrival_maps_to_patient_arrived_and_other_updates_to_nothing(self) -> None:
        data = {"status": "arrived", "unit_path": "/MR/NKC/", "patient_id": "p-1"}
        arrived = ChangeEntry(7, "appointment", "a-1", "update", data, "2025-03-10T09:00:00")
        [event] = map_entries([arrived])
        assert (event.kind, event.patient_id, event.unit_path, event.id) == (
            "patient_arrived",
            "p-1",
            "/MR/NKC/",
            "7",
        )
        confirmed = ChangeEntry(8, "appointment", "a-1", "update", {"status": "confirmed"}, "t")
        assert map_entries([confirmed]) == []

    def test_a_module_adds_a_kind_by_registering_a_mapper(self) -> None:
        def critical(entry: ChangeEntry) -> StaffEvent:
            return StaffEvent(
                str(entry.seq), "critical_result", "/MR/", "result", entry.entity_id, None, "t"
            )

        register_mapper("test_critical_table", critical)
        try:
            with pytest.raises(ValueError, match="already registered"):
                register_mapper("test_critical_table", critical)
            [event] = map_entries([ChangeEntry(1, "test_critical_table", "r", "insert", {}, "t")])
            assert event.kind == "critical_result"
        finally:
            MAPPERS.pop("test_critical_table")


class TestInMemoryHub:
    async def test_a_committed_feed_item_reaches_subscribers_once(self, container) -> None:
        hub = NotificationHub(container.uow.read_sessions, poll_seconds=0.05)
        try:
            async with hub.subscribe() as first, hub.subscribe() as second:
                item_id = await _feed_item(container)
                for queue in (first, second):
                    event = await _next(queue)
                    assert event.kind == "reminder_failed"
                    assert event.details["feed_item_id"] == item_id
                await asyncio.sleep(0.2)
                assert first.empty() and second.empty()
        finally:
            await hub.close()

    async def test_entries_before_start_are_not_replayed(self, container) -> None:
        await _feed_item(container)
        hub = NotificationHub(container.uow.read_sessions, poll_seconds=0.05)
        try:
            async with hub.subscribe() as queue:
                await asyncio.sleep(0.3)
                assert queue.empty()
        finally:
            await hub.close()


@pytest.fixture
async def redis_namespace() -> AsyncIterator[str]:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        missing_service("Redis", exc)
    namespace = f"afiya-test:notifications:{uuid.uuid4().hex}"
    yield namespace
    await client.delete(f"{namespace}:relay", f"{namespace}:cursor")
    await client.aclose()


class TestRedisHub:
    async def test_two_processes_receive_each_event_once_from_a_single_relay(
        self, container, redis_namespace
    ) -> None:
        hubs = [
            NotificationHub(
                container.uow.read_sessions,
                redis_url=REDIS_URL,
                poll_seconds=0.05,
                namespace=redis_namespace,
            )
            for _ in range(2)
        ]
        try:
            async with hubs[0].subscribe() as first, hubs[1].subscribe() as second:
                await asyncio.sleep(0.3)  # both subscribed, one holds the lease
                await _feed_item(container, kind="callback_requested")
                await _feed_item(container, kind="reminder_failed")
                for queue in (first, second):
                    kinds = [(await _next(queue)).kind, (await _next(queue)).kind]
                    assert kinds == ["callback_requested", "reminder_failed"]
                await asyncio.sleep(0.3)
                assert first.empty() and second.empty()  # one relay: no duplicates

                # The relay process goes away: the other takes the lease over and
                # continues from the shared cursor.
                relays = [hub for hub in hubs if await hub.is_relay()]
                assert len(relays) == 1
                leader = relays[0]
                survivor_queue = second if leader is hubs[0] else first
                await leader.close()
                await _feed_item(container, kind="after_failover")
                assert (await _next(survivor_queue)).kind == "after_failover"
        finally:
            for hub in hubs:
                await hub.close()
