"""A fake of the USSD services and a phone that dials the menu like Africa's Talking."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from afiya.channels.sms_ussd.menus import UssdMenuEngine, UssdReply, UssdRequest
from afiya.channels.sms_ussd.services import (
    AppointmentSummary,
    Balance,
    ServiceNotAvailable,
    SlotOption,
)
from afiya.channels.sms_ussd.session import UssdSession
from afiya.domain.messaging.formatting import PlainFormatter
from afiya.domain.shared.errors import Conflict

PHONE = "+22236123456"
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
LONG_FACILITY = "Centre Hospitalier National de Nouakchott, consultations externes, aile B"

# PIN or date of birth -> patient. pat-1 has everything, pat-2 nothing, pat-3 fails,
# pat-4's facility has no billing data.
SECRETS = {"1234": "pat-1", "01021990": "pat-2", "5555": "pat-3", "2468": "pat-4"}


@dataclass
class FakeUssdServices:
    """In-memory use cases; records every call."""

    facility: str = "CS Teyarett"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _record(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))

    def called(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for call, kwargs in self.calls if call == name]

    def _appointment(self, patient_id: str, starts_at: datetime) -> AppointmentSummary:
        return AppointmentSummary(
            f"appt-{patient_id}", starts_at, "Africa/Nouakchott", self.facility
        )

    async def identify_patient(self, *, phone_number: str, secret: str) -> str | None:
        self._record("identify_patient", phone_number=phone_number, secret=secret)
        return SECRETS.get(secret) if phone_number == PHONE else None

    async def next_appointment(self, *, patient_id: str) -> AppointmentSummary | None:
        self._record("next_appointment", patient_id=patient_id)
        if patient_id == "pat-2":
            return None
        return self._appointment(patient_id, datetime(2025, 3, 12, 9, 30, tzinfo=UTC))

    async def confirm_appointment(self, *, patient_id: str, appointment_id: str) -> None:
        self._record("confirm_appointment", patient_id=patient_id, appointment_id=appointment_id)
        if patient_id == "pat-3":
            raise Conflict("appointment already cancelled")

    async def cancel_appointment(self, *, patient_id: str, appointment_id: str) -> None:
        self._record("cancel_appointment", patient_id=patient_id, appointment_id=appointment_id)
        if patient_id == "pat-3":
            raise Conflict("too late to cancel")

    async def reschedule_options(
        self, *, patient_id: str, appointment_id: str, limit: int
    ) -> Sequence[SlotOption]:
        self._record("reschedule_options", patient_id=patient_id, limit=limit)
        if patient_id == "pat-3":
            return []
        first = datetime(2025, 3, 13, 8, 0, tzinfo=UTC)
        return [
            SlotOption(f"slot-{i}", first + timedelta(days=i, minutes=30 * i)) for i in range(limit)
        ]

    async def reschedule_appointment(
        self, *, patient_id: str, appointment_id: str, slot_id: str
    ) -> AppointmentSummary:
        self._record("reschedule_appointment", appointment_id=appointment_id, slot_id=slot_id)
        index = int(slot_id.split("-")[1])
        first = datetime(2025, 3, 13, 8, 0, tzinfo=UTC)
        return self._appointment(patient_id, first + timedelta(days=index, minutes=30 * index))

    async def request_callback(
        self, *, phone_number: str, patient_id: str | None, language: str
    ) -> None:
        self._record(
            "request_callback", phone_number=phone_number, patient_id=patient_id, language=language
        )

    async def results_ready(self, *, patient_id: str) -> bool:
        self._record("results_ready", patient_id=patient_id)
        return patient_id == "pat-1"

    async def bill_balance(self, *, patient_id: str) -> Balance | None:
        self._record("bill_balance", patient_id=patient_id)
        if patient_id == "pat-4":
            raise ServiceNotAvailable()
        return Balance(Decimal("1250.50"), "MRU") if patient_id == "pat-1" else None


class Phone:
    """Dials the service like a handset through Africa's Talking.

    Keeps the growing ``text`` history, stores the session and the PIN failures the way
    a caller would (as JSON between requests), and moves its own clock.
    """

    def __init__(self, engine: UssdMenuEngine, *, number: str = PHONE) -> None:
        self.engine = engine
        self.number = number
        self.now = NOW
        self.failures: tuple[datetime, ...] = ()
        self.replies: list[UssdReply] = []
        self._session_no = 0
        self.hang_up()

    def hang_up(self) -> None:
        self._session_no += 1
        self.session_id = f"ATUid_{self._session_no}"
        self.inputs: list[str] = []
        self.stored: str | None = None

    async def request(self) -> UssdReply:
        session = None if self.stored is None else UssdSession.from_dict(json.loads(self.stored))
        outcome = await self.engine.handle(
            UssdRequest.from_africastalking(
                {
                    "sessionId": self.session_id,
                    "serviceCode": "*384*21525#",
                    "phoneNumber": self.number,
                    "networkCode": "60902",
                    "text": "*".join(self.inputs),
                }
            ),
            session=session,
            pin_failures=self.failures,
            now=self.now,
        )
        self.stored = json.dumps(outcome.session.to_dict())
        self.failures = outcome.pin_failures
        self.replies.append(outcome.reply)
        return outcome.reply

    async def dial(self) -> UssdReply:
        self.hang_up()
        return await self.request()

    async def press(self, *keys: str) -> UssdReply:
        reply = self.replies[-1] if self.replies else await self.request()
        for key in keys:
            assert not reply.end, f"session already ended with {reply.text!r}"
            self.inputs.append(key)
            reply = await self.request()
        return reply


@pytest.fixture
def services() -> FakeUssdServices:
    return FakeUssdServices()


@pytest.fixture
def engine(services: FakeUssdServices) -> UssdMenuEngine:
    return UssdMenuEngine(services, formatter=PlainFormatter())


@pytest.fixture
async def phone(engine: UssdMenuEngine) -> Phone:
    handset = Phone(engine)
    await handset.dial()
    return handset
