"""Every route declares its permission; an undeclared route is refused."""

from __future__ import annotations

from litestar import get

from afiya.api.app import create_app
from afiya.api.security import OPENAPI_PATH, declared_permission, is_auto_options, is_public
from afiya.asgi import assemble
from tests.conftest import asgi_client

PUBLIC_ROUTES = {
    "/health/live",
    "/health/ready",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/metrics",
    "/fhir/R4/metadata",  # the CapabilityStatement: capabilities, no data
    # gateway callbacks: authenticated by a shared secret / IP allow-list or a signature
    "/ussd/africastalking",
    "/sms/inbound/africastalking",
    "/sms/inbound/twilio",
    "/sms/delivery/africastalking",
    "/sms/delivery/twilio",
}


def _routes(app):
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            yield route.path, handler


def test_every_route_declares_a_permission_or_is_a_known_public_route():
    app = assemble(None, start_jobs=False)  # as served: the API and the channels
    assert "/ussd/africastalking" in {path for path, _ in _routes(app)}
    undeclared, unexpected_public = [], []
    for path, handler in _routes(app):
        if path.startswith(OPENAPI_PATH) or is_auto_options(handler):
            continue
        if is_public(handler):
            if path not in PUBLIC_ROUTES:
                unexpected_public.append(path)
        elif declared_permission(handler) is None:
            undeclared.append(f"{sorted(handler.http_methods)} {path}")
    assert undeclared == [], f"routes without a permission: {undeclared}"
    assert unexpected_public == [], f"routes opened to anonymous callers: {unexpected_public}"


def test_every_route_has_an_operation_id_and_summary():
    app = create_app(None, start_jobs=False)
    missing = [
        path
        for path, handler in _routes(app)
        if not path.startswith(OPENAPI_PATH)
        and path != "/metrics"
        and not is_auto_options(handler)
        and (not handler.operation_id or not handler.summary)
    ]
    assert missing == []


async def test_the_guard_refuses_a_route_that_declares_nothing(container, auth, client):
    @get("/api/v1/forgotten", sync_to_thread=False)
    def forgotten() -> dict[str, str]:
        return {"secret": "yes"}

    app = create_app(container, start_jobs=False)
    app.register(forgotten)
    headers = await auth("demo.system_admin")
    async with asgi_client(app) as other:
        response = await other.get("/api/v1/forgotten", headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "route_without_permission"
