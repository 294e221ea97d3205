"""Ports of the messaging module. Vendor adapters live in ``afiya.adapters.sms``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """One SMS to send. ``idempotency_key`` is unique per logical message."""

    to: str  # E.164, e.g. +22236123456
    body: str
    idempotency_key: str
    sender_id: str | None = None


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    """What the gateway answered for one message."""

    provider: str
    provider_message_id: str | None
    status: str  # queued | sent | failed | rejected
    cost: str | None = None  # as the gateway reports it, e.g. "MRU 1.2000"
    error: str | None = None
    raw: dict[str, object] = field(default_factory=dict)


class SmsGateway(Protocol):
    """Sends SMS through one provider (console, Africa's Talking, Twilio...)."""

    name: str

    async def send(self, message: OutboundSms) -> SmsReceipt:
        """Hand one message to the provider; raise ``SmsTemporaryError`` to retry later."""
        ...


class SmsTemporaryError(Exception):
    """The gateway could not take the message now (network, 5xx, throttling): retry.

    ``retry_after`` is the delay in seconds the provider asked for, when it said one.
    """

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SmsPermanentError(Exception):
    """The gateway refused the message for good (bad number, auth): do not retry.

    ``code`` is the provider's error or status code, when it gave one.
    """

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class DateTimeFormatter(Protocol):
    """Formats dates, times and amounts for a patient's language and a facility's zone.

    The domain never picks a locale library; the Babel adapter implements this, and
    :class:`afiya.domain.messaging.formatting.PlainFormatter` is a dependency-free default.
    """

    def format_date(self, value: datetime, *, language: str, zone: tzinfo) -> str:
        """The calendar date of ``value`` seen in ``zone``."""
        ...

    def format_time(self, value: datetime, *, language: str, zone: tzinfo) -> str:
        """The wall-clock time of ``value`` seen in ``zone``."""
        ...

    def format_amount(self, amount: Decimal, *, currency: str, language: str) -> str:
        """A money amount with its currency."""
        ...


class ReplayGuard(Protocol):
    """Remembers callback keys so a replayed webhook is processed once."""

    async def first_seen(self, key: str) -> bool:
        """Record ``key``; ``True`` the first time, ``False`` for a replay."""
        ...
