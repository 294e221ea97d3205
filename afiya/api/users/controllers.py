"""Staff user routes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.pagination import Page, check_limit, decode_cursor, next_cursor
from afiya.api.security import PERMISSION
from afiya.api.users.schemas import UserCreate, UserRead, UserUpdate
from afiya.domain.access.permissions import Permission
from afiya.domain.identity import use_cases
from afiya.domain.identity.model import NewUser, UserChanges


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]

    @get(
        "/",
        operation_id="users_list",
        summary="List users",
        opt={PERMISSION: Permission.USERS_READ},
    )
    async def list_users(
        self,
        principal: CurrentPrincipal,
        uow: Uow,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
        phone: FromQuery[str | None] = None,
    ) -> Page[UserRead]:
        """Users assigned inside the caller's sub-trees, by username. ``phone`` finds the
        user with that exact number through the blind index."""
        limit = check_limit(limit)
        if phone:
            found = await use_cases.find_user_by_phone(phone, principal=principal, users=uow.users)
            items = [UserRead.of(found)] if found else []
            return Page(items=items, next_cursor=None, limit=limit)
        users = await use_cases.list_users(
            principal=principal, users=uow.users, after=decode_cursor(cursor), limit=limit
        )
        return Page(
            items=[UserRead.of(u) for u in users],
            next_cursor=next_cursor(users, limit, lambda u: u.username),
            limit=limit,
        )

    @get(
        "/{user_id:uuid}",
        operation_id="users_get",
        summary="Read a user",
        opt={PERMISSION: Permission.USERS_READ},
    )
    async def get_user(
        self, user_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> UserRead:
        """Users outside the caller's sub-trees are not found."""
        return UserRead.of(await use_cases.get_user(user_id, principal=principal, users=uow.users))

    @post(
        "/",
        operation_id="users_create",
        summary="Create a user",
        opt={PERMISSION: Permission.USERS_WRITE},
    )
    async def create_user(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[UserCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> UserRead:
        """Passwords are hashed with argon2id; the phone is stored encrypted."""
        user = await use_cases.create_user(
            NewUser(
                username=data.username,
                full_name=data.full_name,
                password=data.password,
                roles=frozenset(data.roles),
                unit_ids=tuple(data.unit_ids),
                language=data.language,
                phone=data.phone,
            ),
            principal=principal,
            users=uow.users,
            units=uow.orgunits,
            hasher=request.app.state.container.hasher,
            audit=uow.audit,
        )
        return UserRead.of(user)

    @patch(
        "/{user_id:uuid}",
        operation_id="users_update",
        summary="Change a user",
        opt={PERMISSION: Permission.USERS_WRITE},
    )
    async def update_user(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[UUID],
        data: JSONBody[UserUpdate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> UserRead:
        """Roles, units, language, active state or a password reset. Deactivating a user or
        resetting the password ends all of the user's sessions."""
        container = request.app.state.container
        user = await use_cases.update_user(
            user_id,
            UserChanges(
                full_name=data.full_name,
                roles=frozenset(data.roles) if data.roles is not None else None,
                unit_ids=tuple(data.unit_ids) if data.unit_ids is not None else None,
                active=data.active,
                language=data.language,
                new_password=data.new_password,
            ),
            principal=principal,
            users=uow.users,
            units=uow.orgunits,
            hasher=container.hasher,
            refresh=uow.refresh_tokens,
            audit=uow.audit,
            clock=container.clock,
        )
        return UserRead.of(user)


CONTROLLERS = [UserController]
