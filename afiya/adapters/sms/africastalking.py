"""Africa's Talking SMS: sending, delivery reports and inbound messages.

API (``POST {base}/version1/messaging``, form-encoded, header ``apiKey``,
``Accept: application/json``): fields ``username``, ``to``, ``message``, ``from``,
``bulkSMSMode``, ``enqueue``. The answer lists ``SMSMessageData.Recipients``, each with
a ``statusCode``: 100 Processed, 101 Sent, 102 Queued on success; 401 RiskHold,
402 InvalidSenderId, 403 InvalidPhoneNumber, 404 UnsupportedNumberType,
405 InsufficientBalance, 406 UserInBlacklist, 407 CouldNotRoute,
409 DoNotDisturbRejection, 500 InternalServerError, 501 GatewayError,
502 RejectedByGateway on failure.

Africa's Talking does not sign its callbacks; protect them with
:class:`~afiya.adapters.sms.callbacks.CallbackAuthenticator` (a secret in the callback
URL plus an IP allow-list) and a :class:`~afiya.domain.messaging.ports.ReplayGuard`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

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

LIVE_BASE_URL: Final = "https://api.africastalking.com"
SANDBOX_BASE_URL: Final = "https://api.sandbox.africastalking.com"
PROVIDER: Final = "africastalking"

# statusCode -> receipt status for accepted messages.
ACCEPTED_CODES: Final[dict[int, str]] = {100: "queued", 101: "sent", 102: "queued"}
# Failures that may pass later: credit topped up, route or operator back.
TEMPORARY_CODES: Final[frozenset[int]] = frozenset({405, 407, 500, 501, 502})
# Failures that will not: bad number or sender id, opted out, account held for risk.
PERMANENT_CODES: Final[frozenset[int]] = frozenset({401, 402, 403, 404, 406, 409})

DELIVERY_STATUSES: Final[dict[str, DeliveryStatus]] = {
    "Sent": DeliveryStatus.SENT,
    "Submitted": DeliveryStatus.SENT,
    "Buffered": DeliveryStatus.SENT,  # waiting at the operator for the phone to attach
    "Success": DeliveryStatus.DELIVERED,
    "Rejected": DeliveryStatus.REJECTED,
    "Failed": DeliveryStatus.FAILED,
    "AbsentSubscriber": DeliveryStatus.FAILED,
    "Expired": DeliveryStatus.EXPIRED,
}

_log = logging.getLogger("afiya.sms.africastalking")


class AfricasTalkingSms:
    """:class:`~afiya.domain.messaging.ports.SmsGateway` over Africa's Talking."""

    name = PROVIDER

    def __init__(
        self,
        *,
        username: str,
        api_key: str,
        sender_id: str | None = None,
        base_url: str = LIVE_BASE_URL,
        enqueue: bool = False,
        timeout: float | None = None,
        max_connections: int = 32,
    ) -> None:
        """Configure the gateway.

        Args:
            username: the Africa's Talking application user name (``sandbox`` in tests).
            api_key: the application's API key.
            sender_id: default alphanumeric sender id or short code (``from``).
            base_url: API root; the sandbox or a local test double in tests.
            enqueue: ask Africa's Talking to queue bulk sends (``enqueue=1``).
            timeout: seconds per request.
            max_connections: keep-alive connections to the provider at most.
        """
        self._username = username
        self._api_key = api_key
        self._sender_id = sender_id
        self._enqueue = enqueue
        self._url = base_url.rstrip("/") + "/version1/messaging"
        self._client = FormClient(base_url, timeout=timeout, max_connections=max_connections)

    async def send(self, message: OutboundSms) -> SmsReceipt:
        """Send one SMS; map the provider's answer to a receipt or an error."""
        form = {
            "username": self._username,
            "to": message.to,
            "message": message.body,
            "bulkSMSMode": "1",
        }
        sender = message.sender_id or self._sender_id
        if sender:
            form["from"] = sender
        if self._enqueue:
            form["enqueue"] = "1"
        headers = {"apiKey": self._api_key, "Accept": "application/json"}
        response = await self._client.post_form(
            self._url, data=form, headers=headers, provider=PROVIDER
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
        if status in (401, 403):
            raise SmsPermanentError(f"{PROVIDER}: authentication refused ({status})", code="auth")
        if is_temporary_status(status):
            raise SmsTemporaryError(
                f"{PROVIDER}: HTTP {status}", retry_after=retry_after_seconds(response.headers)
            )
        if status >= 400:
            raise SmsPermanentError(
                f"{PROVIDER}: HTTP {status}: {redact_numbers(response.text)}", code=str(status)
            )
        try:
            data = response.json()
            recipients = data["SMSMessageData"]["Recipients"]
        except (ValueError, KeyError, TypeError) as exc:
            # Accepted or not, we cannot tell; retrying risks a duplicate, not a loss.
            raise SmsTemporaryError(f"{PROVIDER}: unreadable answer (HTTP {status})") from exc
        if not recipients:
            summary = str(data["SMSMessageData"].get("Message", ""))
            raise SmsPermanentError(
                f"{PROVIDER}: no recipient accepted: {redact_numbers(summary)}", code="none"
            )
        return self._recipient_receipt(recipients[0])

    def _recipient_receipt(self, recipient: Mapping[str, Any]) -> SmsReceipt:
        try:
            code = int(recipient["statusCode"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SmsTemporaryError(f"{PROVIDER}: recipient without status code") from exc
        word = str(recipient.get("status", ""))
        raw = {k: v for k, v in recipient.items() if k != "number"}
        if code in ACCEPTED_CODES:
            message_id = recipient.get("messageId")
            return SmsReceipt(
                provider=PROVIDER,
                provider_message_id=str(message_id) if message_id else None,
                status=ACCEPTED_CODES[code],
                cost=str(recipient["cost"]) if recipient.get("cost") else None,
                raw=raw,
            )
        if code in TEMPORARY_CODES:
            raise SmsTemporaryError(f"{PROVIDER}: {word or code} ({code})")
        raise SmsPermanentError(f"{PROVIDER}: {word or code} ({code})", code=str(code))

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    async def __aenter__(self) -> AfricasTalkingSms:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_delivery_report(form: Mapping[str, str]) -> DeliveryReport:
    """Read a delivery-report callback (``id``, ``status``, ``phoneNumber``,
    ``networkCode``, ``failureReason``, ``retryCount``).

    Raises:
        ValueError: a field is missing or the status is unknown; answer 400.
    """
    message_id, word = form.get("id"), form.get("status")
    if not message_id or not word:
        raise ValueError("delivery report without id or status")
    status = DELIVERY_STATUSES.get(word)
    if status is None:
        raise ValueError(f"unknown Africa's Talking delivery status {word!r}")
    return DeliveryReport(
        provider=PROVIDER,
        provider_message_id=message_id,
        status=status,
        provider_status=word,
        failure_reason=form.get("failureReason") or None,
        phone_number=form.get("phoneNumber") or None,
        network_code=form.get("networkCode") or None,
        retry_count=_optional_int(form.get("retryCount")),
        raw=dict(form),
    )


def parse_inbound_sms(form: Mapping[str, str]) -> InboundSms:
    """Read an incoming-message callback (``from``, ``to``, ``text``, ``date``, ``id``).

    Raises:
        ValueError: a required field is missing.
    """
    try:
        sender, to, message_id = form["from"], form["to"], form["id"]
    except KeyError as exc:
        raise ValueError(f"incoming message without {exc.args[0]}") from exc
    received_at = None
    if form.get("date"):
        try:
            received_at = datetime.fromisoformat(form["date"].replace("Z", "+00:00"))
        except ValueError:
            received_at = None
        if received_at is not None and received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=UTC)  # the API speaks UTC
    return InboundSms(
        provider=PROVIDER,
        provider_message_id=message_id,
        from_number=sender,
        to=to,
        body=form.get("text", ""),
        received_at=received_at,
        raw=dict(form),
    )
