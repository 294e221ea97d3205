"""Cursor pagination: an opaque cursor holds the last sort key; order is always stable."""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, TypeVar

import msgspec

from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

T = TypeVar("T")

MAX_LIMIT = 200


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None
    limit: int


def encode_cursor(key: Any) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            [
                FieldError(
                    "cursor",
                    Message(N_("This cursor is not valid; start again from the first page.")),
                    "format",
                )
            ]
        ) from exc


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            [
                FieldError(
                    "limit",
                    Message(N_("The limit must be between 1 and {max}."), {"max": MAX_LIMIT}),
                    "range",
                )
            ]
        )
    return limit


def next_cursor(items: list[Any], limit: int, key: Any) -> str | None:
    """A cursor when the page is full (there may be more), else None."""
    if len(items) < limit or not items:
        return None
    return encode_cursor(key(items[-1]))
