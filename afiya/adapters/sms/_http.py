"""HTTP plumbing shared by the SMS vendor adapters: posting forms, classifying failures."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Final

import httpx

from afiya.domain.messaging.ports import SmsTemporaryError

DEFAULT_TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)
_LONG_NUMBER: Final = re.compile(r"\+?\d{7,}")


def redact_numbers(text: str, limit: int = 200) -> str:
    """Shorten a provider's error text and hide phone numbers it may echo."""
    return _LONG_NUMBER.sub("<number>", text[:limit])


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The ``Retry-After`` header as seconds (delta or HTTP date), when present."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date_header = headers.get("date")
    try:
        reference = parsedate_to_datetime(date_header) if date_header else None
    except (TypeError, ValueError):
        reference = None
    if reference is None:
        return None
    return max(0.0, (moment - reference).total_seconds())


def is_temporary_status(status_code: int) -> bool:
    """HTTP statuses worth retrying: timeouts, throttling, server errors."""
    return status_code in (408, 425, 429) or status_code >= 500


def new_client(base_url: str, timeout: httpx.Timeout | float | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        headers={"User-Agent": "Afiya-HIS"},
    )


async def post_form(
    client: httpx.AsyncClient,
    url: str,
    *,
    data: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    provider: str,
) -> httpx.Response:
    """POST a form; a network failure becomes :class:`SmsTemporaryError`.

    A timeout after the request left may mean the provider did take the message: the
    retry can then deliver it twice. Neither vendor offers an idempotency key for
    sending, and a duplicate reminder is a lesser harm than a missing one.
    """
    try:
        if auth is None:
            return await client.post(url, data=dict(data), headers=dict(headers or {}))
        return await client.post(
            url, data=dict(data), headers=dict(headers or {}), auth=httpx.BasicAuth(*auth)
        )
    except httpx.TimeoutException as exc:
        raise SmsTemporaryError(f"{provider}: timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise SmsTemporaryError(f"{provider}: network error ({type(exc).__name__})") from exc
