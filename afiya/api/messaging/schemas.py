"""Bodies of the messaging routes (USSD PIN, callback requests, staff notifications)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from afiya.adapters.db.repositories.messaging import CallbackRequest, FeedItem

Pin = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4,6}$")]


class UssdPinSet(msgspec.Struct, forbid_unknown_fields=True):
    """A 4-6 digit PIN the patient chose (said aloud at the desk, typed by staff)."""

    pin: Pin


class UssdPinRead(msgspec.Struct):
    patient_id: str
    set_at: datetime


class CallbackClose(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class CallbackRead(msgspec.Struct):
    id: str
    patient_id: str | None
    phone_number: str
    language: str
    channel: str
    status: str
    requested_at: datetime
    handled_at: datetime | None

    @classmethod
    def of(cls, c: CallbackRequest) -> CallbackRead:
        return cls(
            c.id,
            c.patient_id,
            c.phone_number,
            c.language,
            c.channel,
            c.status,
            c.requested_at,
            c.handled_at,
        )


class StaffFeedItemRead(msgspec.Struct):
    id: str
    kind: str
    resource_type: str
    resource_id: str
    patient_id: str | None
    details: dict[str, Any]
    occurred_at: datetime
    read: bool

    @classmethod
    def of(cls, f: FeedItem) -> StaffFeedItemRead:
        return cls(
            f.id,
            f.kind,
            f.resource_type,
            f.resource_id,
            f.patient_id,
            f.details,
            f.occurred_at,
            f.read,
        )
