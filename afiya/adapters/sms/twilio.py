"""Twilio Programmable Messaging: sending, status callbacks, inbound SMS, signatures.

API: ``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP basic
auth ``AccountSid:AuthToken`` and form fields ``To``, ``From`` or
``MessagingServiceSid``, ``Body``, ``StatusCallback``. Success is ``201`` with a JSON
message (``sid``, ``status``, ``error_code``, ``price``...); an error is JSON
``{code, message, more_info, status}``.

Webhooks carry ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed by the auth token, of the
full URL followed by every POST parameter name and value sorted by name (JSON bodies
instead add ``bodySHA256`` to the URL query). See :func:`validate_signature`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit, urlunsplit

from afiya.adapters.sms._http import (
    FormClient,
    FormResponse,
    is_temporary_status,
    redact_numbers,
    retry_after_seconds,
)
from afiya.domain.messaging.model import DeliveryReport, DeliveryStatus, InboundSms
from afiya.domain.messaging.phone import mask_phone
from afiya.domain.messaging.ports import (
    OutboundSms,
    SmsPermanentError,
    SmsReceipt,
    SmsTemporaryError,
)

LIVE_BASE_URL: Final = "https://api.twilio.com"
PROVIDER: Final = "twilio"

# Error codes that clear by themselves: throttled, sender's queue full.
TEMPORARY_ERROR_CODES: Final[frozenset[int]] = frozenset({20429, 21611})
_ACCEPTED: Final[dict[str, str]] = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sent",
    "sent": "sent",
    "delivered": "sent",
}
STATUS_CALLBACK_STATUSES: Final[dict[str, DeliveryStatus]] = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.SENT,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.REJECTED,
}

_log = logging.getLogger("afiya.sms.twilio")


class TwilioSms:
    """:class:`~afiya.domain.messaging.ports.SmsGateway` over Twilio."""

    name = PROVIDER

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
        base_url: str = LIVE_BASE_URL,
        timeout: float | None = None,
        max_connections: int = 32,
    ) -> None:
        """Configure the gateway.

        Args:
            account_sid: ``AC...`` account id (also the basic-auth user).
            auth_token: the account's auth token.
            from_number: sending number or alphanumeric sender id.
            messaging_service_sid: ``MG...`` service, used when no ``from_number``.
            status_callback: URL Twilio posts delivery statuses to.
            base_url: API root; a local test double in tests.
            timeout: seconds per request.
            max_connections: keep-alive connections to the provider at most.
        """
        if not from_number and not messaging_service_sid:
            raise ValueError("Twilio needs a from_number or a messaging_service_sid")
        self._auth = (account_sid, auth_token)
        self._from = from_number
        self._service = messaging_service_sid
        self._status_callback = status_callback
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._client = FormClient(base_url, timeout=timeout, max_connections=max_connections)

    async def send(self, message: OutboundSms) -> SmsReceipt:
        """Send one SMS; map Twilio's answer to a receipt or an error."""
        form = {"To": message.to, "Body": message.body}
        sender = message.sender_id or self._from
        if sender:
            form["From"] = sender
        else:
            form["MessagingServiceSid"] = self._service or ""
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        response = await self._client.post_form(
            self._url, data=form, auth=self._auth, provider=PROVIDER
        )
        receipt = self._interpret(response)
        _log.info(
            "SMS to %s key=%s accepted id=%s status=%s",
            mask_phone(message.to),
            message.idempotency_key,
            receipt.provider_message_id,
            receipt.status,
        )
        return receipt

    def _interpret(self, response: FormResponse) -> SmsReceipt:
        status = response.status_code
        body = _json_object(response)
        if status >= 400:
            code = body.get("code")
            text = redact_numbers(str(body.get("message") or response.text))
            if is_temporary_status(status) or code in TEMPORARY_ERROR_CODES:
                raise SmsTemporaryError(
                    f"{PROVIDER}: {code or status}: {text}",
                    retry_after=retry_after_seconds(response.headers),
                )
            raise SmsPermanentError(
                f"{PROVIDER}: {code or status}: {text}", code=str(code or status)
            )
        sid, word = body.get("sid"), str(body.get("status", ""))
        if not sid:
            raise SmsTemporaryError(f"{PROVIDER}: unreadable answer (HTTP {status})")
        if word not in _ACCEPTED:
            code = body.get("error_code")
            raise SmsPermanentError(f"{PROVIDER}: message {word} ({code})", code=str(code or word))
        price, unit = body.get("price"), body.get("price_unit")
        return SmsReceipt(
            provider=PROVIDER,
            provider_message_id=str(sid),
            status=_ACCEPTED[word],
            cost=f"{unit} {price}" if price not in (None, "") else None,
            raw={k: v for k, v in body.items() if k in _RAW_FIELDS},
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    async def __aenter__(self) -> TwilioSms:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


# Body and numbers stay out of receipts, which are stored and logged.
_RAW_FIELDS: Final = frozenset(
    {"sid", "status", "num_segments", "price", "price_unit", "error_code", "date_created"}
)


def _json_object(response: FormResponse) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_status_callback(
    form: Mapping[str, str], *, expected_account_sid: str | None = None
) -> DeliveryReport:
    """Read a ``StatusCallback`` request (``MessageSid``, ``MessageStatus``, ``ErrorCode``).

    Raises:
        ValueError: a field is missing, the status is unknown, or the callback is for
            another account.
    """
    sid = form.get("MessageSid") or form.get("SmsSid")
    word = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not word:
        raise ValueError("status callback without MessageSid or MessageStatus")
    if expected_account_sid is not None and form.get("AccountSid") != expected_account_sid:
        raise ValueError("status callback for another Twilio account")
    status = STATUS_CALLBACK_STATUSES.get(word)
    if status is None:
        raise ValueError(f"unknown Twilio message status {word!r}")
    return DeliveryReport(
        provider=PROVIDER,
        provider_message_id=sid,
        status=status,
        provider_status=word,
        failure_reason=form.get("ErrorCode") or None,
        phone_number=form.get("To") or None,
        raw=dict(form),
    )


def parse_inbound_sms(form: Mapping[str, str]) -> InboundSms:
    """Read an incoming-message webhook (``MessageSid``, ``From``, ``To``, ``Body``)."""
    try:
        sid, sender, to = form["MessageSid"], form["From"], form["To"]
    except KeyError as exc:
        raise ValueError(f"incoming message without {exc.args[0]}") from exc
    return InboundSms(
        provider=PROVIDER,
        provider_message_id=sid,
        from_number=sender,
        to=to,
        body=form.get("Body", ""),
        raw=dict(form),
    )


Params = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]


