"""Bodies of the user routes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from afiya.domain.identity.model import User


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=64)]
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    roles: list[str]
    unit_ids: list[UUID]
    language: Annotated[str, msgspec.Meta(pattern=r"^(fr|ar|en)$")] = "fr"
    phone: Annotated[str, msgspec.Meta(pattern=r"^\+[1-9][0-9]{7,14}$")] | None = None


class UserRead(msgspec.Struct):
    id: UUID
    username: str
    full_name: str
    roles: list[str]
    unit_ids: list[UUID]
    unit_paths: list[str]
    active: bool
    language: str
    locked: bool

    @classmethod
    def of(cls, user: User) -> UserRead:
        return cls(
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            roles=sorted(user.roles),
            unit_ids=list(user.unit_ids),
            unit_paths=list(user.unit_paths),
            active=user.active,
            language=user.language,
            locked=user.locked_until is not None,
        )


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    roles: list[str] | None = None
    unit_ids: list[UUID] | None = None
    active: bool | None = None
    language: Annotated[str, msgspec.Meta(pattern=r"^(fr|ar|en)$")] | None = None
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None
