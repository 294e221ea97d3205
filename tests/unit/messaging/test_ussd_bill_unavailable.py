"""Without a billing module the bill menu says so, in the chosen language."""

from __future__ import annotations

from afiya.channels.sms_ussd.menus import UssdMenuEngine, UssdRequest
from afiya.channels.sms_ussd.services import Balance, ServiceNotAvailable
from afiya.domain.messaging.formatting import PlainFormatter
from tests.unit.messaging.conftest import NOW, PHONE, FakeUssdServices


class NoBilling(FakeUssdServices):
    async def bill_balance(self, *, patient_id: str) -> Balance | None:
        raise ServiceNotAvailable()


async def _dial(services: FakeUssdServices, *inputs: str) -> str:
    engine = UssdMenuEngine(services, formatter=PlainFormatter())
    session = None
    text = ""
    for index in range(len(inputs) + 1):
        text = "*".join(inputs[:index])
        outcome = await engine.handle(
            UssdRequest("s", "*384#", PHONE, text), session=session, now=NOW
        )
        session = outcome.session
    return outcome.reply.render()


async def test_the_bill_screen_says_not_available_instead_of_nothing_to_pay() -> None:
    fr = await _dial(NoBilling(), "1", "3", "1234")
    assert fr == (
        "END Le montant de votre facture n'est pas encore disponible ici. "
        "Renseignez-vous à la caisse."
    )
    assert "rien à payer" not in fr
    en = await _dial(NoBilling(), "3", "3", "1234")
    assert en.startswith("END Your bill is not available here yet.")
    ar = await _dial(NoBilling(), "2", "3", "1234")
    assert ar.startswith("END مبلغ فاتورتك غير متوفر")


async def test_a_balance_is_still_shown_when_a_billing_module_answers() -> None:
    assert (await _dial(FakeUssdServices(), "1", "3", "1234")).startswith("END Montant")
