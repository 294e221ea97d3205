"""OperationOutcome issues for every error, and the FHIR-specific error class."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from afiya.adapters.fhir.common import InvalidResource
from afiya.domain.shared.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from afiya.domain.shared.i18n import Message

_STATUS_OF: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    AuthenticationFailed: 401,
    RateLimited: 429,
}
"""The same statuses as ``afiya.api.errors.STATUS_OF`` (the API's table)."""

ISSUE_OF_STATUS = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    429: "throttled",
}


class FhirError(DomainError):
    """An error with its own HTTP status and OperationOutcome issue code."""

    def __init__(
        self,
        status: int,
        issue: str,
        message: Message,
        *,
        expression: Sequence[str] = (),
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code or f"fhir_{issue}")
        self.status = status
        self.issue = issue
        self.expression = list(expression)


def issue(
    severity: str, code: str, diagnostics: str, expression: Sequence[str] = ()
) -> dict[str, Any]:
    out: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        out["expression"] = list(expression)
    return out


def operation_outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": issues}


def status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in _STATUS_OF:
            return _STATUS_OF[cls]
    return 400


FieldPaths = Callable[[str], str]


def domain_issues(
    exc: DomainError, translate: Any, paths: FieldPaths | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """HTTP status and OperationOutcome issues for a domain error."""
    prepared = getattr(exc, "issues", None)  # a failed transaction names its entry
    if prepared is not None:
        return int(getattr(exc, "status", 400)), list(prepared)
    if isinstance(exc, FhirError):
        found = [issue("error", exc.issue, exc.message.render(translate), exc.expression)]
        found += [issue("information", "duplicate", c) for c in exc.details.get("candidates", [])]
        return exc.status, found
    status = status_of(exc)
    if isinstance(exc, Conflict) and exc.code == "version_mismatch":
        status = 412
    if isinstance(exc, ValidationFailed):
        issues = [
            issue(
                "error",
                "required" if e.code == "required" else "business-rule",
                e.message.render(translate),
                [paths(e.field) if paths else e.field],
            )
            for e in exc.errors
        ]
        return status, issues or [issue("error", "invalid", exc.message.render(translate))]
    code = ISSUE_OF_STATUS.get(status, "processing")
    if isinstance(exc, Conflict) and exc.code in ("probable_duplicate", "nni_already_registered"):
        code = "duplicate"
    return status, [issue("error", code, exc.message.render(translate))]


def invalid_resource_issues(exc: InvalidResource) -> list[dict[str, Any]]:
    return [issue("error", p.code, p.message, [p.path]) for p in exc.problems]
