"""Rest-hook subscriptions: criteria, channel checks and the delivery back-off rule.

A subscription names a search (``Patient?gender=female``); every change-log entry of a
resource of that type is tested against the search by running it restricted to the
changed resource, with the subscriber's own permissions and facilities. So criteria take
exactly the parameters the search takes, and a new resource type (ServiceRequest,
DiagnosticReport) becomes subscribable by registering its search.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from afiya.domain.fhir.search import query_of
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
ERROR_AFTER_ATTEMPTS = 5  # the subscription shows status "error" (deliveries go on)


class SubscriptionStatus(StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    ERROR = "error"
    OFF = "off"


class Payload(StrEnum):
    ID_ONLY = "id-only"  # an id-only history Bundle (no patient data leaves the server)
    FULL = "full"  # the resource itself, as the subscriber may read it now


@dataclass(frozen=True, slots=True)
class Criteria:
    resource_type: str
    query: tuple[tuple[str, str], ...]

    @property
    def text(self) -> str:
        return self.resource_type + ("?" + urlencode(self.query) if self.query else "")


def parse_criteria(text: str, subscribable: Collection[str]) -> Criteria:
    """``Type?query``: the type must be subscribable; the query is checked by the search."""
    resource_type = text.split("?", 1)[0].strip()
    if resource_type not in subscribable:
        raise ValidationFailed(
            [
                FieldError(
                    "criteria",
                    Message(
                        N_("Subscriptions are offered on {types}, not on {type}."),
                        {"types": ", ".join(sorted(subscribable)), "type": resource_type},
                    ),
                    "not-supported",
                )
            ]
        )
    query = tuple(query_of(text.split("?", 1)[1])) if "?" in text else ()
    return Criteria(resource_type, query)


def check_endpoint(url: str, *, allow_plain_http: bool) -> None:
    """A rest-hook endpoint is an absolute https URL (http only where settings allow)."""
    parts = urlsplit(url)
    schemes = {"https", "http"} if allow_plain_http else {"https"}
    if parts.scheme not in schemes or not parts.netloc:
        raise ValidationFailed(
            [
                FieldError(
                    "channel.endpoint",
                    Message(N_("The endpoint must be an absolute https URL.")),
                    "invalid",
                )
            ]
        )


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failures: 30 s, doubling, at most 1 h."""
    if attempts <= 0:
        return timedelta(0)
    return min(FIRST_RETRY * (1 << min(attempts - 1, 20)), LONGEST_WAIT)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A stored rest-hook subscription. ``headers`` (e.g. the subscriber's own bearer
    token) are kept encrypted."""

    id: UUID
    status: SubscriptionStatus
    criteria: str
    resource_type: str
    endpoint: str
    payload: Payload
    owner_id: UUID
    headers: tuple[str, ...] = ()
    reason: str = ""
    end_at: datetime | None = None
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def covers(self, moment: datetime) -> bool:
        """Whether a change at ``moment`` is for this subscription: made after it was
        created (no replay of older history) and before its end."""
        after_start = self.created_at is None or moment >= self.created_at
        return after_start and (self.end_at is None or moment < self.end_at)


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """What the delivery log says about a subscription (FHIR ``status`` and ``error``)."""

    pending: int = 0
    failures: int = 0  # attempts of the oldest pending notification
    last_error: str | None = None

    def status(self, stored: SubscriptionStatus) -> SubscriptionStatus:
        if stored is SubscriptionStatus.ACTIVE and self.failures >= ERROR_AFTER_ATTEMPTS:
            return SubscriptionStatus.ERROR
        return stored
