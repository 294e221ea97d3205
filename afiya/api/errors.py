"""RFC 9457 problem details for every error, with a stable ``code``, in the caller's language.

Domain errors map to HTTP statuses in one table, :data:`STATUS_OF`. Input that cannot be
decoded answers 422 listing every invalid field (msgspec stops at the first, so the body
is re-checked field by field here).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.utils.scope.state import ScopeState

from afiya.adapters.i18n import Translator
from afiya.api.i18n import request_translator
from afiya.domain.shared.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from afiya.domain.shared.i18n import N_, Message

log = logging.getLogger("afiya.api")

PROBLEM_JSON = "application/problem+json"

STATUS_OF: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    AuthenticationFailed: 401,
    RateLimited: 429,
}

TITLES = {
    400: N_("Bad request"),
    401: N_("Authentication required"),
    403: N_("Forbidden"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Request too large"),
    422: N_("Invalid input"),
    429: N_("Too many requests"),
    500: N_("Internal error"),
    503: N_("Service unavailable"),
}


def status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]  # type: ignore[index]
    return 400


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    translate = request_translator(request)
    body: dict[str, Any] = {
        "type": f"https://afiya.health/problems/{code}",
        "title": translate(TITLES.get(status, TITLES[400])),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        body["request_id"] = request_id
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    translate = request_translator(request)
    status = status_of(exc)
    errors = None
    if isinstance(exc, ValidationFailed):
        errors = [
            {"field": e.field, "code": e.code, "message": e.message.render(translate)}
            for e in exc.errors
        ]
    headers = None
    extra = {k: v for k, v in exc.details.items() if isinstance(v, str | int | float | list)}
    if isinstance(exc, RateLimited) and "retry_after" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after"])}
    if isinstance(exc, AuthenticationFailed):
        headers = {"WWW-Authenticate": 'Bearer realm="afiya"'}
    return problem(
        request,
        status,
        exc.code,
        exc.message.render(translate),
        errors=errors,
        extra=extra,
        headers=headers,
    )


_EXPECTED = re.compile(r"Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`")


def _field_message(raw: str, translate: Translator) -> tuple[str, str]:
    """Turn a msgspec error into (code, translated message)."""
    if "missing required field" in raw:
        return "required", translate(N_("This field is required."))
    if "unknown field" in raw:
        return "unknown_field", translate(N_("Unknown field."))
    match = _EXPECTED.search(raw)
    if match:
        return "type", Message(N_("Expected {expected}, got {got}."), match.groupdict()).render(
            translate
        )
    if "length" in raw or ">=" in raw or "<=" in raw:
        return "constraint", Message(
            N_("Value out of range ({detail})."), {"detail": raw.split(" - at ")[0]}
        ).render(translate)
    return "invalid", Message(
        N_("Invalid value ({detail})."), {"detail": raw.split(" - at ")[0]}
    ).render(translate)


def collect_struct_errors(
    struct_type: type[msgspec.Struct], raw: Any, translate: Translator, prefix: str = ""
) -> list[dict[str, str]]:
    """Check every field of ``raw`` against ``struct_type``; return all the problems."""
    if not isinstance(raw, dict):
        return [
            {
                "field": prefix or "body",
                "code": "type",
                "message": translate(N_("Expected a JSON object.")),
            }
        ]
    info = msgspec.inspect.type_info(struct_type)
    errors: list[dict[str, str]] = []
    fields = {f.encode_name: f for f in info.fields}  # type: ignore[attr-defined]
    if info.forbid_unknown_fields:  # type: ignore[attr-defined]
        for key in raw:
            if key not in fields:
                errors.append(
                    {
                        "field": prefix + key,
                        "code": "unknown_field",
                        "message": translate(N_("Unknown field.")),
                    }
                )
    hints = msgspec.structs.fields(struct_type)
    for field in hints:
        name = field.encode_name
        if name not in raw:
            if field.required:
                errors.append(
                    {
                        "field": prefix + name,
                        "code": "required",
                        "message": translate(N_("This field is required.")),
                    }
                )
            continue
        try:
            msgspec.convert(raw[name], field.type)
        except msgspec.ValidationError as exc:
            code, message = _field_message(str(exc), translate)
            where = str(exc).split(" - at `$", 1)
            suffix = where[1].rstrip("`") if len(where) == 2 else ""
            errors.append(
                {
                    "field": prefix + name + suffix.replace("[", ".").replace("]", ""),
                    "code": code,
                    "message": message,
                }
            )
    return errors


def validation_exception_handler(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    translate = request_translator(request)
    errors: list[dict[str, str]] = []
    data_field = getattr(request.route_handler, "parsed_data_field", None)
    annotation = getattr(data_field, "annotation", None)
    body = ScopeState.from_scope(request.scope).body
    if (
        isinstance(annotation, type)
        and issubclass(annotation, msgspec.Struct)
        and isinstance(body, bytes)
    ):
        try:
            raw = msgspec.json.decode(body) if body else None
        except msgspec.DecodeError:
            return problem(
                request, 400, "malformed_json", translate(N_("The request body is not valid JSON."))
            )
        errors = collect_struct_errors(annotation, raw, translate)
    if not errors:
        for item in exc.extra or []:
            if isinstance(item, dict):
                code, message = _field_message(str(item.get("message", "")), translate)
                errors.append(
                    {"field": str(item.get("key") or "body"), "code": code, "message": message}
                )
    return problem(
        request, 422, "validation_failed", translate(N_("Some fields are invalid.")), errors=errors
    )


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    translate = request_translator(request)
    status = exc.status_code
    codes = {
        NotFoundException: "not_found",
        NotAuthorizedException: "unauthenticated",
        PermissionDeniedException: "forbidden",
    }
    code = next((c for cls, c in codes.items() if isinstance(exc, cls)), f"http_{status}")
    return problem(
        request,
        status,
        code,
        translate(TITLES.get(status, TITLES[400])),
        headers=getattr(exc, "headers", None),
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", exc_info=exc)
    translate = request_translator(request)
    return problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        translate(N_("Something went wrong on our side. The error was logged.")),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_exception_handler,
    HTTPException: http_exception_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
    Exception: internal_error_handler,
}
