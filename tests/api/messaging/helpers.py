"""Shared set-up of the messaging-channel API tests: a facility agenda, a patient with a
phone, a booked appointment, and an app that also mounts the USSD channel route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.bootstrap import Container, build
from afiya.domain.shared.clock import FixedClock
from afiya.settings import Settings
from tests.api.patients.helpers import facility_id, person, register
from tests.conftest import FAST_HASHER, asgi_client, make_settings

SECRET = "ussd-callback-secret-0123456789-abcdef"
TWILIO_TOKEN = "twilio-webhook-test-token"
TWILIO_SID = "AC" + "1" * 32
PHONE = "+22236123456"  # "36 12 34 56" as the patients helper registers it


def tomorrow_0730() -> datetime:
    """07:30 UTC (= Nouakchott) tomorrow: the whole working day is ahead."""
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 7, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(tomorrow_0730())


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        sms_callback_secret=SECRET,
        twilio_auth_token=TWILIO_TOKEN,
        sms_gateway_config='{"account_sid": "' + TWILIO_SID + '"}',
    )


@pytest.fixture
async def container(settings: Settings, clock: FixedClock) -> AsyncIterator[Container]:
    from afiya.jobs.registry import handlers

    built = build(settings, hasher=FAST_HASHER, clock=clock)
    built.runner.register_all(handlers())
    yield built
    hub = built.extras.get("notifications")
    if hub is not None:
        await hub.close()
    await built.close()


def mounted_app(container: Container) -> Any:
    """The API plus the channel routes, as ``afiya.asgi`` mounts them."""
    from afiya.api.app import create_app
    from afiya.channels.sms_ussd.http import ROUTES

    app = create_app(container)
    for route in ROUTES:
        app.register(route)
    return app


@pytest.fixture
async def client(container: Container) -> AsyncIterator[Any]:
    app = mounted_app(container)
    await container.start()
    async with asgi_client(app) as test_client:
        yield test_client


async def _unit(client: Any, headers: dict[str, str], code: str) -> str:
    response = await client.get(
        "/api/v1/org-units/", params={"q": code, "limit": 5}, headers=headers
    )
    return next(u["id"] for u in response.json()["items"] if u["code"] == code)


async def book_for_patient(
    client: Any, container: Container, headers: dict[str, str], **patient: Any
) -> dict[str, str]:
    """A consultation type and a doctor's morning at CH-TZ, a patient reachable at
    ``PHONE``, and an appointment at 10:00 today (facility time)."""
    fid = await facility_id(client, headers, "CH-TZ")
    sid = await _unit(client, headers, "CH-TZ-S1")
    async with container.uow(SYSTEM_CONTEXT) as uow:
        doctor = await uow.users.get_by_username("demo.doctor")
    assert doctor is not None
    kind = await client.post(
        "/api/v1/agenda/appointment-types",
        headers=headers,
        json={
            "facility_id": fid,
            "service_id": sid,
            "code": "CONS",
            "name": "Consultation",
            "duration_minutes": 30,
        },
    )
    assert kind.status_code == 201, kind.text
    day = container.clock.now().date()
    schedule = await client.post(
        "/api/v1/agenda/schedules",
        headers=headers,
        json={
            "facility_id": fid,
            "service_id": sid,
            "practitioner_id": str(doctor.id),
            "sessions": [{"weekday": d, "start": "08:00", "end": "12:00"} for d in range(7)],
            "valid_from": day.isoformat(),
        },
    )
    assert schedule.status_code == 201, schedule.text
    registered = await register(client, headers, person(fid, **patient))
    booked = await client.post(
        "/api/v1/appointments/",
        headers=headers,
        json={
            "patient_id": registered["id"],
            "practitioner_id": str(doctor.id),
            "appointment_type_id": kind.json()["id"],
            "starts_at": f"{day.isoformat()}T10:00:00Z",
        },
    )
    assert booked.status_code == 201, booked.text
    return {
        "facility": fid,
        "patient": registered["id"],
        "appointment": booked.json()["id"],
        "doctor": str(doctor.id),
        "type": kind.json()["id"],
    }


async def set_pin(client: Any, headers: dict[str, str], patient_id: str, pin: str) -> None:
    response = await client.post(
        f"/api/v1/patients/{patient_id}/ussd-pin", headers=headers, json={"pin": pin}
    )
    assert response.status_code == 200, response.text


class UssdPhone:
    """Dials the USSD service exactly as Africa's Talking does: one form-encoded POST
    per key press, ``text`` growing with every input, the same ``sessionId``."""

    def __init__(self, client: Any, *, phone: str = PHONE, key: str | None = SECRET) -> None:
        self.client = client
        self.phone = phone
        self.key = key
        self.inputs: list[str] = []
        self.session = 0

    async def dial(self) -> str:
        self.session += 1
        self.inputs = []
        return await self._post()

    async def press(self, *keys: str) -> str:
        answer = ""
        for key in keys:
            self.inputs.append(key)
            answer = await self._post()
        return answer

    async def _post(self) -> str:
        params = {"key": self.key} if self.key is not None else {}
        response = await self.client.post(
            "/ussd/africastalking",
            params=params,
            data={
                "sessionId": f"ATUid_{id(self)}_{self.session}",
                "serviceCode": "*384*123#",
                "phoneNumber": self.phone,
                "networkCode": "60901",
                "text": "*".join(self.inputs),
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return str(response.text)