def _multi(params: Params | None) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    if params is None:
        return values
    items: Iterable[tuple[str, str | Sequence[str]]] = (
        params.items() if isinstance(params, Mapping) else params
    )
    for key, value in items:
        bucket = values.setdefault(key, [])
        bucket.extend([value] if isinstance(value, str) else value)
    return values


def compute_signature(auth_token: str, url: str, params: Params | None = None) -> str:
    """Twilio's signature of ``url`` and POST ``params``.

    Names are sorted; a repeated name contributes each distinct value once, sorted,
    as Twilio's own SDKs do.
    """
    payload = url
    for key, values in sorted(_multi(params).items()):
        for value in sorted(set(values)):
            payload += key + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> list[str]:
    """The URL as given, without its port, and with a port (the default one if none).

    Twilio's SDKs accept a signature over any of these, since proxies and load
    balancers add or drop ports between Twilio and the application.
    """
    parts = urlsplit(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    prefix = f"{userinfo}@" if userinfo else ""
    host = parts.hostname or hostport
    if hostport.startswith("["):  # IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return [url]
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url, urlunsplit(parts._replace(netloc=f"{prefix}{host}"))]
    if port is not None or default is not None:
        with_port = f"{prefix}{host}:{port if port is not None else default}"
        variants.append(urlunsplit(parts._replace(netloc=with_port)))
    return list(dict.fromkeys(variants))


def validate_signature(
    auth_token: str, url: str, params: Params | str | None, signature: str | None
) -> bool:
    """Whether ``signature`` (the ``X-Twilio-Signature`` header) is Twilio's for this request.

    Args:
        auth_token: the account's auth token.
        url: the full URL Twilio called, scheme, host, path and query, as configured.
        params: the POST form (mapping or pairs), or the raw body for JSON webhooks,
            checked against the ``bodySHA256`` query parameter.
        signature: the header value; a missing header is invalid.
    """
    if not signature:
        return False
    form: Params | None
    if isinstance(params, str):
        expected_hash = parse_qs(urlsplit(url).query).get("bodySHA256", [""])[0]
        actual_hash = hashlib.sha256(params.encode()).hexdigest()
        if not expected_hash or not hmac.compare_digest(
            expected_hash.encode(), actual_hash.encode()
        ):
            return False
        form = None
    else:
        form = params
    presented = signature.encode()  # bytes: compare_digest refuses non-ASCII str
    return any(
        hmac.compare_digest(compute_signature(auth_token, candidate, form).encode(), presented)
        for candidate in _port_variants(url)
    )
