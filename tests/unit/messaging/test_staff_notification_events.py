"""A critical-result notification reaches the stream of its clinician only."""

from __future__ import annotations

import uuid

from afiya.api.messaging.hub import MAPPERS, ChangeEntry
from afiya.domain.access.policy import Scope

DOCTOR, COLLEAGUE = uuid.uuid4(), uuid.uuid4()


def _entry(operation: str = "insert") -> ChangeEntry:
    return ChangeEntry(
        seq=42,
        entity="staff_notification",
        entity_id=str(uuid.uuid4()),
        operation=operation,
        data={
            "user_id": str(DOCTOR),
            "kind": "critical_result",
            "patient_id": str(uuid.uuid4()),
            "payload": {"result_id": "r1", "value": "1.9", "detected_at": "2026-12-07T10:00:00"},
        },
        recorded_at="2026-12-07T10:00:01",
    )


def test_a_new_notification_is_addressed_to_its_clinician_whatever_the_scopes():
    event = MAPPERS["staff_notification"](_entry())
    assert event is not None and event.kind == "critical_result"
    assert event.visible_to(DOCTOR, Scope(()))
    assert not event.visible_to(COLLEAGUE, Scope(("/",)))  # a national scope is not enough
    assert "value" not in event.details  # ids only on the wire, never the result itself


def test_a_read_receipt_is_not_a_new_event():
    assert MAPPERS["staff_notification"](_entry("update")) is None
