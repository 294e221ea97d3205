"""Request and response bodies of the authentication routes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=10, max_length=256)]


class TokenResponse(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user_id: UUID | None
    roles: list[str]


class MeResponse(msgspec.Struct):
    user_id: UUID
    username: str
    roles: list[str]
    permissions: list[str]
    unit_paths: list[str]
