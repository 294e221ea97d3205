"""Per-process objects of the messaging routes, built on first use from the container."""

from __future__ import annotations

import json
from typing import Any

from afiya.adapters.sms.callbacks import CallbackAuthenticator
from afiya.api.messaging.hub import NotificationHub


def _gateway_config(container: Any) -> dict[str, Any]:
    try:
        config = json.loads(container.settings.sms_gateway_config or "{}")
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def africastalking_guard(container: Any) -> CallbackAuthenticator | None:
    """``None`` when neither a secret nor an allow-list is configured (routes answer 503)."""
    if "at_guard" not in container.extras:
        settings = container.settings
        container.extras["at_guard"] = CallbackAuthenticator.configured(
            shared_secret=settings.sms_callback_secret or None,
            allowed_networks=settings.sms_callback_allowed_networks,
        )
    return container.extras["at_guard"]  # type: ignore[no-any-return]


def twilio_credentials(container: Any) -> tuple[str | None, str | None]:
    """(auth token, account SID) for webhook signatures and status callbacks."""
    config = _gateway_config(container)
    token = container.settings.twilio_auth_token or config.get("auth_token") or None
    return token, config.get("account_sid") or None


def notification_hub(container: Any) -> NotificationHub:
    if "notifications" not in container.extras:
        settings = container.settings
        container.extras["notifications"] = NotificationHub(
            container.uow.read_sessions,  # polling must not take SQLite's write lock
            redis_url=settings.redis_url,
            poll_seconds=settings.notifications_poll_ms / 1000,
        )
    return container.extras["notifications"]  # type: ignore[no-any-return]
