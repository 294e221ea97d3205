"""Authentication and the permission guard that every route goes through.

Each handler declares ``opt={"permission": Permission.X}`` (or ``opt={"public": True}``
for the few open routes: health, login, refresh). The app-wide :func:`permission_guard`
reads the bearer token, builds the :class:`Principal` and asks the policy module; a
route that declares nothing is refused (and a test walks the route table to catch it).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditContext
from afiya.domain.shared.errors import AuthenticationFailed, PermissionDenied
from afiya.domain.shared.i18n import N_, Message

PERMISSION = "permission"
PUBLIC = "public"
OPENAPI_PATH = "/schema"


def declared_permission(handler: BaseRouteHandler) -> Permission | None:
    value = handler.opt.get(PERMISSION)
    return Permission(value) if value is not None else None


def is_public(handler: BaseRouteHandler) -> bool:
    return bool(handler.opt.get(PUBLIC))


def is_auto_options(handler: BaseRouteHandler) -> bool:
    """Litestar's generated OPTIONS handlers only list the allowed methods."""
    methods = getattr(handler, "http_methods", set())
    return methods == {"OPTIONS"} and getattr(handler.fn, "__name__", "") == "options_handler"


def is_openapi_route(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> bool:
    """The generated OpenAPI document and its viewers are public documentation."""
    return not handler.opt and str(connection.scope.get("path", "")).startswith(OPENAPI_PATH)


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    token = _bearer(connection)
    if token is None:
        raise AuthenticationFailed(
            Message(N_("Sign in first: this request has no access token.")), code="token_missing"
        )
    container = connection.app.state.container
    return container.tokens.read(token, container.clock.now())  # type: ignore[no-any-return]


async def permission_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App-wide guard: authenticate, then check the route's declared permission."""
    if is_public(handler) or is_auto_options(handler) or is_openapi_route(connection, handler):
        return
    permission = declared_permission(handler)
    if permission is None:
        raise PermissionDenied(
            Message(N_("This route declares no permission.")), code="route_without_permission"
        )
    principal = authenticate(connection)
    connection.scope.setdefault("state", {})["principal"] = principal
    authorize(principal, permission)


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    return connection.scope.get("state", {}).get("principal")  # type: ignore[no-any-return]


def client_ip(
    connection: ASGIConnection[Any, Any, Any, Any], trusted: tuple[str, ...]
) -> str | None:
    host = connection.client.host if connection.client else None
    forwarded = connection.headers.get("x-forwarded-for")
    if forwarded and host in trusted:
        return forwarded.split(",")[0].strip()
    return host


def audit_context(connection: ASGIConnection[Any, Any, Any, Any]) -> AuditContext:
    """Who (principal), where (IP, device, node), why (``X-Purpose-Of-Use``) for audit events."""
    container = connection.app.state.container
    principal = current_principal(connection)
    state = connection.scope.get("state", {})
    return AuditContext(
        user_id=principal.user_id if principal else None,
        username=principal.username if principal else None,
        roles=principal.role_label if principal else None,
        ip=client_ip(connection, container.settings.trusted_proxies),
        user_agent=connection.headers.get("user-agent"),
        node=container.settings.node_id,
        request_id=state.get("request_id"),
        purpose=connection.headers.get("x-purpose-of-use"),
    )
