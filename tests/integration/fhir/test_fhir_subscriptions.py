"""Rest-hook subscriptions end to end: change log → matcher → delivery to a real HTTP
subscriber process on 127.0.0.1 that is down, then up. A down subscriber loses nothing."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow
from afiya.adapters.db.models.fhir import FhirDeliveryAttemptRow, FhirNotificationRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT
from afiya.bootstrap import Container, build
from afiya.domain.platform.jobs import JobRequest
from afiya.domain.shared.clock import FixedClock
from afiya.jobs import fhir as jobs
from afiya.jobs.registry import handlers, periodic
from afiya.settings import Settings
from tests.api.fhir.helpers import get, person, post, put, valid
from tests.api.patients.helpers import facility_id
from tests.conftest import FAST_HASHER, make_settings

SUBSCRIBER = Path(__file__).with_name("subscriber.py")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Subscriber:
    """The subscriber process: not running until :meth:`start`."""

    def __init__(self, port: int, out: Path) -> None:
        self.port, self.out = port, out
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SUBSCRIBER), "--port", str(self.port), "--out", str(self.out)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().startswith("LISTENING")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def received(self) -> list[dict[str, Any]]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines() if line]


@pytest.fixture
def subscriber(tmp_path: Path) -> Iterator[Subscriber]:
    running = Subscriber(_free_port(), tmp_path / "received.jsonl")
    yield running
    running.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, fhir_subscriptions_allow_http=True)


@pytest.fixture
async def container(settings: Settings, clock: FixedClock) -> AsyncIterator[Container]:
    built = build(settings, hasher=FAST_HASHER, clock=clock)
    built.runner.register_all(handlers())
    yield built
    await built.close()


async def _match(container: Container) -> int:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        added = await jobs.match_changes(uow, container.clock)
        await uow.commit()
    return added


async def _deliver(container: Container, subscription_id: str) -> tuple[int, datetime | None]:
    async with container.uow(SYSTEM_CONTEXT) as uow, httpx.AsyncClient(timeout=5) as http:
        result = await jobs.deliver(
            uow, container.clock, _uuid(subscription_id), client=http, base="http://his/fhir/R4"
        )
        await uow.commit()
    return result


def _uuid(text: str) -> Any:
    from uuid import UUID

    return UUID(text)


async def _subscribe(client, headers, endpoint, criteria, payload=None) -> dict[str, Any]:
    channel = {"type": "rest-hook", "endpoint": endpoint, "header": ["Authorization: Bearer lab-1"]}
    if payload:
        channel["payload"] = payload
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "lab worklist",
        "criteria": criteria,
        "channel": channel,
    }
    response = await post(client, headers, "/Subscription", body)
    assert response.status_code == 201, response.text
    return valid(response.json())


class TestRestHook:
    async def test_a_down_subscriber_loses_nothing_and_gets_events_in_order(
        self, client, auth, container, clock, subscriber
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        sub = await _subscribe(client, clerk, subscriber.url, "Patient?gender=female")
        assert sub["status"] == "active" and "header" not in sub["channel"]

        woman = person(
            unit,
            name=[{"family": "Mint Sidi", "given": ["Fatimetou"]}],
            gender="female",
            telecom=[{"system": "phone", "value": "+222 46 11 22 33"}],
        )
        created = (await post(client, clerk, "/Patient", woman)).json()
        await post(client, clerk, "/Patient", person(unit))  # male: does not match
        assert await _match(container) == 1
        assert await _match(container) == 0  # the cursor moved: nothing twice

        delivered, retry_at = await _deliver(container, sub["id"])  # subscriber is down
        assert delivered == 0 and retry_at == clock.now() + timedelta(seconds=30)
        state = valid((await get(client, clerk, f"/Subscription/{sub['id']}")).json())
        assert state["status"] == "active"

        subscriber.start()
        assert await _deliver(container, sub["id"]) == (0, retry_at)  # not due yet
        clock.current = retry_at
        delivered, again = await _deliver(container, sub["id"])
        assert (delivered, again) == (1, None)

        changed = dict(created, birthDate="1982-05-05")
        assert (await put(client, clerk, f"/Patient/{created['id']}", changed)).status_code == 200
        assert await _match(container) == 1
        assert (await _deliver(container, sub["id"]))[0] == 1

        received = subscriber.received()
        assert [r["path"] for r in received] == ["/hook", "/hook"]
        assert {r["headers"]["authorization"] for r in received} == {"Bearer lab-1"}
        bundles = [valid(r["body"]) for r in received]
        entries = [b["entry"][0] for b in bundles]
        assert [e["request"]["url"] for e in entries] == [f"Patient/{created['id']}"] * 2
        assert [e["response"]["etag"] for e in entries] == ['W/"1"', 'W/"2"']
        events = [
            next(t["code"] for t in b["meta"]["tag"] if "event-number" in t["system"])
            for b in bundles
        ]
        assert events == ["1", "2"]
        assert "Fatimetou" not in json.dumps(bundles)  # id-only: no patient data

        async with container.sessions() as session:
            attempts = (
                (
                    await session.execute(
                        select(FhirDeliveryAttemptRow).order_by(FhirDeliveryAttemptRow.id)
                    )
                )
                .scalars()
                .all()
            )
            pending = (
                (
                    await session.execute(
                        select(FhirNotificationRow).where(FhirNotificationRow.status == "pending")
                    )
                )
                .scalars()
                .all()
            )
        assert [(a.status_code, a.error is None) for a in attempts] == [
            (None, False),
            (200, True),
            (200, True),
        ]
        assert "ConnectError" in attempts[0].error
        assert pending == []

    async def test_full_payload_is_the_resource_read_as_the_owner_and_audited(
        self, client, auth, container, subscriber
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        sub = await _subscribe(
            client, clerk, subscriber.url, "Patient?family=sidi", payload="application/fhir+json"
        )
        subscriber.start()
        created = (
            await post(
                client,
                clerk,
                "/Patient",
                person(unit, name=[{"family": "Ould Sidi", "given": ["Ahmed"]}]),
            )
        ).json()
        assert await _match(container) == 1
        assert (await _deliver(container, sub["id"]))[0] == 1
        [received] = subscriber.received()
        patient = valid(received["body"])
        assert patient["id"] == created["id"] and patient["name"][0]["family"] == "Ould Sidi"
        async with container.sessions() as session:
            reads = (
                (
                    await session.execute(
                        select(AuditEventRow).where(
                            AuditEventRow.action == "patient.read",
                            AuditEventRow.username == "system:cli",  # the job's context
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert [str(r.patient_id) for r in reads] == [created["id"]]

    async def test_the_owner_scope_applies_when_matching(self, client, auth, container, subscriber):
        other = await auth("demo.receptionist.b")  # works at another facility
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        await _subscribe(client, other, subscriber.url, "Patient")
        await post(client, clerk, "/Patient", person(unit))
        assert await _match(container) == 0

    async def test_criteria_and_endpoint_are_checked_at_creation(self, client, auth):
        clerk = await auth("demo.receptionist")
        base = {"resourceType": "Subscription", "status": "requested", "reason": "x"}
        bad_type = dict(
            base,
            criteria="Observation?code=1",
            channel={"type": "rest-hook", "endpoint": "https://lab.example/hook"},
        )
        response = await post(client, clerk, "/Subscription", bad_type)
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == ["criteria"]
        bad_param = dict(
            base,
            criteria="Patient?shoe=42",
            channel={"type": "rest-hook", "endpoint": "https://lab.example/hook"},
        )
        assert (await post(client, clerk, "/Subscription", bad_param)).status_code == 400
        bad_url = dict(
            base, criteria="Patient", channel={"type": "rest-hook", "endpoint": "ftp://lab"}
        )
        response = await post(client, clerk, "/Subscription", bad_url)
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == ["Subscription.channel.endpoint"]

    async def test_the_jobs_run_through_the_outbox_and_deliver(
        self, client, auth, container, subscriber
    ):
        clerk = await auth("demo.receptionist")
        unit = await facility_id(client, clerk, "CH-TZ")
        await _subscribe(client, clerk, subscriber.url, "Patient")
        subscriber.start()
        created = (await post(client, clerk, "/Patient", person(unit))).json()
        async with container.uow(SYSTEM_CONTEXT) as uow:
            job_id = await uow.jobs.schedule(JobRequest(jobs.MATCH_JOB, {}, "test-match"))
            await uow.commit()  # dispatches it to the in-process queue (a duplicate is harmless)
        assert await container.runner.execute(job_id) in ("done", "skipped")
        for _ in range(100):  # the delivery job runs on the in-process queue
            if subscriber.received():
                break
            await asyncio.sleep(0.05)
        [received] = subscriber.received()
        assert received["body"]["entry"][0]["fullUrl"].endswith(f"Patient/{created['id']}")

    async def test_the_sweep_schedules_matching_only_when_someone_subscribed(
        self, client, auth, container, subscriber
    ):
        assert jobs.schedule_matching in periodic()
        assert {jobs.MATCH_JOB, jobs.DELIVER_JOB} <= set(handlers())
        async with container.uow(SYSTEM_CONTEXT) as uow:
            await jobs.schedule_matching(uow, container.clock.now())
            assert uow.jobs.scheduled == []
            await uow.rollback()
        clerk = await auth("demo.receptionist")
        await _subscribe(client, clerk, subscriber.url, "Patient")
        async with container.uow(SYSTEM_CONTEXT) as uow:
            await jobs.schedule_matching(uow, container.clock.now())
            assert len(uow.jobs.scheduled) == 1
            await uow.rollback()
