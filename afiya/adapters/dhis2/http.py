"""Credentials and the mapping of HTTP outcomes to DHIS2 domain errors."""

from __future__ import annotations

import base64
import email.utils
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from afiya.domain.dhis2.errors import (
    Dhis2AuthError,
    Dhis2Error,
    Dhis2ProtocolError,
    Dhis2RequestRejected,
    Dhis2Unavailable,
)
from afiya.domain.shared.i18n import N_, Message

DEFAULT_TIMEOUT = httpx.Timeout(connect=15.0, read=300.0, write=120.0, pool=30.0)


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    """A DHIS2 user name and password (HTTP basic authentication)."""

    username: str
    password: str = field(repr=False)

    def header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


@dataclass(frozen=True, slots=True)
class PersonalAccessToken:
    """A DHIS2 personal access token (2.37+), sent as ``Authorization: ApiToken ...``."""

    token: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.token or any(ch.isspace() for ch in self.token):
            raise ValueError("a DHIS2 personal access token is a single non-empty word")

    def header(self) -> str:
        return f"ApiToken {self.token}"


Credentials = BasicCredentials | PersonalAccessToken


def transport_error(exc: httpx.HTTPError, url: str) -> Dhis2Error:
    """A network failure (refused, reset, timeout, cut mid-answer): retriable."""
    kind = type(exc).__name__
    return Dhis2Unavailable(
        Message(
            N_("The DHIS2 server could not be reached ({reason}). Try again later."),
            {"reason": kind},
        ),
        details={"url": url, "error": kind, "detail": str(exc)},
    )


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    if raw.strip().isdigit():
        return float(raw.strip())
    parsed = email.utils.parsedate_to_datetime(raw)
    return max(0.0, parsed.timestamp() - time.time())


def _dhis2_message(response: httpx.Response) -> str:
    """DHIS2's own explanation in a WebMessage, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("devMessage") or "")[:500]
    return ""


def error_for(response: httpx.Response) -> Dhis2Error:
    """The domain error for a non-success answer (the body must already be read)."""
    status = response.status_code
    url = str(response.request.url)
    dhis2_message = _dhis2_message(response)
    details: dict[str, Any] = {"url": url, "status": status, "dhis2_message": dhis2_message}
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        details["location"] = location
        if "login" in location.lower():
            # DHIS2 sends browsers without a valid session to its login page.
            return Dhis2AuthError(status=status, details=details)
        return Dhis2RequestRejected(
            Message(
                N_("DHIS2 redirected the request to {location}; check the server address."),
                {"location": location},
            ),
            status=status,
            details=details,
        )
    if status == 401:
        return Dhis2AuthError(status=status, details=details)
    if status == 403:
        return Dhis2AuthError(
            Message(
                N_("The DHIS2 user is not allowed to do this: {reason}"), {"reason": dhis2_message}
            ),
            status=status,
            code="dhis2_forbidden",
            details=details,
        )
    if status == 429 or status >= 500:
        return Dhis2Unavailable(
            Message(
                N_("The DHIS2 server is unavailable (HTTP {status}). Try again later."),
                {"status": status},
            ),
            status=status,
            retry_after_seconds=_retry_after(response),
            details=details,
        )
    return Dhis2RequestRejected(
        Message(
            N_("DHIS2 rejected the request (HTTP {status}): {reason}"),
            {"status": status, "reason": dhis2_message},
        ),
        status=status,
        details=details,
    )


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON answer; anything else is a protocol error."""
    try:
        return response.json()
    except ValueError as exc:
        raise Dhis2ProtocolError(
            details={
                "url": str(response.request.url),
                "status": response.status_code,
                "content_type": response.headers.get("Content-Type", ""),
                "body_start": response.text[:200],
            }
        ) from exc
