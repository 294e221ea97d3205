"""Value objects of the messaging module: languages, delivery reports, inbound SMS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Language(StrEnum):
    """Languages patients receive messages in (ISO 639-1)."""

    FR = "fr"
    AR = "ar"
    EN = "en"


class Channel(StrEnum):
    """Ways a message reaches a patient."""

    SMS = "sms"
    USSD = "ussd"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    """Where a sent message is, normalised across providers.

    ``QUEUED`` and ``SENT`` may still change; the others are final.
    """

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self not in (DeliveryStatus.QUEUED, DeliveryStatus.SENT)


_PROGRESS = {DeliveryStatus.QUEUED: 0, DeliveryStatus.SENT: 1}


def merge_delivery_status(current: DeliveryStatus, reported: DeliveryStatus) -> DeliveryStatus:
    """The status to keep when a report arrives for a message already at ``current``.

    Providers retry callbacks and networks reorder them: a late "sent" must not overwrite
    "delivered". A final status is never replaced; otherwise the further one wins.
    """
    if current.is_final:
        return current
    if reported.is_final:
        return reported
    return reported if _PROGRESS[reported] > _PROGRESS[current] else current


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A provider's delivery callback, normalised.

    Attributes:
        provider: gateway name (``africastalking``, ``twilio``).
        provider_message_id: the id the provider returned when the message was sent.
        status: normalised status.
        provider_status: the provider's own word (``AbsentSubscriber``, ``undelivered``).
        failure_reason: provider's reason or error code when the message failed.
        phone_number: recipient, when the provider repeats it.
        network_code: mobile network code, when known.
        retry_count: provider-side retries so far, when reported.
    """

    provider: str
    provider_message_id: str
    status: DeliveryStatus
    provider_status: str
    failure_reason: str | None = None
    phone_number: str | None = None
    network_code: str | None = None
    retry_count: int | None = None
    raw: Mapping[str, str] = field(default_factory=dict)

    @property
    def replay_key(self) -> str:
        """Identifies this exact report: the same message may report several statuses."""
        return f"dlr:{self.provider}:{self.provider_message_id}:{self.provider_status}"


@dataclass(frozen=True, slots=True)
class InboundSms:
    """An SMS a patient sent to the facility's number or short code."""

    provider: str
    provider_message_id: str
    from_number: str
    to: str
    body: str
    received_at: datetime | None = None
    raw: Mapping[str, str] = field(default_factory=dict)

    @property
    def replay_key(self) -> str:
        """Identifies this message: providers redeliver until they get a 2xx."""
        return f"inbound:{self.provider}:{self.provider_message_id}"
