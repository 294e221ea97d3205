"""Real-time staff notifications: change log → mappers → broker → each user's stream.

**Source.** Every write already appends to the change log in its own transaction
(outbox pattern). A relay reads new entries (``seq`` greater than its cursor) of the
entities that have a *mapper*, and turns each into a :class:`StaffEvent` (or nothing).
Built-in mappers: an ``appointment`` updated to ``arrived`` (a patient arrived) and a
``staff_feed_item`` inserted (a reminder failed, a callback was asked; the feed table
also backs ``GET /api/v1/notifications/feed``) and a ``staff_notification`` inserted (a
critical result for the responsible clinician: addressed to that user only). Another
module adds a kind by registering a mapper for its table without touching this file.

**Fan-out.** Without Redis the relay runs in the process and publishes to an in-memory
broker. With Redis, one relay per deployment holds a short lease (``SET NX PX``,
renewed while it runs; another process takes over if it dies), keeps its cursor in
Redis and publishes on a pub/sub channel; every API process subscribes once and hands
events to its local streams, so a user's stream may be served by any process.

**Who sees what.** A stream receives the events whose facility path lies in the
user's scope (the policy's :class:`~afiya.domain.access.policy.Scope`); the route
itself needs ``appointments:read``. Events carry ids only (patient, appointment), never
names or phone numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from afiya.adapters.db.models.platform import ChangeLogRow
from afiya.domain.access.policy import Scope

log = logging.getLogger("afiya.notifications")

NAMESPACE: Final = "afiya:notifications"  # pub/sub channel; ``:relay`` lease, ``:cursor``
LEASE_MS: Final = 5_000
BATCH: Final = 500


@dataclass(frozen=True, slots=True)
class StaffEvent:
    """One notification, as streamed (JSON)."""

    id: str  # change-log sequence number: a client may resume from it
    kind: str  # patient_arrived | reminder_failed | callback_requested | ...
    unit_path: str
    resource_type: str
    resource_id: str
    patient_id: str | None
    occurred_at: str
    details: Mapping[str, Any] = field(default_factory=dict)
    user_id: str | None = None  # addressed to one user (then the facility scope is moot)

    def visible_to(self, user_id: UUID, scope: Scope) -> bool:
        """Whether this event goes to ``user_id``'s stream."""
        if self.user_id is not None:
            return self.user_id == str(user_id)
        return scope.contains(self.unit_path)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), default=str)

    @classmethod
    def from_json(cls, raw: str | bytes) -> StaffEvent:
        data = json.loads(raw)
        return cls(**data)


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    """What a mapper sees of a change-log row."""

    seq: int
    entity: str
    entity_id: str
    operation: str
    data: Mapping[str, Any]
    recorded_at: str


Mapper = Callable[[ChangeEntry], StaffEvent | None]
MAPPERS: dict[str, Mapper] = {}


def register_mapper(entity: str, mapper: Mapper, *, replace: bool = False) -> None:
    """Turn change-log entries of table ``entity`` into staff events."""
    if entity in MAPPERS and not replace:
        raise ValueError(f"a notification mapper for {entity!r} is already registered")
    MAPPERS[entity] = mapper


def _appointment(entry: ChangeEntry) -> StaffEvent | None:
    data = entry.data
    if entry.operation != "update" or data.get("status") != "arrived":
        return None
    return StaffEvent(
        id=str(entry.seq),
        kind="patient_arrived",
        unit_path=str(data.get("unit_path") or ""),
        resource_type="appointment",
        resource_id=entry.entity_id,
        patient_id=data.get("patient_id"),
        occurred_at=str(data.get("arrived_at") or entry.recorded_at),
        details={
            "facility_id": data.get("facility_id"),
            "practitioner_id": data.get("practitioner_id"),
            "starts_at": data.get("starts_at"),
        },
    )


def _feed_item(entry: ChangeEntry) -> StaffEvent | None:
    data = entry.data
    if entry.operation != "insert":
        return None
    return StaffEvent(
        id=str(entry.seq),
        kind=str(data.get("kind")),
        unit_path=str(data.get("unit_path") or ""),
        resource_type=str(data.get("resource_type")),
        resource_id=str(data.get("resource_id")),
        patient_id=data.get("patient_id"),
        occurred_at=str(data.get("occurred_at") or entry.recorded_at),
        details={"feed_item_id": entry.entity_id, **dict(data.get("details") or {})},
    )


def _staff_notification(entry: ChangeEntry) -> StaffEvent | None:
    """A notification for one clinician (a critical result): ids only, to that user."""
    data = entry.data
    if entry.operation != "insert" or not data.get("user_id"):
        return None
    payload = dict(data.get("payload") or {})
    return StaffEvent(
        id=str(entry.seq),
        kind=str(data.get("kind")),
        unit_path="",
        resource_type="staff_notification",
        resource_id=entry.entity_id,
        patient_id=data.get("patient_id"),
        occurred_at=str(payload.get("detected_at") or entry.recorded_at),
        details={"result_id": payload.get("result_id")} if payload.get("result_id") else {},
        user_id=str(data["user_id"]),
    )


