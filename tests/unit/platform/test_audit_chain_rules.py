"""The hash chain itself, without a database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.audit.model import (
    GENESIS_HASH,
    AuditContext,
    AuditEvent,
    AuditRecord,
    canonical_payload,
    chain_hash,
    verify_chain,
)
from afiya.domain.shared.ids import uuid7

CONTEXT = AuditContext(
    user_id=None, username="nurse", roles="nurse", ip="10.0.0.1", user_agent="app", node="central"
)


def _chain(actions):
    events, previous = [], GENESIS_HASH
    for seq, action in enumerate(actions, start=1):
        record = AuditRecord(action, "patient", str(seq))
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        event_id = uuid7()
        digest = chain_hash(previous, canonical_payload(seq, event_id, moment, CONTEXT, record))
        events.append(AuditEvent(seq, event_id, moment, CONTEXT, record, previous, digest))
        previous = digest
    return events


@given(st.lists(st.sampled_from(["read", "update", "login"]), min_size=1, max_size=12), st.data())
def test_changing_any_field_of_any_event_breaks_the_chain_there(actions, data):
    events = _chain(actions)
    assert verify_chain(events) is None
    index = data.draw(st.integers(min_value=0, max_value=len(events) - 1))
    victim = events[index]
    events[index] = dataclasses.replace(
        victim, record=dataclasses.replace(victim.record, action="tampered")
    )
    broken = verify_chain(events)
    assert broken is not None and broken.seq == victim.seq


def test_naive_and_aware_utc_times_hash_alike():
    record = AuditRecord("read", "patient")
    event_id = uuid7()
    aware = canonical_payload(1, event_id, datetime(2026, 1, 1, 8, tzinfo=UTC), CONTEXT, record)
    naive = canonical_payload(1, event_id, datetime(2026, 1, 1, 8), CONTEXT, record)
    assert aware == naive
