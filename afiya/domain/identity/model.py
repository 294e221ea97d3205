"""Users and their sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    username: str
    full_name: str
    password_hash: str
    roles: frozenset[str]
    unit_ids: tuple[UUID, ...]
    unit_paths: tuple[str, ...] = ()
    active: bool = True
    language: str = "fr"
    failed_attempts: int = 0
    last_failed_at: datetime | None = None
    locked_until: datetime | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    full_name: str
    password: str
    roles: frozenset[str]
    unit_ids: tuple[UUID, ...]
    language: str = "fr"
    phone: str | None = None  # E.164; stored encrypted, found through a blind index


@dataclass(frozen=True, slots=True)
class UserChanges:
    """What an administrator may change; ``None`` keeps the current value."""

    full_name: str | None = None
    roles: frozenset[str] | None = None
    unit_ids: tuple[UUID, ...] | None = None
    active: bool | None = None
    language: str | None = None
    new_password: str | None = None  # an administrator's reset; sessions are revoked


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """A rotating refresh token. Only its SHA-256 is stored."""

    id: UUID
    user_id: UUID
    family_id: UUID  # all rotations of one login share a family; reuse revokes it
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    user_id: UUID | None = None
    roles: tuple[str, ...] = field(default=())
