"""An agenda to book in, for the FHIR appointment tests: a clock at 07:30 tomorrow (so
the morning is bookable), an appointment type and the demo doctor's morning session,
made through /api/v1.

A test module takes the fixtures by importing ``morning_clock`` and ``morning_container``
(they replace ``clock`` and ``container`` there)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.bootstrap import Container, build
from afiya.domain.shared.clock import FixedClock
from afiya.settings import Settings
from tests.api.patients.helpers import facility_id
from tests.conftest import FAST_HASHER


@pytest.fixture(name="clock")
def morning_clock() -> FixedClock:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return FixedClock(datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, 30, tzinfo=UTC))


@pytest.fixture(name="container")
async def morning_container(settings: Settings, clock: FixedClock) -> AsyncIterator[Container]:
    from afiya.jobs.registry import handlers

    built = build(settings, hasher=FAST_HASHER, clock=clock)
    built.runner.register_all(handlers())
    yield built
    await built.close()


async def unit_id(client: Any, headers: dict[str, str], code: str) -> str:
    response = await client.get(
        "/api/v1/org-units/", params={"q": code, "limit": 5}, headers=headers
    )
    return str(next(u["id"] for u in response.json()["items"] if u["code"] == code))


async def open_agenda(
    client: Any, container: Any, desk: dict[str, str], code: str, name: str, minutes: int
) -> dict[str, str]:
    """An appointment type of CH-TZ-S1 and the doctor's 08:00–12:00 session today."""
    fid = await facility_id(client, desk, "CH-TZ")
    sid = await unit_id(client, desk, "CH-TZ-S1")
    async with container.uow(SYSTEM_CONTEXT) as uow:
        doctor = await uow.users.get_by_username("demo.doctor")
    kind = await client.post(
        "/api/v1/agenda/appointment-types",
        headers=desk,
        json={
            "facility_id": fid,
            "service_id": sid,
            "code": code,
            "name": name,
            "duration_minutes": minutes,
        },
    )
    assert kind.status_code == 201, kind.text
    day = container.clock.now().date()
    schedule = await client.post(
        "/api/v1/agenda/schedules",
        headers=desk,
        json={
            "facility_id": fid,
            "service_id": sid,
            "practitioner_id": str(doctor.id),
            "sessions": [{"weekday": day.weekday(), "start": "08:00", "end": "12:00"}],
            "valid_from": day.isoformat(),
        },
    )
    assert schedule.status_code == 201, schedule.text
    return {
        "facility": fid,
        "service": sid,
        "doctor": str(doctor.id),
        "type": kind.json()["id"],
        "schedule": schedule.json()["id"],
        "day": day.isoformat(),
    }
