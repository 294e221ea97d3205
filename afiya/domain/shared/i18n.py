"""User-facing text in the domain: a message id (the English source) and its parameters.

The domain never translates. It returns :class:`Message` values; the outer rings render
them through the gettext catalogs (Babel) in the caller's language. ``N_`` marks a
literal for extraction by ``pybabel extract`` without translating it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction; return it unchanged."""
    return msgid


@dataclass(frozen=True, slots=True)
class Message:
    """A translatable message: ``msgid`` is English with ``{name}`` placeholders."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, translate: Any = None) -> str:
        """Render with ``translate`` (a ``gettext``-like callable) or in English."""
        text = translate(self.msgid) if translate is not None else self.msgid
        try:
            return str(text).format(**self.params)
        except (KeyError, IndexError, ValueError):
            return str(text)
