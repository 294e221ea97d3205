"""Request ids, structured JSON logs (no patient data), and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Histogram

from afiya.domain.shared.ids import uuid7

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("afiya.access")


REQUESTS = Counter("afiya_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "afiya_http_request_duration_seconds",
    "HTTP request duration",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Only fields listed here are written: never free text
    from requests, so no name or phone number can leak into the logs."""

    _EXTRA = (
        "request_id",
        "method",
        "route",
        "status",
        "duration_ms",
        "user_id",
        "job_id",
        "error",
    )

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in self._EXTRA:
            if hasattr(record, key):
                body[key] = getattr(record, key)
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (``X-Request-ID`` in and out), count it for Prometheus
    (by route template, never by raw path, so ids do not explode the label space) and
    log one access line (no patient data: route template, status, timing, user id)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else str(uuid7())
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}
        header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), header]  # type: ignore[typeddict-unknown-key]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = str(scope.get("path_template") or "unmatched")
            method = str(scope.get("method", ""))
            status = status_holder["status"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                principal = scope.get("state", {}).get("principal")
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "user_id": str(principal.user_id) if principal else None,
                    },
                )

    return middleware
