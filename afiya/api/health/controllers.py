"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get

from afiya.api.security import PUBLIC


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = {}


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    opt = {PUBLIC: True}

    @get("/live", operation_id="health_live", summary="The process is up")
    async def live(self) -> Health:
        """Answers as long as the event loop runs; touches nothing else."""
        return Health(status="ok")

    @get("/ready", operation_id="health_ready", summary="Dependencies are reachable")
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Health]:
        """Checks the database and, when configured, Redis and the blob store (S3)."""
        checks = await request.app.state.container.readiness()
        healthy = all(v == "ok" for v in checks.values())
        return Response(
            Health(status="ok" if healthy else "unavailable", checks=checks),
            status_code=200 if healthy else 503,
        )


CONTROLLERS = [HealthController]
