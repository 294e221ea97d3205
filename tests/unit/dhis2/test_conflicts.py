"""The conflict table: every documented data import code is blocking or retriable."""

from __future__ import annotations

from datetime import date

import pytest

from afiya.domain.dhis2.conflicts import (
    CONFLICT_RULES,
    ConflictKind,
    RetryCondition,
    describe,
    infer_code,
    rule_for,
    suggested_retry_date,
)

# dhis2-core ErrorCode: data set level E7600-E7604, data values E7610-E7621, E7630-E7645.
DOCUMENTED_CODES = (
    [f"E{n}" for n in range(7600, 7605)]
    + [f"E{n}" for n in range(7610, 7622)]
    + [f"E{n}" for n in range(7630, 7646)]
)
RETRIABLE = {"E7640", "E7641", "E7642", "E7643", "E7644", "E2017", "E2022", "E2025"}


def test_every_documented_data_import_code_has_a_rule() -> None:
    missing = [code for code in DOCUMENTED_CODES if code not in CONFLICT_RULES]
    assert missing == []


def test_only_time_lock_and_approval_conflicts_are_retriable() -> None:
    retriable = {code for code, rule in CONFLICT_RULES.items() if rule.retriable}
    assert retriable == RETRIABLE
    assert all(CONFLICT_RULES[c].retry is not None for c in RETRIABLE)


@pytest.mark.parametrize(
    ("code", "condition"),
    [
        ("E7641", RetryCondition.PERIOD_OPENS),
        ("E7643", RetryCondition.PERIOD_OPENS),
        ("E7640", RetryCondition.LOCK_EXCEPTION),
        ("E7642", RetryCondition.UNAPPROVAL),
    ],
)
def test_retriable_codes_say_what_must_happen(code: str, condition: RetryCondition) -> None:
    assert rule_for(code).retry is condition


@pytest.mark.parametrize("code", ["E7610", "E7611", "E7612", "E7613", "E7619", "E7633"])
def test_unknown_references_and_bad_values_block(code: str) -> None:
    assert rule_for(code).kind is ConflictKind.BLOCKING


def test_unknown_code_is_blocking_and_named_in_its_label() -> None:
    rule = rule_for("E9999", "Something new")
    assert rule.kind is ConflictKind.BLOCKING
    text = describe("E9999", "Something new").render()
    assert "E9999" in text
    assert "Something new" in text


def test_missing_code_and_unrecognised_text_is_blocking() -> None:
    assert rule_for(None, "Mysterious problem").kind is ConflictKind.BLOCKING
    assert "Mysterious problem" in describe(None, "Mysterious problem").render()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Data element not found or not accessible: `abc`", "E7610"),
        ("Period not valid", "E7611"),
        ("Organisation unit not found or not accessible", "E7612"),
        ("Current date is past expiry days for period 201401 and data set: pBOMPrpg1QX", "E7640"),
        (
            "Period: `202705` is after latest open future period: `202611` for data element: x",
            "E7641",
        ),
        ("Data is already approved for data set: x period: y", "E7642"),
        ("Period: 202601 is not open for this data set at this time: pBOMPrpg1QX", "E7643"),
        (
            "Data value is not a positive integer, must match data element type: vANAXwtLwcT",
            "E7619",
        ),
    ],
)
def test_legacy_messages_without_code_are_recognised(text: str, code: str) -> None:
    assert infer_code(text) == code
    assert rule_for(None, text).code == code


def test_an_explicit_code_wins_over_the_message() -> None:
    assert rule_for("E7612", "Period not valid").code == "E7612"


def test_future_period_is_worth_retrying_the_day_after_it_ends() -> None:
    rule = rule_for("E7641")
    assert suggested_retry_date(rule, date(2026, 3, 31), date(2026, 2, 10)) == date(2026, 4, 1)
    assert suggested_retry_date(rule, date(2026, 1, 31), date(2026, 2, 10)) == date(2026, 2, 11)


def test_conflicts_waiting_for_a_person_have_no_retry_date() -> None:
    assert suggested_retry_date(rule_for("E7640"), date(2026, 1, 31), date(2026, 2, 10)) is None
    assert suggested_retry_date(rule_for("E7612"), date(2026, 1, 31), date(2026, 2, 10)) is None
