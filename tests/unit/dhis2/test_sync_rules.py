"""Pure rules of the sync: what to send, how each conflict is read, retry dates, checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.dhis2.conflicts import CONFLICT_RULES, ConflictKind
from afiya.domain.dhis2.import_summary import parse_import_summary
from afiya.domain.dhis2.payloads import DataValue, content_hash
from afiya.domain.dhis2.sync_model import AuthKind, ConnectionSettings, LedgerEntry, LedgerState
from afiya.domain.dhis2.sync_rules import (
    Decision,
    backoff_seconds,
    changed_after_payment,
    classify_chunk,
    decide,
    retry_date,
)
from afiya.domain.dhis2.validation import validate_connection

TODAY = date(2014, 2, 10)
VALUES = [DataValue(f"DataElem{i:03d}", "201403", "OrgUnit0001", value=str(i)) for i in range(4)]
ISSUE_CODES = {
    "E7610": ConflictKind.BLOCKING,
    "E7611": ConflictKind.BLOCKING,
    "E7612": ConflictKind.BLOCKING,
    "E7630": ConflictKind.BLOCKING,
    "E7633": ConflictKind.BLOCKING,
    "E7641": ConflictKind.RETRIABLE,
    "E7643": ConflictKind.RETRIABLE,
}


def _summary(code: str, indexes: list[int], *, wrapped: bool) -> dict:
    bare = {
        "responseType": "ImportSummary",
        "status": "WARNING",
        "importCount": {"imported": 4 - len(indexes), "updated": 0, "ignored": len(indexes)},
        "conflicts": [
            {
                "object": "201403",
                "objects": {"period": "201403"},
                "value": f"conflict {code}",
                "errorCode": code,
                "property": "period",
                "indexes": indexes,
            }
        ],
        "rejectedIndexes": indexes,
    }
    if not wrapped:
        return bare
    return {
        "httpStatus": "Conflict",
        "httpStatusCode": 409,
        "status": "WARNING",
        "message": "An error occurred, please check import summary.",
        "response": bare,
    }


@pytest.mark.parametrize("wrapped", [True, False])
@pytest.mark.parametrize("code", sorted(CONFLICT_RULES))
def test_every_conflict_code_is_parsed_and_classified_in_both_shapes(code, wrapped):
    summary = parse_import_summary(_summary(code, [1, 3], wrapped=wrapped))
    outcomes = classify_chunk(summary, VALUES, [False] * 4, today=TODAY)
    assert [o.state for o in outcomes] == [
        LedgerState.IMPORTED,
        LedgerState.CONFLICT,
        LedgerState.IMPORTED,
        LedgerState.CONFLICT,
    ]
    conflict = outcomes[1].conflict
    assert conflict is not None and conflict.rule.code == code
    assert conflict.kind is CONFLICT_RULES[code].kind
    if code in ISSUE_CODES:
        assert conflict.kind is ISSUE_CODES[code]
    has_date = conflict.rule.retry is not None and conflict.rule.retry.value == "period_opens"
    assert (outcomes[1].retry_on is not None) == has_date


def test_a_future_period_is_retried_when_it_opens():
    summary = parse_import_summary(_summary("E7641", [0], wrapped=True))
    outcome = classify_chunk(
        summary, VALUES[:1], [False], today=TODAY, open_future_periods=lambda de: 0
    )[0]
    assert outcome.retry_on == date(2014, 3, 1)  # March opens on 1 March
    early = classify_chunk(
        summary, VALUES[:1], [False], today=TODAY, open_future_periods=lambda de: 2
    )[0]
    assert early.retry_on == date(2014, 2, 11)  # already open by the rule: try tomorrow
    closed = classify_chunk(
        parse_import_summary(_summary("E7643", [0], wrapped=False)),
        VALUES[:1],
        [False],
        today=TODAY,
    )[0]
    assert closed.retry_on == date(2014, 4, 1)  # at the latest the day after the period


def test_lock_exceptions_and_approvals_wait_for_a_person():
    for code in ("E7640", "E7642"):
        conflict = parse_import_summary(_summary(code, [0], wrapped=True)).conflicts[0]
        assert conflict.retriable
        assert retry_date(conflict, "201403", TODAY, 0) is None


def test_legacy_conflicts_without_indexes_are_matched_by_object():
    summary = parse_import_summary(
        {
            "responseType": "ImportSummary",
            "status": "WARNING",
            "importCount": {"imported": 3, "ignored": 1},
            "conflicts": [
                {"object": "DataElem002", "value": "Data element not found or not accessible"}
            ],
        }
    )
    outcomes = classify_chunk(summary, VALUES, [False] * 4, today=TODAY)
    assert [o.state for o in outcomes].count(LedgerState.CONFLICT) == 1
    assert outcomes[2].conflict is not None and outcomes[2].conflict.rule.code == "E7610"


def test_an_aborted_import_puts_every_value_in_conflict():
    summary = parse_import_summary(
        {
            "responseType": "ImportSummary",
            "status": "ERROR",
            "importCount": {},
            "conflicts": [
                {"object": "NoSuchDS001", "value": "Data set not found", "errorCode": "E7600"}
            ],
        }
    )
    outcomes = classify_chunk(summary, VALUES, [False] * 4, today=TODAY)
    assert {o.state for o in outcomes} == {LedgerState.CONFLICT}
    assert {o.conflict.rule.code for o in outcomes if o.conflict} == {"E7600"}


def test_rejected_without_conflict_is_ignored_and_earlier_accepts_make_updates():
    summary = parse_import_summary(
        {
            "responseType": "ImportSummary",
            "status": "SUCCESS",
            "importCount": {"imported": 1, "updated": 1, "ignored": 1},
            "rejectedIndexes": [2],
        }
    )
    outcomes = classify_chunk(summary, VALUES[:3], [False, True, False], today=TODAY)
    assert [o.state for o in outcomes] == [
        LedgerState.IMPORTED,
        LedgerState.UPDATED,
        LedgerState.IGNORED,
    ]


@given(st.sets(st.integers(min_value=0, max_value=19)), st.sampled_from(sorted(CONFLICT_RULES)))
def test_each_value_gets_one_state_and_only_named_values_conflict(named, code):
    values = [DataValue("DataElem001", "201401", f"OrgUnit{i:04d}", value="1") for i in range(20)]
    summary = parse_import_summary(_summary(code, sorted(named), wrapped=False))
    outcomes = classify_chunk(summary, values, [False] * 20, today=TODAY)
    assert len(outcomes) == 20
    assert {i for i, o in enumerate(outcomes) if o.state is LedgerState.CONFLICT} == named


def _entry(value: DataValue, state: LedgerState, **extra) -> LedgerEntry:
    return LedgerEntry(uuid4(), uuid4(), value, content_hash(value), state, **extra)


def test_what_a_push_does_with_each_value():
    value = VALUES[0]
    assert decide(None, value, TODAY) is Decision.SEND
    changed = DataValue(value.data_element, value.period, value.org_unit, value="99")
    for state in (LedgerState.IMPORTED, LedgerState.UPDATED, LedgerState.IGNORED):
        assert decide(_entry(value, state), value, TODAY) is Decision.UNCHANGED
        assert decide(_entry(value, state), changed, TODAY) is Decision.SEND
    for state in (LedgerState.PENDING, LedgerState.SENT):
        assert decide(_entry(value, state), value, TODAY) is Decision.RESEND
    blocked = _entry(value, LedgerState.CONFLICT, conflict_kind="blocking")
    assert decide(blocked, value, TODAY) is Decision.BLOCKED
    waiting = _entry(
        value, LedgerState.CONFLICT, conflict_kind="retriable", retry_on=date(2014, 3, 1)
    )
    assert decide(waiting, value, TODAY) is Decision.WAITING
    assert decide(waiting, value, date(2014, 3, 1)) is Decision.RESEND


def test_a_paid_value_changed_in_dhis2_raises_an_alert_but_not_a_rewritten_number():
    sent = DataValue("DataElem001", "201401", "OrgUnit0001", value="5")
    paid = _entry(sent, LedgerState.IMPORTED, paid_at=datetime(2014, 2, 1, tzinfo=UTC))
    assert not changed_after_payment(paid, DataValue(*sent.key, value="5.0"))
    assert changed_after_payment(paid, DataValue(*sent.key, value="7"))
    assert changed_after_payment(paid, DataValue(*sent.key, value="5", deleted=True))
    unpaid = _entry(sent, LedgerState.IMPORTED)
    assert not changed_after_payment(unpaid, DataValue(*sent.key, value="7"))


def test_connection_settings_are_checked_together():
    settings = ConnectionSettings("SNIS", "http://dhis2.example.org", AuthKind.TOKEN, chunk_size=0)
    fields = {e.field for e in validate_connection(settings, "pat", creating=True)}
    assert fields == {"base_url", "secret", "chunk_size"}
    private = ConnectionSettings("SNIS", "http://10.1.2.3:8080", AuthKind.BASIC, username="u")
    assert validate_connection(private, "p", creating=True) == []
    token = ConnectionSettings("SNIS", "https://snis.example", AuthKind.TOKEN)
    assert validate_connection(token, "d2pat_abc123", creating=True) == []


def test_back_off_doubles_up_to_an_hour_and_respects_retry_after():
    assert [backoff_seconds(n, 30) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(20, 30) == 3600
    assert backoff_seconds(1, 30, retry_after=300) == 300
    assert backoff_seconds(1, 0) == 0
