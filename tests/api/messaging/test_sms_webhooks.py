"""Inbound SMS keywords and delivery reports over HTTP: authentication, replay safety,
effects on the agenda, consent and the reminder delivery log, and the reply job."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select

from afiya.adapters.db.models import JobRow
from afiya.adapters.db.models.agenda import ReminderDeliveryRow
from afiya.adapters.db.models.messaging import StaffFeedItemRow
from afiya.adapters.db.models.patients import PatientRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.adapters.sms.twilio import compute_signature
from afiya.domain.shared.ids import uuid7
from tests.api.messaging.helpers import (
    PHONE,
    SECRET,
    TWILIO_SID,
    TWILIO_TOKEN,
    book_for_patient,
)

AT_INBOUND = "/sms/inbound/africastalking"
AT_DELIVERY = "/sms/delivery/africastalking"


async def _at_inbound(client, text: str, message_id: str, key: str | None = SECRET):
    return await client.post(
        AT_INBOUND,
        params={"key": key} if key else {},
        data={
            "from": PHONE,
            "to": "21212",
            "text": text,
            "id": message_id,
            "date": "2025-03-10 09:00:00",
            "linkId": "abc",
        },
    )


async def _status(client, headers, appointment_id: str) -> str:
    response = await client.get(f"/api/v1/appointments/{appointment_id}", headers=headers)
    return str(response.json()["status"])


async def _jobs(container, name: str) -> list[JobRow]:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        return list(
            (await uow.session.execute(select(JobRow).where(JobRow.name == name))).scalars()
        )


class TestAfricasTalkingInbound:
    async def test_oui_confirms_once_and_a_replay_changes_nothing(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        response = await _at_inbound(client, "Oui je viendrai", "ATXid_1")
        assert response.status_code == 200, response.text
        assert await _status(client, desk, ids["appointment"]) == "confirmed"
        [reply] = await _jobs(container, "messaging.send_reply")
        assert reply.args["template"] == "appointment_confirmed"
        assert reply.args["appointment_id"] == ids["appointment"]
        assert PHONE not in str(reply.args)  # ids only, never the number

        again = await _at_inbound(client, "Oui je viendrai", "ATXid_1")
        assert again.status_code == 200
        assert len(await _jobs(container, "messaging.send_reply")) == 1

    async def test_arabic_no_cancels_and_answers_in_arabic(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk, language="fr")
        assert (await _at_inbound(client, "لا", "ATXid_2")).status_code == 200
        assert await _status(client, desk, ids["appointment"]) == "cancelled"
        [reply] = await _jobs(container, "messaging.send_reply")
        assert (reply.args["template"], reply.args["language"]) == ("appointment_cancelled", "ar")

    async def test_stop_withdraws_sms_consent(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk, sms_consent=True)
        assert (await _at_inbound(client, "STOP", "ATXid_3")).status_code == 200
        async with container.uow(SYSTEM_CONTEXT) as uow:
            row = await uow.session.get(PatientRow, UUID(ids["patient"]))
        assert row is not None and row.sms_consent is False
        assert (await _jobs(container, "messaging.send_reply"))[0].args[
            "template"
        ] == "opt_out_confirmation"

    async def test_rdv_reply_job_sends_the_appointment_through_the_gateway(
        self, client, auth, container
    ):
        desk = await auth("demo.receptionist")
        await book_for_patient(client, container, desk)
        assert (await _at_inbound(client, "rdv", "ATXid_4")).status_code == 200
        [job] = await _jobs(container, "messaging.send_reply")
        assert job.args["template"] == "appointment_details"
        await container.runner.execute(job.id)  # (or already run by the in-process queue)
        [job] = await _jobs(container, "messaging.send_reply")
        assert job.status == "done", job.last_error
        [sent] = list(container.sms.outbox)
        assert sent.to == PHONE
        assert "10:00" in sent.body and "موعد" in sent.body  # the patient's language: ar

    async def test_an_unknown_number_gets_no_answer(self, client, container):
        response = await client.post(
            AT_INBOUND,
            params={"key": SECRET},
            data={"from": "+22236000000", "to": "21212", "text": "RDV", "id": "ATXid_5"},
        )
        assert response.status_code == 200
        assert await _jobs(container, "messaging.send_reply") == []

    async def test_authentication_and_form_errors(self, client):
        assert (await _at_inbound(client, "OUI", "x", key=None)).status_code == 403
        assert (await _at_inbound(client, "OUI", "x", key="nope")).status_code == 403
        bad = await client.post(AT_INBOUND, params={"key": SECRET}, data={"text": "OUI"})
        assert bad.status_code == 422


def _signed(url: str, form: dict[str, str], token: str = TWILIO_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": compute_signature(token, url, form)}


class TestTwilioInbound:
    async def test_a_signed_message_is_processed_and_a_forged_one_refused(
        self, client, auth, container
    ):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        url = "http://testserver/sms/inbound/twilio"
        form = {
            "MessageSid": "SM" + "a" * 32,
            "AccountSid": TWILIO_SID,
            "From": PHONE,
            "To": "+15005550006",
            "Body": "OUI",
            "NumMedia": "0",
        }
        forged = await client.post(
            "/sms/inbound/twilio", data=form, headers=_signed(url, form, "other-token")
        )
        assert forged.status_code == 403
        tampered = await client.post(
            "/sms/inbound/twilio", data={**form, "Body": "NON"}, headers=_signed(url, form)
        )
        assert tampered.status_code == 403
        assert await _status(client, desk, ids["appointment"]) == "booked"

        signed = await client.post("/sms/inbound/twilio", data=form, headers=_signed(url, form))
        assert signed.status_code == 200, signed.text
        assert signed.text.endswith("<Response></Response>")
        assert await _status(client, desk, ids["appointment"]) == "confirmed"


async def _delivery_row(container, appointment_id: str, patient_id: str, message_id: str) -> None:
    now = container.clock.now()
    async with container.uow(SYSTEM_CONTEXT) as uow:
        uow.session.add(
            ReminderDeliveryRow(
                id=uuid7(),
                idempotency_key=f"rem:{appointment_id}:48h:sms",
                appointment_id=UUID(appointment_id),
                patient_id=UUID(patient_id),
                channel="sms",
                language="fr",
                status="sent",
                provider="africastalking",
                provider_message_id=message_id,
                created_at=now,
                updated_at=now,
            )
        )
        await uow.commit()


async def _delivery(container, message_id: str) -> ReminderDeliveryRow:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        row = (
            await uow.session.execute(
                select(ReminderDeliveryRow).where(
                    ReminderDeliveryRow.provider_message_id == message_id
                )
            )
        ).scalar_one()
        return row


async def _feed(container) -> list[StaffFeedItemRow]:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        return list((await uow.session.execute(select(StaffFeedItemRow))).scalars())


class TestDeliveryReports:
    async def test_a_failure_updates_the_log_once_and_notifies_the_facility(
        self, client, auth, container
    ):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        await _delivery_row(container, ids["appointment"], ids["patient"], "ATXid_d1")
        report = {
            "id": "ATXid_d1",
            "status": "AbsentSubscriber",
            "phoneNumber": PHONE,
            "networkCode": "60901",
            "failureReason": "AbsentSubscriber",
            "retryCount": "2",
        }
        for _ in range(2):  # the provider retries: processed once
            response = await client.post(AT_DELIVERY, params={"key": SECRET}, data=report)
            assert response.status_code == 200, response.text
        row = await _delivery(container, "ATXid_d1")
        assert (row.status, row.provider_status, row.error) == (
            "failed",
            "AbsentSubscriber",
            "AbsentSubscriber",
        )
        [item] = await _feed(container)
        assert item.kind == "reminder_failed" and str(item.patient_id) == ids["patient"]

        feed = await client.get("/api/v1/notifications/feed", headers=desk)
        assert [i["kind"] for i in feed.json()["items"]] == ["reminder_failed"]
        assert feed.json()["items"][0]["read"] is False
        outsider = await auth("demo.receptionist.b")
        assert (await client.get("/api/v1/notifications/feed", headers=outsider)).json()[
            "items"
        ] == []
        item_id = feed.json()["items"][0]["id"]
        marked = await client.post(f"/api/v1/notifications/feed/{item_id}/read", headers=desk)
        assert marked.status_code == 204
        unread = await client.get(
            "/api/v1/notifications/feed", headers=desk, params={"unread": "true"}
        )
        assert unread.json()["items"] == []
        denied = await client.post(f"/api/v1/notifications/feed/{item_id}/read", headers=outsider)
        assert denied.status_code == 403

    async def test_a_late_sent_never_overwrites_delivered(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        await _delivery_row(container, ids["appointment"], ids["patient"], "ATXid_d2")
        for status in ("Success", "Sent"):
            await client.post(
                AT_DELIVERY, params={"key": SECRET}, data={"id": "ATXid_d2", "status": status}
            )
        assert (await _delivery(container, "ATXid_d2")).status == "delivered"
        assert await _feed(container) == []

    async def test_twilio_status_callback_is_signed_and_for_our_account(
        self, client, auth, container
    ):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        sid = "SM" + "b" * 32
        await _delivery_row(container, ids["appointment"], ids["patient"], sid)
        url = "http://testserver/sms/delivery/twilio"
        other = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "9" * 32}
        wrong_account = await client.post(
            "/sms/delivery/twilio", data=other, headers=_signed(url, other)
        )
        assert wrong_account.status_code == 422
        form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
        form["AccountSid"] = TWILIO_SID
        unsigned = await client.post("/sms/delivery/twilio", data=form)
        assert unsigned.status_code == 403
        signed = await client.post("/sms/delivery/twilio", data=form, headers=_signed(url, form))
        assert signed.status_code == 200, signed.text
        row = await _delivery(container, sid)
        assert (row.status, row.error) == ("failed", "30003")
