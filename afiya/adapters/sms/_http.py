"""HTTP plumbing shared by the SMS vendor adapters: posting forms, classifying failures."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Final

import aiohttp

from afiya.domain.messaging.ports import SmsTemporaryError

DEFAULT_TIMEOUT: Final = 10.0  # seconds per request
CONNECT_TIMEOUT: Final = 5.0
_LONG_NUMBER: Final = re.compile(r"\+?\d{7,}")


def redact_numbers(text: str, limit: int = 200) -> str:
    """Shorten a provider's error text and hide phone numbers it may echo."""
    return _LONG_NUMBER.sub("<number>", text[:limit])


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
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


@dataclass(frozen=True, slots=True)
class FormResponse:
    """A provider's answer, read whole (bodies are small JSON documents)."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive names
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class FormClient:
    """Keep-alive HTTP client for the vendors' form POSTs.

    aiohttp rather than httpx here: a reminder campaign is one request per SMS, and on
    the 2-core reference machine httpx spent about 3.7 ms of CPU per request against
    0.3 ms for aiohttp (its parser is compiled), which capped one worker near 200 SMS/s
    (docs/performance.md). The session opens on first use, on the running event loop.
    """

    def __init__(
        self, base_url: str, *, timeout: float | None = None, max_connections: int = 32
    ) -> None:
        total = DEFAULT_TIMEOUT if timeout is None else timeout
        self._timeout = aiohttp.ClientTimeout(total=total, connect=min(CONNECT_TIMEOUT, total))
        self._limit = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit),
                timeout=self._timeout,
                headers={"User-Agent": "Afiya-HIS"},
                trust_env=False,
            )
        return self._session

    async def post_form(
        self,
        url: str,
        *,
        data: Mapping[str, str],
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        provider: str,
    ) -> FormResponse:
        """POST a form; a network failure becomes :class:`SmsTemporaryError`.

        A timeout after the request left may mean the provider did take the message: the
        retry can then deliver it twice. Neither vendor offers an idempotency key for
        sending, and a duplicate reminder is a lesser harm than a missing one.
        """
        sent = dict(headers or {})
        if auth is not None:
            sent["Authorization"] = aiohttp.encode_basic_auth(*auth)
        try:
            async with self._open().post(url, data=dict(data), headers=sent) as response:
                return FormResponse(response.status, response.headers, await response.read())
        except TimeoutError as exc:
            raise SmsTemporaryError(f"{provider}: timed out ({type(exc).__name__})") from exc
        except aiohttp.ClientError as exc:
            raise SmsTemporaryError(f"{provider}: network error ({type(exc).__name__})") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
