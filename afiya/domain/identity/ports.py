"""Ports of the identity module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from afiya.domain.access.policy import Principal, Scope
from afiya.domain.identity.model import RefreshToken, User


class UserRepository(Protocol):
    async def get(self, user_id: UUID) -> User | None: ...

    async def get_by_username(self, username: str) -> User | None: ...

    async def list(self, scope: Scope, *, after: str | None, limit: int) -> list[User]: ...

    async def add(self, user: User, *, phone: str | None = None) -> None: ...

    async def find_by_phone(self, phone: str) -> User | None:
        """Exact match on the encrypted phone, through its blind index."""
        ...

    async def record_failure(
        self, user_id: UUID, attempts: int, at: datetime, locked_until: datetime | None
    ) -> None:
        """Persist a failed attempt even though the request itself will fail."""
        ...

    async def record_success(self, user_id: UUID, password_hash: str | None) -> None: ...

    async def unit_paths(self, unit_ids: Sequence[UUID]) -> tuple[str, ...]: ...

    async def update(self, user: User) -> User:
        """Save names, roles, units, state and password hash; return the stored user."""
        ...


class PasswordHasher(Protocol):
    """Slow by design (tens of milliseconds): implementations run off the event loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    async def dummy_verify(self) -> None:
        """Spend the time of one verification, so unknown usernames cannot be timed."""
        ...


class AccessTokens(Protocol):
    def issue(self, principal: Principal, now: datetime) -> tuple[str, int]:
        """Return the signed token and its lifetime in seconds."""
        ...

    def read(self, token: str, now: datetime) -> Principal: ...


class RefreshTokenStore(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None: ...

    async def mark_used(self, token_id: UUID, at: datetime) -> bool:
        """Mark as used; False when it was already used (a concurrent or replayed refresh)."""
        ...

    async def revoke_family(self, family_id: UUID, at: datetime) -> None: ...

    async def revoke_user(self, user_id: UUID, at: datetime) -> None: ...
