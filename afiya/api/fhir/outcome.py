"""FHIR responses and errors over HTTP: ``application/fhir+json`` bodies and the router's
exception handlers, which answer an OperationOutcome for every 4xx/5xx."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from afiya.adapters.fhir.common import FHIR_JSON, InvalidResource
from afiya.adapters.fhir.engine.errors import (
    ISSUE_OF_STATUS,
    domain_issues,
    invalid_resource_issues,
    issue,
    operation_outcome,
)
from afiya.api.i18n import request_translator
from afiya.domain.shared.errors import AuthenticationFailed, DomainError, RateLimited
from afiya.domain.shared.i18n import N_

log = logging.getLogger("afiya.api")

_ENCODER = msgspec.json.Encoder()


def fhir_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(
        _ENCODER.encode(body), status_code=status, media_type=FHIR_JSON, headers=headers
    )


def outcome_response(
    status: int, issues: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> Response[bytes]:
    return fhir_response(operation_outcome(issues), status, headers)


def _handle_domain(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    translate = request_translator(request)
    status, issues = domain_issues(exc, translate)
    headers = None
    if isinstance(exc, AuthenticationFailed):
        headers = {"WWW-Authenticate": 'Bearer realm="afiya"'}
    if isinstance(exc, RateLimited) and "retry_after" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after"])}
    return outcome_response(status, issues, headers)


def _handle_invalid(request: Request[Any, Any, Any], exc: InvalidResource) -> Response[bytes]:
    return outcome_response(400, invalid_resource_issues(exc))


def _handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    translate = request_translator(request)
    status = 400 if isinstance(exc, ValidationException) else exc.status_code
    text = translate(N_("The request could not be completed."))
    if isinstance(exc, NotFoundException):
        text = translate(N_("The resource was not found."))
    return outcome_response(
        status,
        [issue("error", ISSUE_OF_STATUS.get(status, "processing"), text)],
        getattr(exc, "headers", None),
    )


def _handle_internal(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unhandled FHIR error", exc_info=exc)
    translate = request_translator(request)
    text = translate(N_("Something went wrong on our side. The error was logged."))
    return outcome_response(500, [issue("fatal", "exception", text)])


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: _handle_domain,
    InvalidResource: _handle_invalid,
    HTTPException: _handle_http,
    500: _handle_internal,
    Exception: _handle_internal,
}
