"""Request-scoped dependencies: the principal and the unit of work."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from afiya.adapters.db.uow import UnitOfWork
from afiya.api.security import audit_context, current_principal
from afiya.domain.access.policy import Principal
from afiya.domain.shared.errors import AuthenticationFailed


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = current_principal(request)
    if principal is None:  # only public routes lack one, and they do not ask for it
        raise AuthenticationFailed()
    return principal


async def provide_uow(request: Request[Any, Any, Any]) -> AsyncGenerator[UnitOfWork, None]:
    """One unit of work per request: committed when the handler returns, else rolled back.

    Audit records of a failed request are handed to the exception hook, which writes
    them in a transaction of their own (a denial must be audited even though the request
    is rolled back).
    """
    container = request.app.state.container
    uow = container.uow(audit_context(request), read_only=request.method in {"GET", "HEAD"})
    try:
        yield uow
    except BaseException:
        pending = await uow.rollback()
        request.scope.setdefault("state", {})["unwritten_audit"] = pending
        await uow.close()
        raise
    else:
        try:
            await uow.commit()
        finally:
            await uow.close()


DEPENDENCIES = {
    "principal": Provide(provide_principal),
    "uow": Provide(provide_uow),
}

# Explicit markers (Litestar 3 drops injection by bare parameter name).
CurrentPrincipal = NamedDependency[Principal]
Uow = NamedDependency[UnitOfWork]
