"""Delivery reports and inbound messages of Africa's Talking and Twilio, normalised."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from afiya.adapters.sms import africastalking, twilio
from afiya.domain.messaging.model import DeliveryStatus


class TestAfricasTalkingDeliveryReports:
    @pytest.mark.parametrize(
        ("word", "status"),
        [
            ("Success", DeliveryStatus.DELIVERED),
            ("Sent", DeliveryStatus.SENT),
            ("Submitted", DeliveryStatus.SENT),
            ("Buffered", DeliveryStatus.SENT),
            ("Rejected", DeliveryStatus.REJECTED),
            ("Failed", DeliveryStatus.FAILED),
            ("AbsentSubscriber", DeliveryStatus.FAILED),
            ("Expired", DeliveryStatus.EXPIRED),
        ],
    )
    def test_statuses_are_normalised(self, word: str, status: DeliveryStatus) -> None:
        report = africastalking.parse_delivery_report({"id": "ATXid_1", "status": word})
        assert report.status is status
        assert report.provider_status == word

    def test_failure_details_are_kept(self) -> None:
        report = africastalking.parse_delivery_report(
            {
                "id": "ATXid_9",
                "status": "Failed",
                "phoneNumber": "+22236123456",
                "networkCode": "60902",
                "failureReason": "UserInBlacklist",
                "retryCount": "2",
            }
        )
        assert report.provider == "africastalking"
        assert report.provider_message_id == "ATXid_9"
        assert report.failure_reason == "UserInBlacklist"
        assert (report.network_code, report.retry_count) == ("60902", 2)
        assert report.status.is_final

    def test_replay_key_distinguishes_successive_statuses(self) -> None:
        sent = africastalking.parse_delivery_report({"id": "X", "status": "Sent"})
        done = africastalking.parse_delivery_report({"id": "X", "status": "Success"})
        assert sent.replay_key != done.replay_key
        assert sent.replay_key == "dlr:africastalking:X:Sent"

    @pytest.mark.parametrize(
        "form", [{"status": "Success"}, {"id": "X"}, {"id": "X", "status": "Wat"}]
    )
    def test_incomplete_or_unknown_reports_are_refused(self, form: dict[str, str]) -> None:
        with pytest.raises(ValueError):
            africastalking.parse_delivery_report(form)


class TestAfricasTalkingInbound:
    def test_incoming_message_is_read(self) -> None:
        sms = africastalking.parse_inbound_sms(
            {
                "from": "+22236123456",
                "to": "21525",
                "text": "OUI",
                "date": "2025-03-11 09:15:02",
                "id": "abc-123",
                "linkId": "L1",
                "networkCode": "60902",
            }
        )
        assert (sms.from_number, sms.to, sms.body) == ("+22236123456", "21525", "OUI")
        assert sms.received_at == datetime(2025, 3, 11, 9, 15, 2, tzinfo=UTC)
        assert sms.replay_key == "inbound:africastalking:abc-123"

    def test_missing_sender_is_refused(self) -> None:
        with pytest.raises(ValueError, match="from"):
            africastalking.parse_inbound_sms({"to": "21525", "id": "1"})


class TestTwilioStatusCallbacks:
    @pytest.mark.parametrize(
        ("word", "status"),
        [
            ("queued", DeliveryStatus.QUEUED),
            ("accepted", DeliveryStatus.QUEUED),
            ("sending", DeliveryStatus.SENT),
            ("sent", DeliveryStatus.SENT),
            ("delivered", DeliveryStatus.DELIVERED),
            ("read", DeliveryStatus.DELIVERED),
            ("undelivered", DeliveryStatus.FAILED),
            ("failed", DeliveryStatus.FAILED),
            ("canceled", DeliveryStatus.REJECTED),
        ],
    )
    def test_statuses_are_normalised(self, word: str, status: DeliveryStatus) -> None:
        form = {"MessageSid": "SM1", "MessageStatus": word, "AccountSid": "AC1"}
        assert twilio.parse_status_callback(form).status is status

    def test_error_code_becomes_the_failure_reason(self) -> None:
        report = twilio.parse_status_callback(
            {
                "MessageSid": "SM2",
                "MessageStatus": "undelivered",
                "ErrorCode": "30003",
                "To": "+22376123456",
                "AccountSid": "AC1",
            }
        )
        assert report.failure_reason == "30003"
        assert report.phone_number == "+22376123456"

    def test_legacy_sms_fields_are_understood(self) -> None:
        report = twilio.parse_status_callback({"SmsSid": "SM3", "SmsStatus": "sent"})
        assert (report.provider_message_id, report.status) == ("SM3", DeliveryStatus.SENT)

    def test_callback_for_another_account_is_refused(self) -> None:
        form = {"MessageSid": "SM1", "MessageStatus": "sent", "AccountSid": "AC-other"}
        with pytest.raises(ValueError, match="another"):
            twilio.parse_status_callback(form, expected_account_sid="AC-mine")

    @pytest.mark.parametrize("word", ["received", "receiving", ""])
    def test_inbound_or_empty_statuses_are_not_delivery_reports(self, word: str) -> None:
        with pytest.raises(ValueError):
            twilio.parse_status_callback({"MessageSid": "SM1", "MessageStatus": word})

    def test_incoming_message_is_read(self) -> None:
        sms = twilio.parse_inbound_sms(
            {"MessageSid": "SM9", "From": "+22790123456", "To": "+15005550006", "Body": "STOP"}
        )
        assert (sms.provider, sms.from_number, sms.body) == ("twilio", "+22790123456", "STOP")
