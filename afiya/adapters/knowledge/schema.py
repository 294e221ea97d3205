"""Small helpers to read YAML mappings strictly: known keys only, typed values,
and a dotted path in every error so a pharmacist can find the line to fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from afiya.domain.shared.i18n import N_, Message

# libyaml's safe loader when the wheel has it (about ten times faster), else the pure one.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Invalid(Exception):
    """One problem at ``path``; collected into ``ValidationFailed`` by the loader."""

    def __init__(self, path: str, msgid: str, **params: object) -> None:
        super().__init__(f"{path}: {msgid}")
        self.path = path
        self.message = Message(msgid, params)


def mapping(
    value: Any, path: str, *, required: Iterable[str] = (), optional: Iterable[str] = ()
) -> Mapping[str, Any]:
    """``value`` as a mapping with exactly the allowed keys."""
    if not isinstance(value, Mapping):
        raise Invalid(path, N_("Expected a mapping."))
    required = tuple(required)
    allowed = set(required) | set(optional)
    for key in value:
        if key not in allowed:
            raise Invalid(f"{path}.{key}", N_("Unknown field {name}."), name=str(key))
    for key in required:
        if key not in value:
            raise Invalid(f"{path}.{key}", N_("This field is required."))
    return value


def text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(path, N_("Expected a non-empty text."))
    return value.strip()


def optional_text(data: Mapping[str, Any], key: str, path: str) -> str | None:
    return text(data[key], f"{path}.{key}") if data.get(key) is not None else None


def number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(path, N_("Expected a number."))
    return float(value)


def optional_number(data: Mapping[str, Any], key: str, path: str) -> float | None:
    return number(data[key], f"{path}.{key}") if data.get(key) is not None else None


def integer(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(path, N_("Expected a whole number."))
    return value


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(path, N_("Expected true or false."))
    return value


def text_list(value: Any, path: str) -> tuple[str, ...]:
    """A list of texts; a single text is accepted as a list of one."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise Invalid(path, N_("Expected a list."))
    return tuple(text(v, f"{path}.{n}") for n, v in enumerate(value))


def items(value: Any, path: str) -> list[tuple[str, Any]]:
    """A list as (path, item) pairs."""
    if not isinstance(value, list):
        raise Invalid(path, N_("Expected a list."))
    return [(f"{path}.{n}", item) for n, item in enumerate(value)]


def choice(value: Any, path: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise Invalid(
            path,
            N_("{value} is not one of {allowed}."),
            value=str(value),
            allowed=", ".join(allowed),
        )
    return str(value)
