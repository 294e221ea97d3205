"""Lockout after wrong PINs or dates of birth on USSD and SMS self-service. Pure rules.

The caller keeps the times of recent failed attempts per phone number (not per USSD
session: a new session must not reset the count) and asks these functions whether the
number is locked. With the default policy, three failures within an hour lock the number
for 30 minutes after the last one; a fourth failure after the lock expires, still within
the hour, locks it again at once, so guessing stays slow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """How many failures, counted over which window, lock for how long."""

    max_failures: int = 3
    window: timedelta = timedelta(hours=1)
    lock_duration: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if (
            self.max_failures < 1
            or self.window <= timedelta(0)
            or self.lock_duration < timedelta(0)
        ):
            raise ValidationFailed(
                [FieldError("lockout", Message(N_("The lockout policy is not valid.")))]
            )


@dataclass(frozen=True, slots=True)
class LockoutStatus:
    """Whether the caller may try again, and until when it may not."""

    locked: bool
    locked_until: datetime | None
    remaining_attempts: int


def recent_failures(
    failures: Sequence[datetime], now: datetime, policy: LockoutPolicy | None = None
) -> tuple[datetime, ...]:
    """The failures still counted at ``now``, oldest first (what the caller should keep)."""
    policy = policy or LockoutPolicy()
    horizon = now - policy.window
    return tuple(sorted(f for f in failures if horizon < f <= now))


def assess_lockout(
    failures: Sequence[datetime], now: datetime, policy: LockoutPolicy | None = None
) -> LockoutStatus:
    """Decide whether a phone number may attempt identification at ``now``."""
    policy = policy or LockoutPolicy()
    recent = recent_failures(failures, now, policy)
    if len(recent) >= policy.max_failures:
        until = recent[-1] + policy.lock_duration
        if now < until:
            return LockoutStatus(True, until, 0)
        # The lock expired: one more attempt before it closes again.
        return LockoutStatus(False, None, 1)
    return LockoutStatus(False, None, policy.max_failures - len(recent))


def record_failure(
    failures: Sequence[datetime], now: datetime, policy: LockoutPolicy | None = None
) -> tuple[tuple[datetime, ...], LockoutStatus]:
    """Add a failure at ``now``; return the failures to keep and the resulting status."""
    policy = policy or LockoutPolicy()
    kept = (*recent_failures(failures, now, policy), now)
    return kept, assess_lockout(kept, now, policy)
