"""Domain errors. Each has a stable ``code``; the API maps classes to HTTP statuses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from afiya.domain.shared.i18n import N_, Message


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid input field: a dotted path (``phones.0.number``) and why."""

    field: str
    message: Message
    code: str = "invalid"


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    code: str = "domain_error"
    default_message: str = N_("The request could not be completed.")

    def __init__(
        self,
        message: Message | str | None = None,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if message is None:
            message = Message(self.default_message)
        elif isinstance(message, str):
            message = Message(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(message.render())


class NotFound(DomainError):
    code = "not_found"
    default_message = N_("The resource was not found.")


class Conflict(DomainError):
    code = "conflict"
    default_message = N_("The request conflicts with the current state of the resource.")


class PermissionDenied(DomainError):
    code = "forbidden"
    default_message = N_("You are not allowed to do this.")


class AuthenticationFailed(DomainError):
    code = "unauthenticated"
    default_message = N_("Authentication failed.")


class RateLimited(DomainError):
    code = "too_many_attempts"
    default_message = N_("Too many attempts. Try again later.")


class ValidationFailed(DomainError):
    """Input that breaks a rule; lists every invalid field, not only the first."""

    code = "validation_failed"
    default_message = N_("Some fields are invalid.")

    def __init__(
        self,
        errors: Sequence[FieldError],
        message: Message | str | None = None,
        *,
        code: str | None = None,
    ) -> None:
        self.errors = list(errors)
        super().__init__(message, code=code)
