"""Gateway callbacks: inbound SMS and delivery reports (Africa's Talking, Twilio).

(The USSD callback is a channel route: ``afiya.channels.sms_ussd.http``.)

These routes are public (the gateways carry no user token) and authenticate the caller
instead: Africa's Talking by the shared secret in the callback URL (``?key=``) and/or
the IP allow-list (``AFIYA_SMS_CALLBACK_*``); Twilio by ``X-Twilio-Signature`` computed
over the public URL and the form. A route whose check is not configured answers 503
rather than accept anyone. Every callback is processed once: its replay key is recorded
in the request's transaction (``sms_callback_seen``).
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, MediaType, Request, Response, post
from litestar.params import FromQuery

from afiya.adapters.sms import africastalking, twilio
from afiya.api.dependencies import Uow
from afiya.api.errors import problem
from afiya.api.i18n import request_translator
from afiya.api.messaging import wiring
from afiya.api.messaging.inbound import handle_delivery_report, handle_inbound_sms
from afiya.api.security import PUBLIC, client_ip
from afiya.domain.messaging.phone import mask_phone
from afiya.domain.shared.errors import FieldError, PermissionDenied, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

log = logging.getLogger("afiya.api.messaging")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class CallbackRefused(PermissionDenied):
    code = "callback_refused"
    default_message = N_("This callback is not authenticated.")


def _not_configured(request: Request[Any, Any, Any], which: str) -> Response[Any]:
    return problem(
        request,
        503,
        "callbacks_not_configured",
        Message(
            N_("The {gateway} callbacks are not configured on this server."), {"gateway": which}
        ).render(request_translator(request)),
    )


def _container(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.container


def _bad_form(exc: ValueError) -> ValidationFailed:
    log.info("malformed gateway callback: %s", exc)
    return ValidationFailed(
        [FieldError("form", Message(N_("The callback is missing a field or is malformed.")))]
    )


async def _africastalking_form(
    request: Request[Any, Any, Any], key: str | None
) -> dict[str, str] | Response[Any]:
    container = _container(request)
    guard = wiring.africastalking_guard(container)
    if guard is None:
        return _not_configured(request, "Africa's Talking")
    remote = client_ip(request, container.settings.trusted_proxies) or ""
    if not guard.is_allowed(remote_ip=remote, presented_secret=key):
        raise CallbackRefused()
    form = await request.form()
    return {k: str(v) for k, v in form.items()}


def _public_url(request: Request[Any, Any, Any]) -> str:
    base = _container(request).settings.sms_webhook_base_url.rstrip("/")
    if not base:
        return str(request.url)
    query = request.scope.get("query_string", b"").decode()
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


async def _twilio_form(request: Request[Any, Any, Any]) -> dict[str, str] | Response[Any]:
    token, _ = wiring.twilio_credentials(_container(request))
    if token is None:
        return _not_configured(request, "Twilio")
    form = await request.form()
    pairs = [(k, str(v)) for k, v in form.multi_items()]
    signature = request.headers.get("x-twilio-signature")
    if not twilio.validate_signature(token, _public_url(request), pairs, signature):
        raise CallbackRefused()
    return {k: str(v) for k, v in form.items()}


def _now(request: Request[Any, Any, Any]) -> Any:
    return _container(request).clock.now()


class SmsWebhookController(Controller):
    path = "/sms"
    tags = ["messaging"]

    @post(
        "/inbound/africastalking",
        operation_id="sms_inbound_africastalking",
        summary="Inbound SMS (Africa's Talking)",
        opt={PUBLIC: True},
        status_code=200,
    )
    async def inbound_africastalking(
        self, request: Request[Any, Any, Any], uow: Uow, key: FromQuery[str | None] = None
    ) -> Response[Any]:
        """Keywords RDV, OUI, NON, STOP, START, AIDE (and Arabic, English twins); the
        answer is sent through the SMS gateway after commit."""
        form = await _africastalking_form(request, key)
        if isinstance(form, Response):
            return form
        try:
            sms = africastalking.parse_inbound_sms(form)
        except ValueError as exc:
            raise _bad_form(exc) from exc
        outcome = await handle_inbound_sms(sms, uow=uow, now=_now(request))
        log.info(
            "inbound SMS from %s intent=%s duplicate=%s",
            mask_phone(sms.from_number),
            outcome.intent,
            outcome.duplicate,
        )
        return Response("", media_type=MediaType.TEXT, status_code=200)

    @post(
        "/inbound/twilio",
        operation_id="sms_inbound_twilio",
        summary="Inbound SMS (Twilio)",
        opt={PUBLIC: True},
        status_code=200,
    )
    async def inbound_twilio(self, request: Request[Any, Any, Any], uow: Uow) -> Response[Any]:
        """Signed by ``X-Twilio-Signature``; answers empty TwiML (the reply goes out
        through the gateway, like every other message)."""
        form = await _twilio_form(request)
        if isinstance(form, Response):
            return form
        try:
            sms = twilio.parse_inbound_sms(form)
        except ValueError as exc:
            raise _bad_form(exc) from exc
        outcome = await handle_inbound_sms(sms, uow=uow, now=_now(request))
        log.info(
            "inbound SMS from %s intent=%s duplicate=%s",
            mask_phone(sms.from_number),
            outcome.intent,
            outcome.duplicate,
        )
        return Response(EMPTY_TWIML, media_type=MediaType.XML, status_code=200)

    @post(
        "/delivery/africastalking",
        operation_id="sms_delivery_africastalking",
        summary="Delivery report (Africa's Talking)",
        opt={PUBLIC: True},
        status_code=200,
    )
    async def delivery_africastalking(
        self, request: Request[Any, Any, Any], uow: Uow, key: FromQuery[str | None] = None
    ) -> Response[Any]:
        """Updates the reminder delivery log (``id``, ``status``, ``failureReason``)."""
        form = await _africastalking_form(request, key)
        if isinstance(form, Response):
            return form
        try:
            report = africastalking.parse_delivery_report(form)
        except ValueError as exc:
            raise _bad_form(exc) from exc
        await handle_delivery_report(report, uow=uow, now=_now(request))
        return Response("", media_type=MediaType.TEXT, status_code=200)

    @post(
        "/delivery/twilio",
        operation_id="sms_delivery_twilio",
        summary="Delivery report (Twilio)",
        opt={PUBLIC: True},
        status_code=200,
    )
    async def delivery_twilio(self, request: Request[Any, Any, Any], uow: Uow) -> Response[Any]:
        """Twilio ``StatusCallback``: ``MessageSid``, ``MessageStatus``, ``ErrorCode``."""
        form = await _twilio_form(request)
        if isinstance(form, Response):
            return form
        _, account_sid = wiring.twilio_credentials(_container(request))
        try:
            report = twilio.parse_status_callback(form, expected_account_sid=account_sid)
        except ValueError as exc:
            raise _bad_form(exc) from exc
        await handle_delivery_report(report, uow=uow, now=_now(request))
        return Response("", media_type=MediaType.TEXT, status_code=200)
