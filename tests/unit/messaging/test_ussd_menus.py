"""USSD menu engine: navigation, identification and lockout, appointment actions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from afiya.channels.sms_ussd.menus import UssdMenuEngine, UssdReply, UssdRequest
from afiya.channels.sms_ussd.session import Frame, UssdSession
from afiya.domain.messaging.formatting import PlainFormatter
from afiya.domain.shared.errors import RateLimited
from tests.unit.messaging.conftest import NOW, PHONE, FakeUssdServices, Phone


class TestProtocol:
    def test_reply_prefixes(self) -> None:
        assert UssdReply("Menu", end=False).render() == "CON Menu"
        assert UssdReply("Bye", end=True).render() == "END Bye"

    def test_request_reads_africastalking_fields(self) -> None:
        request = UssdRequest.from_africastalking(
            {"sessionId": "s", "serviceCode": "*384#", "phoneNumber": PHONE, "text": "1*2 "}
        )
        assert request.inputs == ["1", "2"]
        assert request.network_code is None
        first = UssdRequest.from_africastalking(
            {"sessionId": "s", "serviceCode": "x", "phoneNumber": PHONE, "text": ""}
        )
        assert first.inputs == []

    def test_missing_field_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="phoneNumber"):
            UssdRequest.from_africastalking({"sessionId": "s", "serviceCode": "x", "text": ""})

    def test_session_record_round_trips_and_rejects_garbage(self) -> None:
        session = UssdSession("s", consumed=3, language="ar", patient_id="p")
        assert UssdSession.from_dict(session.to_dict()) == session
        with pytest.raises(ValueError):
            UssdSession.from_dict({"session_id": "s"})


class TestNavigation:
    async def test_first_screen_asks_the_language(self, phone: Phone) -> None:
        first = phone.replies[-1]
        assert not first.end
        assert first.text.splitlines()[1:] == ["1 Français", "2 العربية", "3 English"]

    async def test_language_choice_opens_the_main_menu(self, phone: Phone) -> None:
        assert (await phone.press("1")).text.startswith("Afiya\n1 Mon prochain RDV")
        await phone.dial()
        assert "2 نتائجي" in (await phone.press("2")).text
        await phone.dial()
        assert "3 My bill" in (await phone.press("3")).text

    async def test_invalid_choice_repeats_the_menu_with_a_hint(self, phone: Phone) -> None:
        menu = await phone.press("1")
        again = await phone.press("7")
        assert again.text == "Choix invalide.\n" + menu.text
        assert (await phone.press("x")).text == again.text

    async def test_invalid_language_repeats_the_language_menu(self, phone: Phone) -> None:
        reply = await phone.press("5")
        assert reply.text.startswith("1-3 ?\n") and "3 English" in reply.text

    async def test_back_returns_one_screen_and_home_to_the_main_menu(self, phone: Phone) -> None:
        main = await phone.press("1")
        await phone.press("1", "1234")  # appointment screen, identified
        assert (await phone.press("2")).text.startswith("Annuler le RDV")
        assert (await phone.press("0")).text.startswith("RDV le 12/03/2025")
        await phone.press("2")
        assert (await phone.press("00")).text == main.text
        assert (await phone.press("0")).text.endswith("3 English")  # back to languages
        assert (await phone.press("0")).text.startswith("1-3 ?")  # nowhere further back

    async def test_each_input_is_acted_on_once_even_if_the_gateway_repeats(
        self, phone: Phone, services: FakeUssdServices
    ) -> None:
        await phone.press("1", "1", "1234")
        repeated = await phone.request()  # same text sent again (network retry)
        assert repeated.text.startswith("RDV le")
        assert len(services.called("identify_patient")) == 1
        assert len(services.called("next_appointment")) == 1

    async def test_lost_session_state_replays_the_history(
        self, phone: Phone, services: FakeUssdServices
    ) -> None:
        await phone.press("3", "1", "1234")
        phone.stored = None  # the cache expired between two requests
        reply = await phone.press("3")
        assert reply.text.startswith("Choose a new date:")

    async def test_non_cumulative_gateway_sends_only_the_last_input(
        self, services: FakeUssdServices
    ) -> None:
        engine = UssdMenuEngine(services, formatter=PlainFormatter(), cumulative_text=False)
        session = None
        for text in ["", "1", "4"]:
            request = UssdRequest("s", "*384#", PHONE, text)
            outcome = await engine.handle(request, session=session, now=NOW)
            session = outcome.session
        assert outcome.reply.end
        assert services.called("request_callback")


class TestIdentification:
    async def test_personal_screens_ask_for_pin_first(self, phone: Phone) -> None:
        reply = await phone.press("1", "1")
        assert reply.text == (
            "Entrez votre code PIN ou votre date de naissance (JJMMAAAA):\n0 Retour"
        )

    async def test_wrong_pin_says_how_many_attempts_remain(self, phone: Phone) -> None:
        reply = await phone.press("1", "2", "9999")
        assert reply.text.startswith("Code incorrect. Essais restants: 2\n")
        assert len(phone.failures) == 1

    async def test_third_wrong_pin_ends_the_session_and_locks_the_number(
        self, phone: Phone, services: FakeUssdServices
    ) -> None:
        reply = await phone.press("1", "1", "9999", "8888", "7777")
        assert reply.end
        assert reply.text == "Trop d'essais. Réessayez dans 30 min."
        await phone.dial()
        phone.now += timedelta(minutes=10)
        locked = await phone.press("1", "1")  # a new session does not reset the count
        assert locked.end and "20 min" in locked.text
        assert len(services.called("identify_patient")) == 3

    async def test_lock_expires(self, phone: Phone) -> None:
        await phone.press("1", "1", "9999", "8888", "7777")
        await phone.dial()
        phone.now += timedelta(minutes=31)
        assert (await phone.press("1", "1", "1234")).text.startswith("RDV le")
        assert phone.failures == ()  # success forgets the failures

    async def test_malformed_secret_is_not_a_failed_attempt(
        self, phone: Phone, services: FakeUssdServices
    ) -> None:
        for wrong in ["12", "abcd", "31021990", "1234567"]:
            reply = (
                await phone.press("1", "1", wrong) if not phone.inputs else await phone.press(wrong)
            )
            assert reply.text.startswith("Format invalide.\n")
        assert phone.failures == ()
        assert services.called("identify_patient") == []

    async def test_date_of_birth_identifies_another_patient_on_a_shared_phone(
        self, phone: Phone
    ) -> None:
        reply = await phone.press("1", "1", "01021990")
        assert reply.end and reply.text == "Vous n'avez aucun RDV à venir."

    async def test_unknown_phone_is_told_the_code_is_wrong_not_that_it_is_unknown(
        self, engine: UssdMenuEngine
    ) -> None:
        stranger = Phone(engine, number="+22299999999")
        await stranger.dial()
        reply = await stranger.press("1", "1", "1234")
        assert reply.text.startswith("Code incorrect.")

    async def test_identification_lasts_for_the_session(
        self, phone: Phone, services: FakeUssdServices
    ) -> None:
        await phone.press("3", "1", "1234", "00")
        reply = await phone.press("2")
        assert reply.end and reply.text.startswith("Your results are ready")
        assert len(services.called("identify_patient")) == 1

    async def test_callback_needs_no_identification(
        self, phone: Phone, services: FakeUssdServices
    ) -> None:
        reply = await phone.press("2", "4")
        assert reply.end and reply.text == "شكرا. سيتصل بك أحد موظفينا قريبا."
        assert services.called("request_callback") == [
            {"phone_number": PHONE, "patient_id": None, "language": "ar"}
        ]


class TestAppointment:
    async def test_screen_shows_date_time_facility_and_choices(self, phone: Phone) -> None:
        reply = await phone.press("1", "1", "1234")
        assert reply.text == (
            "RDV le 12/03/2025 à 09h30\nCS Teyarett\n1 Confirmer\n2 Annuler\n"
            "3 Changer de date\n0 Retour"
        )

    async def test_confirm(self, phone: Phone, services: FakeUssdServices) -> None:
        reply = await phone.press("3", "1", "1234", "1")
        assert reply.end
        assert reply.text == "Thank you. Your appointment on 12/03/2025 at 09:30 is confirmed."
        assert services.called("confirm_appointment") == [
            {"patient_id": "pat-1", "appointment_id": "appt-pat-1"}
        ]

    async def test_cancel_asks_for_confirmation(
        self, phone: Phone, services: FakeUssdServices
    ) -> None:
        question = await phone.press("1", "1", "1234", "2")
        assert question.text == "Annuler le RDV du 12/03/2025 à 09h30 ?\n1 Oui\n2 Non"
        assert services.called("cancel_appointment") == []
        done = await phone.press("1")
        assert done.end and done.text == "Votre RDV du 12/03/2025 à 09h30 est annulé."
        assert len(services.called("cancel_appointment")) == 1

    async def test_reschedule_lists_slots_and_books_the_chosen_one(
        self, phone: Phone, services: FakeUssdServices
    ) -> None:
        options = await phone.press("1", "1", "1234", "3")
        assert options.text.splitlines() == [
            "Choisissez une nouvelle date:",
            "1 13/03/2025 08h00",
            "2 14/03/2025 08h30",
            "3 15/03/2025 09h00",
            "4 16/03/2025 09h30",
            "0 Retour",
        ]
        invalid = await phone.press("5")
        assert invalid.text.startswith("Choix invalide.\nChoisissez")
        done = await phone.press("2")
        assert done.end and done.text == "Nouveau RDV: 14/03/2025 à 08h30, CS Teyarett."
        assert services.called("reschedule_appointment") == [
            {"appointment_id": "appt-pat-1", "slot_id": "slot-1"}
        ]

    async def test_refused_operation_ends_politely(self, phone: Phone) -> None:
        reply = await phone.press("1", "1", "5555", "1")
        assert reply.end and reply.text == "Opération impossible. Contactez le centre de santé."

    async def test_no_slot_to_offer(self, phone: Phone) -> None:
        reply = await phone.press("1", "1", "5555", "3")
        assert reply.end and reply.text.startswith("Aucune autre date disponible.")


class TestResultsAndBill:
    @pytest.mark.parametrize(
        ("secret", "expected"),
        [("1234", "Vos résultats sont disponibles."), ("01021990", "Aucun nouveau résultat")],
    )
    async def test_results_say_only_whether_they_are_ready(
        self, phone: Phone, secret: str, expected: str
    ) -> None:
        reply = await phone.press("1", "2", secret)
        assert reply.end and reply.text.startswith(expected)

    async def test_bill_balance(self, phone: Phone) -> None:
        assert (await phone.press("1", "3", "1234")).text == "Montant à payer: 1 250,50 MRU"
        await phone.dial()
        assert (await phone.press("3", "3", "01021990")).text == "You have nothing to pay."


class TestRobustness:
    async def test_record_with_an_unknown_screen_falls_back_to_the_main_menu(
        self, engine: UssdMenuEngine
    ) -> None:
        stale = UssdSession(
            "s",
            consumed=2,
            language="en",
            stack=(Frame("language"), Frame("main"), Frame("retired-screen")),
        )
        request = UssdRequest("s", "*384#", PHONE, "3*9")
        outcome = await engine.handle(request, session=stale, now=NOW)
        assert outcome.reply.text.startswith("Afiya\n1 My next appointment")
        outcome = await engine.handle(
            UssdRequest("s", "*384#", PHONE, "3*9*7"), session=stale, now=NOW
        )
        assert outcome.reply.text.startswith("Afiya\n1 My next appointment")

    async def test_refused_identification_ends_politely(self, services: FakeUssdServices) -> None:
        async def refuse(*, phone_number: str, secret: str) -> str | None:
            raise RateLimited()

        services.identify_patient = refuse  # type: ignore[method-assign]
        phone = Phone(UssdMenuEngine(services, formatter=PlainFormatter()))
        await phone.dial()
        reply = await phone.press("3", "1", "1234")
        assert reply.end and reply.text.startswith("This could not be done.")
        assert phone.failures == ()

    async def test_session_of_another_id_is_not_reused(self, engine: UssdMenuEngine) -> None:
        other = UssdSession(
            "old",
            consumed=1,
            language="fr",
            patient_id="pat-1",
            stack=(Frame("language"), Frame("main")),
        )
        outcome = await engine.handle(
            UssdRequest("new", "*384#", PHONE, ""), session=other, now=NOW
        )
        assert outcome.reply.text.endswith("3 English")
        assert outcome.session.patient_id is None
