"""AfricasTalkingSms against the gateway double over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from afiya.adapters.sms.africastalking import AfricasTalkingSms
from afiya.domain.messaging.ports import (
    OutboundSms,
    SmsPermanentError,
    SmsTemporaryError,
)
from tests.integration.sms.conftest import AT_API_KEY, AT_USERNAME, GatewayDouble

REMINDER = OutboundSms(
    to="+22236123456",
    body="Aminata, rappel: RDV le 12/03/2025 à 09h30, CS Teyarett.",
    idempotency_key="reminder:a1:sms:120m:20250312T0930Z",
)


@pytest.fixture
async def gateway(double: GatewayDouble) -> AsyncIterator[AfricasTalkingSms]:
    async with AfricasTalkingSms(
        username=AT_USERNAME, api_key=AT_API_KEY, base_url=double.base_url, timeout=2
    ) as sms:
        yield sms


class TestSending:
    async def test_accepted_message_returns_the_provider_id_and_cost(
        self, gateway: AfricasTalkingSms, double: GatewayDouble
    ) -> None:
        receipt = await gateway.send(REMINDER)

        assert receipt.provider == "africastalking"
        assert receipt.status == "sent"
        assert receipt.provider_message_id is not None
        assert receipt.provider_message_id.startswith("ATXid_")
        assert receipt.cost == "MRU 2.0000"
        assert "number" not in receipt.raw  # no phone number in stored receipts

    async def test_request_follows_the_documented_form_and_headers(
        self, gateway: AfricasTalkingSms, double: GatewayDouble
    ) -> None:
        await gateway.send(REMINDER)

        [logged] = double.messages()
        assert logged["path"] == "/version1/messaging"
        assert logged["headers"]["apikey"] == AT_API_KEY
        assert logged["headers"]["accept"] == "application/json"
        assert logged["headers"]["content-type"] == "application/x-www-form-urlencoded"
        assert logged["form"] == {
            "username": AT_USERNAME,
            "to": REMINDER.to,
            "message": REMINDER.body,
            "bulkSMSMode": "1",
        }

    async def test_sender_id_is_sent_as_from(
        self, gateway: AfricasTalkingSms, double: GatewayDouble
    ) -> None:
        message = OutboundSms(REMINDER.to, REMINDER.body, "k-sender", sender_id="AFIYA")

        await gateway.send(message)

        assert double.messages()[0]["form"]["from"] == "AFIYA"


class TestRefusals:
    async def test_invalid_number_is_permanent(self, gateway: AfricasTalkingSms) -> None:
        bad = OutboundSms(to="36123456", body="x", idempotency_key="k1")

        with pytest.raises(SmsPermanentError) as caught:
            await gateway.send(bad)

        assert caught.value.code == "403"
        assert "36123456" not in str(caught.value)

    async def test_unknown_sender_id_is_permanent(self, gateway: AfricasTalkingSms) -> None:
        message = OutboundSms(REMINDER.to, REMINDER.body, "k2", sender_id="NOT-MINE")

        with pytest.raises(SmsPermanentError) as caught:
            await gateway.send(message)

        assert caught.value.code == "402"

    async def test_wrong_api_key_is_permanent(self, double: GatewayDouble) -> None:
        async with AfricasTalkingSms(
            username=AT_USERNAME, api_key="stolen-or-stale", base_url=double.base_url
        ) as sms:
            with pytest.raises(SmsPermanentError) as caught:
                await sms.send(REMINDER)

        assert caught.value.code == "auth"

    async def test_insufficient_balance_is_temporary(
        self, gateway: AfricasTalkingSms, double: GatewayDouble
    ) -> None:
        double.fail(vendor="africastalking", kind="recipient", statusCode=405)

        with pytest.raises(SmsTemporaryError, match="InsufficientBalance"):
            await gateway.send(REMINDER)

    async def test_blacklisted_recipient_is_permanent(
        self, gateway: AfricasTalkingSms, double: GatewayDouble
    ) -> None:
        double.fail(vendor="africastalking", kind="recipient", statusCode=406)

        with pytest.raises(SmsPermanentError) as caught:
            await gateway.send(REMINDER)

        assert caught.value.code == "406"


class TestOutages:
    async def test_server_error_is_temporary_then_next_send_succeeds(
        self, gateway: AfricasTalkingSms, double: GatewayDouble
    ) -> None:
        double.fail(vendor="africastalking", kind="http", status=503)

        with pytest.raises(SmsTemporaryError, match="503"):
            await gateway.send(REMINDER)
        receipt = await gateway.send(REMINDER)

        assert receipt.status == "sent"

    async def test_throttling_is_temporary_with_the_requested_delay(
        self, gateway: AfricasTalkingSms, double: GatewayDouble
    ) -> None:
        double.fail(vendor="africastalking", kind="http", status=429, retry_after=30)

        with pytest.raises(SmsTemporaryError) as caught:
            await gateway.send(REMINDER)

        assert caught.value.retry_after == 30

    async def test_unreadable_success_answer_is_temporary(
        self, gateway: AfricasTalkingSms, double: GatewayDouble
    ) -> None:
        double.fail(vendor="africastalking", kind="garbage")

        with pytest.raises(SmsTemporaryError, match="unreadable"):
            await gateway.send(REMINDER)

    async def test_timeout_is_temporary(self, double: GatewayDouble) -> None:
        double.fail(vendor="africastalking", kind="delay", seconds=0.8)
        async with AfricasTalkingSms(
            username=AT_USERNAME, api_key=AT_API_KEY, base_url=double.base_url, timeout=0.2
        ) as sms:
            with pytest.raises(SmsTemporaryError, match="timed out"):
                await sms.send(REMINDER)
        # The double still answers (late) and logs it: wait, so no later test sees it.
        deadline = time.monotonic() + 5
        while not double.messages() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert double.messages()[0]["status"] == 201  # it did take the message

    async def test_unreachable_gateway_is_temporary(self) -> None:
        # Port 9 (discard) on loopback is closed on test machines: connection refused.
        async with AfricasTalkingSms(
            username=AT_USERNAME, api_key=AT_API_KEY, base_url="http://127.0.0.1:9"
        ) as sms:
            with pytest.raises(SmsTemporaryError, match="network error"):
                await sms.send(REMINDER)
