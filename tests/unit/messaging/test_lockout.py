"""Identification lockout after wrong PINs or dates of birth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.messaging.lockout import (
    LockoutPolicy,
    assess_lockout,
    recent_failures,
    record_failure,
)
from afiya.domain.shared.errors import ValidationFailed

T0 = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_fresh_number_has_three_attempts() -> None:
    status = assess_lockout([], T0)
    assert (status.locked, status.remaining_attempts) == (False, 3)


def test_two_failures_leave_one_attempt() -> None:
    status = assess_lockout([T0, T0 + MIN], T0 + 2 * MIN)
    assert (status.locked, status.remaining_attempts) == (False, 1)


def test_third_failure_locks_for_thirty_minutes() -> None:
    failures, status = record_failure([T0, T0 + MIN], T0 + 2 * MIN)
    assert status.locked
    assert status.locked_until == T0 + 32 * MIN
    assert assess_lockout(failures, T0 + 31 * MIN).locked
    assert not assess_lockout(failures, T0 + 32 * MIN).locked


def test_after_the_lock_one_more_failure_locks_again_at_once() -> None:
    failures = (T0, T0 + MIN, T0 + 2 * MIN)
    status = assess_lockout(failures, T0 + 40 * MIN)
    assert (status.locked, status.remaining_attempts) == (False, 1)
    _, status = record_failure(failures, T0 + 40 * MIN)
    assert status.locked
    assert status.locked_until == T0 + 70 * MIN


def test_failures_older_than_the_window_are_forgotten() -> None:
    old = [T0, T0 + MIN, T0 + 2 * MIN]
    later = T0 + timedelta(hours=1, minutes=3)
    assert recent_failures(old, later) == ()
    assert assess_lockout(old, later).remaining_attempts == 3


def test_record_failure_returns_only_what_must_be_kept() -> None:
    kept, _ = record_failure([T0 - timedelta(hours=2), T0 - MIN], T0)
    assert kept == (T0 - MIN, T0)


def test_policy_is_configurable() -> None:
    policy = LockoutPolicy(max_failures=5, window=timedelta(minutes=10), lock_duration=MIN)
    failures = [T0 + i * MIN for i in range(5)]
    assert assess_lockout(failures, T0 + 4 * MIN, policy).locked
    assert not assess_lockout(failures, T0 + 6 * MIN, policy).locked


def test_invalid_policy_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        LockoutPolicy(max_failures=0)


@given(st.lists(st.integers(min_value=0, max_value=180), max_size=12), st.integers(0, 240))
def test_never_more_than_max_failures_inside_a_window_without_a_lock(
    minutes: list[int], now_minute: int
) -> None:
    failures = [T0 + m * MIN for m in minutes if m <= now_minute]
    now = T0 + now_minute * MIN
    status = assess_lockout(failures, now)
    counted = len(recent_failures(failures, now))
    assert 0 <= status.remaining_attempts <= 3
    if counted < 3:
        assert not status.locked and status.remaining_attempts == 3 - counted
    if status.locked:
        assert status.locked_until is not None and status.locked_until > now
