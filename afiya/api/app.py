"""The Litestar application: routes, guard, errors, OpenAPI, metrics, lifecycle."""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
from typing import Any

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusController
from litestar.types import Scope

import afiya.api
from afiya import __version__
from afiya.api.dependencies import DEPENDENCIES
from afiya.api.errors import EXCEPTION_HANDLERS
from afiya.api.observability import request_id_middleware
from afiya.api.security import OPENAPI_PATH, PUBLIC, audit_context, permission_guard
from afiya.bootstrap import Container
from afiya.domain.audit.model import AuditRecord, Outcome
from afiya.domain.shared.errors import PermissionDenied

log = logging.getLogger("afiya.api")


def discover_controllers() -> list[Any]:
    """``CONTROLLERS`` of every ``afiya/api/<module>/controllers.py``, modules in name order.

    A new module adds its routes by existing; the route-table test then checks that each
    route declares a permission.
    """
    found: list[Any] = []
    for module in sorted(pkgutil.iter_modules(afiya.api.__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        try:
            controllers = importlib.import_module(f"afiya.api.{module.name}.controllers")
        except ModuleNotFoundError as exc:
            if exc.name != f"afiya.api.{module.name}.controllers":
                raise
            continue
        found.extend(getattr(controllers, "CONTROLLERS", []))
    return found


class MetricsController(PrometheusController):
    path = "/metrics"
    opt = {PUBLIC: True}
    include_in_schema = False


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Afiya API",
        version=__version__,
        description=(
            "Hospital information system for public hospitals and health centres in the "
            "Sahel. Every route declares its permission; errors are RFC 9457 problem+json."
        ),
        path=OPENAPI_PATH,
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
            }
        ),
        security=[{"bearer": []}],
        use_handler_docstrings=True,
    )


async def _audit_failures(exc: Exception, scope: Scope) -> None:
    """Write denials and the audit records of rolled-back requests in their own transaction."""
    app = scope.get("app")
    container = getattr(getattr(app, "state", None), "container", None)
    if container is None:
        return
    state = scope.get("state", {})
    pending: list[AuditRecord] = state.pop("unwritten_audit", [])
    if isinstance(exc, PermissionDenied):
        handler = scope.get("route_handler")
        params = scope.get("path_params", {})
        resource_id = next((str(v) for v in params.values()), None)
        pending.append(
            AuditRecord(
                action="access.denied",
                resource_type=(handler.opt.get("resource") if handler else None) or "route",
                resource_id=resource_id,
                outcome=Outcome.DENIED,
                details={
                    "operation": getattr(handler, "operation_id", None) if handler else None,
                    "code": exc.code,
                    "method": scope.get("method"),
                },
            )
        )
    if not pending:
        return
    from litestar import Request

    try:
        await container.uow.record_standalone(audit_context(Request(scope)), *pending)
    except Exception:  # the response must still go out; the failure is logged loudly
        log.exception("could not write audit events of a failed request")


def create_app(container: Container | None, *, start_jobs: bool = True) -> Litestar:
    """Build the ASGI app around an already wired container."""

    async def on_startup(app: Litestar) -> None:
        app.state.container = container
        if start_jobs and container is not None:
            await container.start()
        # Everything built so far lives as long as the process: move it out of the
        # collector's sight so that garbage collections stay short under load.
        gc.collect()
        gc.freeze()

    async def on_shutdown(app: Litestar) -> None:
        if container is not None:
            await container.close()

    api = Router(path="/", route_handlers=[*discover_controllers(), MetricsController])
    app = Litestar(
        route_handlers=[api],
        guards=[permission_guard],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        after_exception=[_audit_failures],
        middleware=[request_id_middleware],
        openapi_config=openapi_config(),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        request_max_body_size=10 * 1024 * 1024,
        debug=False,
        logging_config=None,  # afiya.api.observability configures structured logs
    )
    app.state.container = container
    return app
