"""Opens a :class:`Dhis2Client` for a stored connection (the ``GatewayOpener`` port)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from afiya.adapters.dhis2.client import Dhis2Client
from afiya.adapters.dhis2.http import BasicCredentials, Credentials, PersonalAccessToken
from afiya.domain.dhis2.sync_model import AuthKind, Connection


def credentials_of(connection: Connection, secret: str) -> Credentials:
    if connection.settings.auth_kind is AuthKind.TOKEN:
        return PersonalAccessToken(secret)
    return BasicCredentials(connection.settings.username or "", secret)


class HttpGatewayOpener:
    """A fresh HTTP client per use, with the connection's timeouts and page size.

    The TLS context (trusted certificates) is built once: loading the CA bundle for each
    chunk of a push would cost tens of milliseconds every time. ``client_options`` reach
    :class:`Dhis2Client` (a transport, poll intervals) for tests and benchmarks.
    """

    def __init__(self, **client_options: Any) -> None:
        self._options = client_options
        self._tls: ssl.SSLContext | None = None

    def _transport(self) -> httpx.AsyncHTTPTransport:
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return httpx.AsyncHTTPTransport(verify=self._tls)

    @asynccontextmanager
    async def open(self, connection: Connection, secret: str) -> AsyncIterator[Dhis2Client]:
        settings = connection.settings
        timeout = httpx.Timeout(
            connect=min(15.0, settings.timeout_seconds),
            read=float(settings.timeout_seconds),
            write=float(settings.timeout_seconds),
            pool=30.0,
        )
        options = {
            "timeout": timeout,
            "page_size": settings.page_size,
            "transport": self._transport(),
            **self._options,
        }
        async with Dhis2Client(
            settings.base_url, credentials_of(connection, secret), **options
        ) as client:
            yield client


_DEFAULT = HttpGatewayOpener()


def gateway_opener(services: Any) -> Any:
    """The opener of a container: one a test or benchmark put in ``extras``, else HTTP."""
    extras = getattr(services, "extras", None) or {}
    return extras.get("dhis2_gateways") or _DEFAULT