register_mapper("appointment", _appointment)
register_mapper("staff_feed_item", _feed_item)
register_mapper("staff_notification", _staff_notification)


async def read_changes(
    sessions: async_sessionmaker[AsyncSession], after: int, limit: int = BATCH
) -> list[ChangeEntry]:
    """Change-log entries after ``after`` of the mapped entities, in order."""
    c = ChangeLogRow
    async with sessions() as session:
        rows = await session.execute(
            select(c.seq, c.entity, c.entity_id, c.operation, c.data, c.recorded_at)
            .where(c.seq > after, c.entity.in_(sorted(MAPPERS)))
            .order_by(c.seq)
            .limit(limit)
        )
        return [
            ChangeEntry(seq, entity, str(entity_id), operation, data or {}, str(recorded_at))
            for seq, entity, entity_id, operation, data, recorded_at in rows.all()
        ]


async def last_seq(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        value = (await session.execute(select(func.max(ChangeLogRow.seq)))).scalar()
        return int(value or 0)


def map_entries(entries: list[ChangeEntry]) -> list[StaffEvent]:
    events = []
    for entry in entries:
        mapper = MAPPERS.get(entry.entity)
        if mapper is None:
            continue
        try:
            event = mapper(entry)
        except Exception:  # one odd row must not stop the feed
            log.exception("notification mapper for %s failed", entry.entity)
            continue
        if event is not None:
            events.append(event)
    return events


class NotificationHub:
    """Local subscribers, fed by an in-process relay or by Redis pub/sub."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        redis_url: str = "",
        poll_seconds: float = 0.5,
        queue_size: int = 256,
        namespace: str = NAMESPACE,
    ) -> None:
        self._sessions = sessions
        self._redis_url = redis_url
        self._poll = poll_seconds
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[StaffEvent]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._redis: Any = None
        self._channel = namespace
        self._lease_key = f"{namespace}:relay"
        self._cursor_key = f"{namespace}:cursor"
        self._token = uuid.uuid4().hex
        self._started = False
        self.cursor = 0

    # -- subscribers ---------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[StaffEvent]]:
        """A queue receiving every event published while the context is open."""
        await self.start()
        queue: asyncio.Queue[StaffEvent] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def _deliver(self, event: StaffEvent) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a stalled client loses events, not the others
                log.warning("notification stream queue full; event dropped")

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.cursor = await last_seq(self._sessions)
        if self._redis_url:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(self._redis_url)
            pubsub = self._redis.pubsub()
            await pubsub.subscribe(self._channel)
            self._tasks.append(asyncio.create_task(self._listen(pubsub)))
            self._tasks.append(asyncio.create_task(self._relay_with_lease()))
        else:
            self._tasks.append(asyncio.create_task(self._relay_local()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                if await self._redis.get(self._lease_key) == self._token.encode():
                    await self._redis.delete(self._lease_key)  # let another process take over now
            await self._redis.aclose()
            self._redis = None
        self._started = False

    async def is_relay(self) -> bool:
        """Whether this process relays now (always, without Redis)."""
        if self._redis is None:
            return self._started
        return bool(await self._redis.get(self._lease_key) == self._token.encode())

    # -- relay -------------------------------------------------------------------------
    async def relay_once(self) -> list[StaffEvent]:
        """Read and map the next batch after the cursor; advance it."""
        entries = await read_changes(self._sessions, self.cursor)
        if not entries:
            return []
        self.cursor = entries[-1].seq
        return map_entries(entries)

    async def _relay_local(self) -> None:
        while True:
            try:
                for event in await self.relay_once():
                    self._deliver(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notification relay failed; retrying")
            await asyncio.sleep(self._poll)

    async def _relay_with_lease(self) -> None:
        redis = self._redis
        while True:
            try:
                held = await redis.set(self._lease_key, self._token, nx=True, px=LEASE_MS)
                if not held and await redis.get(self._lease_key) == self._token.encode():
                    held = await redis.pexpire(self._lease_key, LEASE_MS)
                if held:
                    stored = await redis.get(self._cursor_key)
                    if stored is not None:
                        self.cursor = max(self.cursor, int(stored))
                    events = await self.relay_once()
                    for event in events:
                        await redis.publish(self._channel, event.to_json())
                    await redis.set(self._cursor_key, str(self.cursor))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notification relay failed; retrying")
            await asyncio.sleep(self._poll)

    async def _listen(self, pubsub: Any) -> None:
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is None:
                    continue
                try:
                    self._deliver(StaffEvent.from_json(message["data"]))
                except (ValueError, TypeError):
                    log.warning("malformed notification on %s", self._channel)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
