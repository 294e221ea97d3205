"""Audit events and the hash chain that makes tampering visible."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What a use case reports: the action and its object. Who/where come from context."""

    action: str  # e.g. "orgunit.read", "patient.update", "auth.login"
    resource_type: str
    resource_id: str | None = None
    patient_id: UUID | None = None
    outcome: Outcome = Outcome.SUCCESS
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditContext:
    """Who acts, from where, and why: filled by the entry point (API, job, CLI)."""

    user_id: UUID | None
    username: str | None
    roles: str | None
    ip: str | None
    user_agent: str | None
    node: str
    request_id: str | None = None
    purpose: str | None = None  # why; mandatory for break-the-glass access


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    id: UUID
    occurred_at: datetime
    context: AuditContext
    record: AuditRecord
    prev_hash: str
    hash: str


def _utc_text(moment: datetime) -> str:
    """Microsecond UTC text, the same whether the database kept the zone or not."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_payload(
    seq: int, event_id: UUID, occurred_at: datetime, context: AuditContext, record: AuditRecord
) -> bytes:
    """The bytes that are hashed: every field, in a fixed order, as canonical JSON."""
    body = {
        "seq": seq,
        "id": str(event_id),
        "occurred_at": _utc_text(occurred_at),
        "user_id": str(context.user_id) if context.user_id else None,
        "username": context.username,
        "roles": context.roles,
        "ip": context.ip,
        "user_agent": context.user_agent,
        "node": context.node,
        "request_id": context.request_id,
        "purpose": context.purpose,
        "action": record.action,
        "resource_type": record.resource_type,
        "resource_id": record.resource_id,
        "patient_id": str(record.patient_id) if record.patient_id else None,
        "outcome": record.outcome.value,
        "details": dict(record.details),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain_hash(prev_hash: str, payload: bytes) -> str:
    """SHA-256 over the previous event's hash and this event's canonical payload."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + payload).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    event_id: UUID
    reason: str


class ChainVerifier:
    """Checks events one at a time, so a trail of millions is verified in bounded memory.

    An event breaks the chain when its stored ``prev_hash`` is not the previous event's
    hash, when its recomputed hash differs from the stored one (a field was edited), or
    when a sequence number is missing (a row was deleted).
    """

    def __init__(self, start_hash: str = GENESIS_HASH) -> None:
        self.previous = start_hash
        self.expected_seq: int | None = None
        self.checked = 0

    def check(self, event: AuditEvent) -> ChainBreak | None:
        if self.expected_seq is not None and event.seq != self.expected_seq:
            return ChainBreak(event.seq, event.id, f"sequence gap: expected {self.expected_seq}")
        if event.prev_hash != self.previous:
            return ChainBreak(event.seq, event.id, "previous-hash link does not match")
        payload = canonical_payload(
            event.seq, event.id, event.occurred_at, event.context, event.record
        )
        if chain_hash(event.prev_hash, payload) != event.hash:
            return ChainBreak(event.seq, event.id, "content does not match its hash")
        self.previous = event.hash
        self.expected_seq = event.seq + 1
        self.checked += 1
        return None


def verify_chain(events: Iterable[AuditEvent], start_hash: str = GENESIS_HASH) -> ChainBreak | None:
    """Walk events in ``seq`` order; return the first event whose hash does not hold."""
    verifier = ChainVerifier(start_hash)
    for event in events:
        broken = verifier.check(event)
        if broken is not None:
            return broken
    return None
