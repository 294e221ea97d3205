"""Request ids, structured JSON logs (no patient data), and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from afiya.domain.shared.ids import uuid7

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("afiya.access")


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


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (``X-Request-ID`` in and out) and log one access line."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else str(uuid7())
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers  # type: ignore[typeddict-unknown-key]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                handler = scope.get("route_handler")
                route = next(iter(handler.paths), None) if handler is not None else None
                principal = scope.get("state", {}).get("principal")
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope.get("method"),
                        "route": route or "unmatched",
                        "status": status_holder["status"],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "user_id": str(principal.user_id) if principal else None,
                    },
                )

    return middleware
