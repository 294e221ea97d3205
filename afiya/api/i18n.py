"""The caller's language for one request, from ``Accept-Language``."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from afiya.adapters.i18n import Translator, negotiate


def request_translator(connection: ASGIConnection[Any, Any, Any, Any]) -> Translator:
    state = connection.scope.setdefault("state", {})
    translator = state.get("translator")
    if translator is None:
        default = "fr"
        container = getattr(connection.app.state, "container", None)
        if container is not None:
            default = container.settings.default_language
        translator = Translator(negotiate(connection.headers.get("accept-language"), default))
        state["translator"] = translator
    return translator  # type: ignore[no-any-return]
