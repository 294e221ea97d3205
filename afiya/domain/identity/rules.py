"""Pure rules for sign-in: progressive delay, lockout, password strength, usernames."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """Thresholds against password guessing (defaults follow OWASP guidance)."""

    free_failures: int = 3  # failures allowed before delays start
    max_delay_seconds: int = 60
    max_failures: int = 10  # then the account is locked
    lockout: timedelta = timedelta(minutes=15)


def next_attempt_allowed_at(
    failed_attempts: int, last_failed_at: datetime | None, policy: LoginPolicy
) -> datetime | None:
    """After ``free_failures`` failures each new attempt waits 1, 2, 4 … s (capped)."""
    if last_failed_at is None or failed_attempts < policy.free_failures:
        return None
    delay = min(2 ** (failed_attempts - policy.free_failures), policy.max_delay_seconds)
    return last_failed_at + timedelta(seconds=delay)


def lock_until_after_failure(
    failed_attempts: int, now: datetime, policy: LoginPolicy
) -> datetime | None:
    """The account locks when the failure count reaches ``max_failures``."""
    if failed_attempts >= policy.max_failures:
        return now + policy.lockout
    return None


def validate_password(password: str, username: str) -> list[FieldError]:
    """At least 10 characters, not containing the username, not one repeated character."""
    errors: list[FieldError] = []
    if len(password) < 10:
        errors.append(
            FieldError(
                "password",
                Message(N_("The password needs at least {n} characters."), {"n": 10}),
                "too_short",
            )
        )
    if username and username.lower() in password.lower():
        errors.append(
            FieldError(
                "password", Message(N_("The password must not contain the username.")), "weak"
            )
        )
    if password and len(set(password)) < 4:
        errors.append(
            FieldError("password", Message(N_("The password is too easy to guess.")), "weak")
        )
    return errors


def validate_username(username: str) -> list[FieldError]:
    if not _USERNAME_RE.match(username):
        return [
            FieldError(
                "username",
                Message(
                    N_(
                        "A username has 3 to 64 lowercase letters, digits, dots, dashes "
                        "or underscores."
                    )
                ),
                "format",
            )
        ]
    return []
