"""The USSD menu driven over HTTP exactly as Africa's Talking drives it, on the real
database: identification, appointment actions through the agenda, lockout, callbacks."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import func, select

from afiya.adapters.db.models import AuditEventRow
from afiya.adapters.db.models.messaging import UssdLockoutRow, UssdPinRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from tests.api.messaging.helpers import PHONE, UssdPhone, book_for_patient, set_pin


async def _appointment(client, headers, appointment_id: str) -> dict:
    response = await client.get(f"/api/v1/appointments/{appointment_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestScriptedSession:
    async def test_a_patient_confirms_the_appointment_end_to_end(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        await set_pin(client, desk, ids["patient"], "4321")
        phone = UssdPhone(client)

        first = await phone.dial()
        assert first.startswith("CON Afiya") and "1 Français" in first
        menu = await phone.press("1")
        assert menu.startswith("CON Afiya\n1 Mon prochain RDV")
        ask = await phone.press("1")
        assert ask.startswith("CON Entrez votre code PIN")
        shown = await phone.press("4321")
        assert shown.startswith("CON RDV le ")
        assert "10:00" in shown  # Nouakchott is UTC+0
        assert "1 Confirmer" in shown
        done = await phone.press("1")
        assert done.startswith("END Merci. Votre RDV du ")
        assert phone.inputs == ["1", "1", "4321", "1"]  # the text the gateway sent last

        assert (await _appointment(client, desk, ids["appointment"]))["status"] == "confirmed"
        async with container.uow(SYSTEM_CONTEXT) as uow:
            actions = set(
                (
                    await uow.session.execute(
                        select(AuditEventRow.action).where(
                            AuditEventRow.patient_id == UUID(ids["patient"])
                        )
                    )
                ).scalars()
            )
        assert {"patient.ussd_identify", "appointment.read", "appointment.confirm"} <= actions

    async def test_the_pin_is_stored_hashed_never_in_clear(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        await set_pin(client, desk, ids["patient"], "4321")
        async with container.uow(SYSTEM_CONTEXT) as uow:
            row = await uow.session.get(UssdPinRow, UUID(ids["patient"]))
        assert row is not None
        assert row.pin_hash.startswith("$argon2id$") and "4321" not in row.pin_hash

    async def test_date_of_birth_identifies_and_cancel_goes_through_the_agenda(
        self, client, auth, container
    ):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk, birth_date="1981-03-14")
        phone = UssdPhone(client)
        await phone.dial()
        shown = await phone.press("1", "1", "14031981")
        assert shown.startswith("CON RDV le ")
        assert (await phone.press("2")).startswith("CON Annuler le RDV")
        assert (await phone.press("1")).startswith("END Votre RDV du ")
        assert (await _appointment(client, desk, ids["appointment"]))["status"] == "cancelled"

    async def test_reschedule_offers_free_slots_and_moves_the_appointment(
        self, client, auth, container
    ):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        await set_pin(client, desk, ids["patient"], "4321")
        phone = UssdPhone(client)
        await phone.dial()
        await phone.press("3", "1", "4321")  # English
        options = await phone.press("3")
        assert options.startswith("CON Choose a new date:\n1 ")
        moved = await phone.press("1")
        assert moved.startswith("END New appointment: ")
        old = await _appointment(client, desk, ids["appointment"])
        assert old["status"] == "rescheduled"
        listed = await client.get(
            "/api/v1/appointments/", headers=desk, params={"patient_id": ids["patient"]}
        )
        new = [a for a in listed.json()["items"] if a["id"] != ids["appointment"]]
        assert len(new) == 1 and new[0]["status"] == "confirmed"
        assert new[0]["starts_at"] > old["starts_at"]

    async def test_results_and_bill_answer_honestly(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        await set_pin(client, desk, ids["patient"], "4321")
        phone = UssdPhone(client)
        await phone.dial()
        assert await phone.press("1", "2", "4321") == "END Aucun nouveau résultat pour le moment."
        await phone.dial()
        bill = await phone.press("2", "3", "4321")
        assert bill.startswith("END ") and "غير متوفر" in bill  # not "nothing to pay"

    async def test_a_callback_request_reaches_the_staff_of_the_facility(
        self, client, auth, container
    ):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        phone = UssdPhone(client)
        await phone.dial()
        assert (await phone.press("1", "4")).startswith("END Merci. Un agent va vous rappeler")

        listed = await client.get("/api/v1/messaging/callbacks", headers=desk)
        assert listed.status_code == 200, listed.text
        [callback] = listed.json()
        assert callback["phone_number"] == PHONE and callback["status"] == "open"
        assert callback["patient_id"] is None  # asked before identifying
        outsider = await auth("demo.receptionist.b")
        assert (await client.get("/api/v1/messaging/callbacks", headers=outsider)).json() == []
        refused = await client.post(
            f"/api/v1/messaging/callbacks/{callback['id']}/done", headers=outsider
        )
        assert refused.status_code == 403
        closed = await client.post(
            f"/api/v1/messaging/callbacks/{callback['id']}/done", headers=desk, json={"note": "ok"}
        )
        assert closed.status_code == 200 and closed.json()["status"] == "done"
        feed = await client.get("/api/v1/notifications/feed", headers=desk)
        assert feed.status_code == 200, feed.text
        assert [n["kind"] for n in feed.json()["items"]] == ["callback_requested"]
        assert ids["facility"]


class TestLockout:
    async def test_three_wrong_pins_lock_the_phone_across_sessions_and_processes(
        self, client, auth, container
    ):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        await set_pin(client, desk, ids["patient"], "4321")
        phone = UssdPhone(client)
        await phone.dial()
        first = await phone.press("1", "1", "1111")
        assert first.startswith("CON Code incorrect. Essais restants: 2")
        assert (await phone.press("2222")).startswith("CON Code incorrect. Essais restants: 1")
        locked = await phone.press("3333")
        assert locked == "END Trop d'essais. Réessayez dans 30 min."

        async with container.uow(SYSTEM_CONTEXT) as uow:
            rows = (await uow.session.execute(select(UssdLockoutRow))).scalars().all()
        assert len(rows) == 1 and len(rows[0].failures) == 3
        assert PHONE.encode() not in rows[0].phone_bidx

        # A new session, served by a "new process" (fresh in-memory session store and
        # channel): the right PIN is not even asked for.
        container.extras.pop("ussd", None)
        await phone.dial()
        assert (await phone.press("1", "1")).startswith("END Trop d'essais.")
        await phone.dial()
        assert (await phone.press("1", "4")).startswith("END Merci")  # callbacks stay open

        container.clock.current += timedelta(minutes=31)
        await phone.dial()
        assert (await phone.press("1", "1", "4321")).startswith("CON RDV le ")
        async with container.uow(SYSTEM_CONTEXT) as uow:
            remaining = await uow.session.scalar(select(func.count()).select_from(UssdLockoutRow))
        assert remaining == 0  # a success clears the count

    async def test_another_phone_is_not_locked(self, client, auth, container):
        desk = await auth("demo.receptionist")
        await book_for_patient(client, container, desk)
        phone = UssdPhone(client)
        await phone.dial()
        await phone.press("1", "1", "1111", "2222", "3333")
        other = UssdPhone(client, phone="+22236999999")
        await other.dial()
        assert (await other.press("1", "1")).startswith("CON Entrez votre code PIN")


class TestGatewayAuthentication:
    async def test_a_callback_without_or_with_a_wrong_secret_is_refused(self, client):
        for key in (None, "wrong-secret"):
            response = await client.post(
                "/ussd/africastalking",
                params={"key": key} if key else {},
                data={"sessionId": "s", "serviceCode": "*1#", "phoneNumber": PHONE, "text": ""},
            )
            assert response.status_code == 403
            assert response.json()["code"] == "callback_refused"

    async def test_a_malformed_form_is_a_422(self, client):
        response = await client.post(
            "/ussd/africastalking",
            params={"key": UssdPhone(client).key},
            data={"sessionId": "s", "text": ""},
        )
        assert response.status_code == 422

    async def test_unconfigured_callbacks_answer_503(self, client, container):
        from afiya.adapters.sms.callbacks import CallbackAuthenticator

        assert CallbackAuthenticator.configured(shared_secret="", allowed_networks=()) is None
        container.extras["at_guard"] = None
        response = await client.post(
            "/ussd/africastalking",
            data={"sessionId": "s", "serviceCode": "*1#", "phoneNumber": PHONE, "text": ""},
        )
        assert response.status_code == 503
        assert response.json()["code"] == "callbacks_not_configured"

    async def test_the_ip_allow_list_is_enforced(self, client, container):
        from afiya.adapters.sms.callbacks import CallbackAuthenticator

        container.extras["at_guard"] = CallbackAuthenticator(
            shared_secret=None, allowed_networks=["196.201.214.0/24"]
        )
        data = {"sessionId": "s", "serviceCode": "*1#", "phoneNumber": PHONE, "text": ""}
        refused = await client.post("/ussd/africastalking", data=data)
        assert refused.status_code == 403  # the test client calls from 127.0.0.1
        allowed = await client.post(
            "/ussd/africastalking", data=data, headers={"X-Forwarded-For": "196.201.214.20"}
        )
        assert allowed.status_code == 200 and allowed.text.startswith("CON ")


class TestPinRoute:
    async def test_pin_rules_scope_and_permission(self, client, auth, container):
        desk = await auth("demo.receptionist")
        ids = await book_for_patient(client, container, desk)
        url = f"/api/v1/patients/{ids['patient']}/ussd-pin"
        assert (await client.post(url, headers=desk, json={"pin": "12"})).status_code == 422
        assert (await client.post(url, headers=desk, json={"pin": "12ab"})).status_code == 422
        outsider = await auth("demo.receptionist.b")
        assert (await client.post(url, headers=outsider, json={"pin": "1234"})).status_code == 403
        cashier = await auth("demo.cashier")
        assert (await client.post(url, headers=cashier, json={"pin": "1234"})).status_code == 403
        missing = "/api/v1/patients/0190a0a0-0000-7000-8000-000000000000/ussd-pin"
        assert (await client.post(missing, headers=desk, json={"pin": "1234"})).status_code == 404
