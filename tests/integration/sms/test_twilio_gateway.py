"""TwilioSms against the gateway double over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from afiya.adapters.sms.twilio import TwilioSms
from afiya.domain.messaging.ports import (
    OutboundSms,
    SmsPermanentError,
    SmsTemporaryError,
)
from tests.integration.sms.conftest import (
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    GatewayDouble,
)

MESSAGE = OutboundSms(
    to="+22346123456",
    body="Fatoumata, reminder: appointment on 12/03/2025 at 09:30, CSCom Sabalibougou.",
    idempotency_key="reminder:b2:sms:2880m:20250312T0930Z",
)
CALLBACK = "https://afiya.example.org/sms/twilio/status"


@pytest.fixture
async def gateway(double: GatewayDouble) -> AsyncIterator[TwilioSms]:
    async with TwilioSms(
        account_sid=TWILIO_SID,
        auth_token=TWILIO_TOKEN,
        from_number=TWILIO_NUMBER,
        status_callback=CALLBACK,
        base_url=double.base_url,
    ) as sms:
        yield sms


class TestSending:
    async def test_accepted_message_returns_its_sid(self, gateway: TwilioSms) -> None:
        receipt = await gateway.send(MESSAGE)

        assert receipt.provider == "twilio"
        assert receipt.status == "queued"
        assert receipt.provider_message_id is not None
        assert receipt.provider_message_id.startswith("SM")
        assert receipt.raw["num_segments"] == "1"
        assert "body" not in receipt.raw and "to" not in receipt.raw

    async def test_request_uses_basic_auth_and_documented_fields(
        self, gateway: TwilioSms, double: GatewayDouble
    ) -> None:
        await gateway.send(MESSAGE)

        [logged] = double.messages()
        assert logged["path"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
        credentials = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        assert logged["headers"]["authorization"] == f"Basic {credentials}"
        assert logged["form"] == {
            "To": MESSAGE.to,
            "From": TWILIO_NUMBER,
            "Body": MESSAGE.body,
            "StatusCallback": CALLBACK,
        }

    async def test_messaging_service_is_used_without_a_sender(self, double: GatewayDouble) -> None:
        async with TwilioSms(
            account_sid=TWILIO_SID,
            auth_token=TWILIO_TOKEN,
            messaging_service_sid="MG" + "1" * 32,
            base_url=double.base_url,
        ) as sms:
            receipt = await sms.send(MESSAGE)

        assert receipt.status == "queued"  # Twilio says "accepted" for services
        form = double.messages()[0]["form"]
        assert "From" not in form
        assert form["MessagingServiceSid"] == "MG" + "1" * 32

    def test_a_sender_or_a_service_is_required(self) -> None:
        with pytest.raises(ValueError, match="from_number or a messaging_service_sid"):
            TwilioSms(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN)


class TestRefusals:
    async def test_invalid_number_is_permanent_with_twilio_code(self, gateway: TwilioSms) -> None:
        with pytest.raises(SmsPermanentError) as caught:
            await gateway.send(OutboundSms(to="0046123456", body="x", idempotency_key="k"))

        assert caught.value.code == "21211"

    async def test_wrong_token_is_permanent(self, double: GatewayDouble) -> None:
        async with TwilioSms(
            account_sid=TWILIO_SID,
            auth_token="wrong",
            from_number=TWILIO_NUMBER,
            base_url=double.base_url,
        ) as sms:
            with pytest.raises(SmsPermanentError) as caught:
                await sms.send(MESSAGE)

        assert caught.value.code == "20003"

    async def test_unsubscribed_recipient_is_permanent(
        self, gateway: TwilioSms, double: GatewayDouble
    ) -> None:
        double.fail(vendor="twilio", kind="error", status=400, code=21610)

        with pytest.raises(SmsPermanentError) as caught:
            await gateway.send(MESSAGE)

        assert caught.value.code == "21610"


class TestOutages:
    async def test_throttling_is_temporary_with_retry_after(
        self, gateway: TwilioSms, double: GatewayDouble
    ) -> None:
        double.fail(vendor="twilio", kind="http", status=429, retry_after=12)

        with pytest.raises(SmsTemporaryError, match="20429") as caught:
            await gateway.send(MESSAGE)

        assert caught.value.retry_after == 12

    async def test_server_errors_are_temporary_until_they_stop(
        self, gateway: TwilioSms, double: GatewayDouble
    ) -> None:
        double.fail(vendor="twilio", kind="http", status=500, times=2)

        for _ in range(2):
            with pytest.raises(SmsTemporaryError):
                await gateway.send(MESSAGE)
        receipt = await gateway.send(MESSAGE)

        assert receipt.status == "queued"
        assert [m["status"] for m in double.messages()] == [500, 500, 201]

    async def test_queue_full_error_code_is_temporary(
        self, gateway: TwilioSms, double: GatewayDouble
    ) -> None:
        double.fail(vendor="twilio", kind="error", status=400, code=21611)

        with pytest.raises(SmsTemporaryError, match="21611"):
            await gateway.send(MESSAGE)
