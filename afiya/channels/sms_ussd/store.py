"""Where USSD session state waits between two requests: Redis, or memory when embedded.

A session lives a few minutes (operators close idle USSD dialogues after ~180 s); the
state is a small JSON document (:meth:`UssdSession.to_dict`) stored under the gateway's
session id with that expiry. With several API processes behind a load balancer the
gateway's next request may reach another process, hence Redis in production. A lost or
expired record is harmless: the engine replays the history in ``text``.

Failed PIN attempts are *not* kept here: they are per phone number and persisted in the
database (``ussd_lockout``) so a lock survives a Redis flush or a restart.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any, Final, Protocol

from afiya.channels.sms_ussd.session import UssdSession

KEY_PREFIX: Final = "afiya:ussd:session:"


class UssdSessionStore(Protocol):
    """Keeps one :class:`UssdSession` per gateway session id, with an expiry."""

    async def load(self, session_id: str) -> UssdSession | None:
        """The stored state, or ``None`` (first request, expired or malformed)."""
        ...

    async def save(self, session: UssdSession) -> None:
        """Store (and re-arm the expiry of) the state."""
        ...

    async def drop(self, session_id: str) -> None:
        """Forget the session (it ended)."""
        ...


def _decode(raw: str | bytes | None) -> UssdSession | None:
    if raw is None:
        return None
    try:
        return UssdSession.from_dict(json.loads(raw))
    except (ValueError, TypeError):
        return None  # a record of another release: start over, the history is replayed


class MemoryUssdSessionStore:
    """One process, bounded: at most ``max_sessions`` kept, the oldest dropped first."""

    def __init__(self, *, ttl_seconds: float, max_sessions: int = 50_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_sessions
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def load(self, session_id: str) -> UssdSession | None:
        entry = self._items.get(session_id)
        if entry is None:
            return None
        expires, raw = entry
        if expires <= time.monotonic():
            del self._items[session_id]
            return None
        return _decode(raw)

    async def save(self, session: UssdSession) -> None:
        now = time.monotonic()
        self._items[session.session_id] = (now + self._ttl, json.dumps(session.to_dict()))
        self._items.move_to_end(session.session_id)
        while self._items:
            key, (expires, _) = next(iter(self._items.items()))
            if expires > now and len(self._items) <= self._max:
                break
            del self._items[key]

    async def drop(self, session_id: str) -> None:
        self._items.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._items)


class RedisUssdSessionStore:
    """Sessions shared by every API process (``SET key value EX ttl``)."""

    def __init__(self, redis: Any, *, ttl_seconds: int, prefix: str = KEY_PREFIX) -> None:
        """Args:
        redis: a ``redis.asyncio.Redis`` client (owned by the caller).
        ttl_seconds: idle time after which the session is forgotten.
        prefix: key prefix (one per deployment sharing the Redis).
        """
        self._redis = redis
        self._ttl = ttl_seconds
        self._prefix = prefix

    async def load(self, session_id: str) -> UssdSession | None:
        return _decode(await self._redis.get(self._prefix + session_id))

    async def save(self, session: UssdSession) -> None:
        await self._redis.set(
            self._prefix + session.session_id, json.dumps(session.to_dict()), ex=self._ttl
        )

    async def drop(self, session_id: str) -> None:
        await self._redis.delete(self._prefix + session_id)
