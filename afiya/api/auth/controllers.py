"""Sign in, refresh, sign out, and who am I."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody

from afiya.adapters.db.uow import UnitOfWork
from afiya.api.auth.schemas import LoginRequest, MeResponse, RefreshRequest, TokenResponse
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.errors import domain_error_handler
from afiya.api.security import PERMISSION, PUBLIC
from afiya.domain.access.permissions import Permission
from afiya.domain.identity import use_cases
from afiya.domain.identity.model import TokenPair
from afiya.domain.identity.use_cases import LoginOutcome


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
        user_id=pair.user_id,
        roles=list(pair.roles),
    )


async def _answer(
    request: Request[Any, Any, Any], uow: UnitOfWork, outcome: LoginOutcome
) -> Response[Any]:
    if outcome.error is not None:
        # Commit the failure count and its audit event first, then refuse.
        await uow.commit()
        return domain_error_handler(request, outcome.error)
    assert outcome.tokens is not None
    return Response(_tokens(outcome.tokens), status_code=200, headers={"Cache-Control": "no-store"})


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login", operation_id="auth_login", summary="Sign in", opt={PUBLIC: True}, status_code=200
    )
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest], uow: Uow
    ) -> Response[Any]:
        """Returns a short access token and a rotating refresh token.

        Repeated failures slow down further attempts and then lock the account.
        """
        container = request.app.state.container
        outcome = await use_cases.login(
            data.username,
            data.password,
            users=uow.users,
            hasher=container.hasher,
            tokens=container.tokens,
            refresh=uow.refresh_tokens,
            audit=uow.audit,
            clock=container.clock,
            policy=container.login_policy,
            refresh_lifetime=container.refresh_lifetime,
        )
        return await _answer(request, uow, outcome)

    @post(
        "/refresh",
        operation_id="auth_refresh",
        summary="Rotate the refresh token",
        opt={PUBLIC: True},
        status_code=200,
    )
    async def refresh(
        self, request: Request[Any, Any, Any], data: JSONBody[RefreshRequest], uow: Uow
    ) -> Response[Any]:
        """Each refresh token works once; replaying a used one revokes the whole session."""
        container = request.app.state.container
        outcome = await use_cases.refresh_session(
            data.refresh_token,
            users=uow.users,
            tokens=container.tokens,
            refresh=uow.refresh_tokens,
            audit=uow.audit,
            clock=container.clock,
            refresh_lifetime=container.refresh_lifetime,
        )
        return await _answer(request, uow, outcome)

    @post(
        "/logout",
        operation_id="auth_logout",
        summary="Sign out",
        opt={PERMISSION: Permission.SELF},
        status_code=204,
    )
    async def logout(
        self, request: Request[Any, Any, Any], data: JSONBody[RefreshRequest], uow: Uow
    ) -> None:
        """Revokes the session's refresh tokens; the access token dies within minutes."""
        await use_cases.logout(
            data.refresh_token,
            refresh=uow.refresh_tokens,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )

    @get("/me", operation_id="auth_me", summary="Who am I", opt={PERMISSION: Permission.SELF})
    async def me(self, principal: CurrentPrincipal) -> MeResponse:
        """The caller's roles, permissions and assigned org-unit sub-trees."""
        return MeResponse(
            user_id=principal.user_id,
            username=principal.username,
            roles=sorted(principal.roles),
            permissions=sorted(p.value for p in principal.permissions),
            unit_paths=list(principal.unit_paths),
        )


CONTROLLERS = [AuthController]
