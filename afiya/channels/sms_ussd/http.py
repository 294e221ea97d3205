"""The USSD callback route (Africa's Talking), mounted by the entry point next to the API.

Channels are an entry point of their own (import-linter keeps ``api``, ``jobs`` and
``channels`` independent), so the route is not discovered with the API's controllers:
``afiya.asgi`` registers :data:`ROUTES` on the application (``app.register``). The
app-wide guard, error handlers and request ids apply to it like to any route.

The gateway carries no user token: the route is public and authenticates the caller by
the shared secret in the callback URL (``?key=``) and/or the IP allow-list
(``AFIYA_SMS_CALLBACK_SECRET``, ``AFIYA_SMS_CALLBACK_ALLOWED_NETWORKS``); with neither
configured it answers 503. The form's ``text`` holds the PIN typed by the patient: it is
never logged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from litestar import Controller, MediaType, Request, Response, post
from litestar.params import FromQuery

from afiya.adapters.i18n import Translator
from afiya.adapters.sms.babel_formatting import BabelFormatter
from afiya.adapters.sms.callbacks import CallbackAuthenticator, client_address
from afiya.channels.sms_ussd.channel import UssdChannel
from afiya.channels.sms_ussd.protocol import UssdRequest
from afiya.channels.sms_ussd.store import (
    MemoryUssdSessionStore,
    RedisUssdSessionStore,
    UssdSessionStore,
)
from afiya.domain.audit.model import AuditContext
from afiya.domain.messaging.lockout import LockoutPolicy
from afiya.domain.shared.errors import FieldError, PermissionDenied, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

PUBLIC: Final = "public"  # the marker afiya.api.security reads (same string)


class CallbackRefused(PermissionDenied):
    code = "callback_refused"
    default_message = N_("This callback is not authenticated.")


def session_store(settings: Any) -> UssdSessionStore:
    """Redis when configured (sessions shared by every process), memory otherwise."""
    if settings.redis_url:
        from redis.asyncio import Redis

        return RedisUssdSessionStore(
            Redis.from_url(settings.redis_url), ttl_seconds=settings.ussd_session_seconds
        )
    return MemoryUssdSessionStore(ttl_seconds=settings.ussd_session_seconds)


def ussd_channel(container: Any) -> UssdChannel:
    """The process's channel (built on first use, kept in ``container.extras``)."""
    if "ussd" not in container.extras:
        settings = container.settings
        container.extras["ussd"] = UssdChannel(
            sessions=session_store(settings),
            hasher=container.hasher,
            formatter=BabelFormatter(),
            lockout_policy=LockoutPolicy(
                max_failures=settings.ussd_max_failures,
                window=timedelta(minutes=settings.ussd_failure_window_minutes),
                lock_duration=timedelta(minutes=settings.ussd_lockout_minutes),
            ),
        )
    return container.extras["ussd"]  # type: ignore[no-any-return]


def _guard(container: Any) -> CallbackAuthenticator | None:
    if "at_guard" not in container.extras:
        settings = container.settings
        container.extras["at_guard"] = CallbackAuthenticator.configured(
            shared_secret=settings.sms_callback_secret or None,
            allowed_networks=settings.sms_callback_allowed_networks,
        )
    return container.extras["at_guard"]  # type: ignore[no-any-return]


class UssdController(Controller):
    path = "/ussd"
    tags = ["messaging"]  # noqa: RUF012  (Litestar reads a class list, as in afiya/api)

    @post(
        "/africastalking",
        operation_id="ussd_africastalking",
        summary="USSD callback (Africa's Talking)",
        opt={PUBLIC: True},
        status_code=200,
        media_type=MediaType.TEXT,
    )
    async def africastalking(
        self, request: Request[Any, Any, Any], key: FromQuery[str | None] = None
    ) -> Response[Any]:
        """Form fields ``sessionId``, ``serviceCode``, ``phoneNumber``, ``networkCode``,
        ``text`` (every input of the session, ``*``-joined). Answers ``text/plain``
        ``CON <screen>`` to wait for input or ``END <screen>`` to close."""
        container = request.app.state.container
        settings = container.settings
        guard = _guard(container)
        if guard is None:
            detail = Message(
                N_("The {gateway} callbacks are not configured on this server."),
                {"gateway": "Africa's Talking"},
            )
            return Response(
                {
                    "status": 503,
                    "code": "callbacks_not_configured",
                    "detail": detail.render(Translator(settings.default_language)),
                },
                status_code=503,
                media_type="application/problem+json",
            )
        remote = client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            settings.trusted_proxies,
        )
        if not guard.is_allowed(remote_ip=remote, presented_secret=key):
            raise CallbackRefused()
        form = await request.form()
        try:
            ussd = UssdRequest.from_africastalking({k: str(v) for k, v in form.items()})
        except ValueError as exc:
            raise ValidationFailed(
                [
                    FieldError(
                        "form", Message(N_("The callback is missing a field or is malformed."))
                    )
                ]
            ) from exc
        context = AuditContext(
            user_id=None,
            username=None,
            roles=None,
            ip=remote,
            user_agent=request.headers.get("user-agent"),
            node=settings.node_id,
            request_id=request.scope.get("state", {}).get("request_id"),
            purpose="ussd",
        )
        async with container.uow(context) as uow:
            reply = await ussd_channel(container).answer(ussd, uow=uow, now=container.clock.now())
            await uow.commit()
        return Response(reply.render(), media_type=MediaType.TEXT, status_code=200)


ROUTES = [UssdController]
"""Route handlers the entry point registers on the application."""
