"""The live staff stream over a real HTTP server: an arrival marked at the desk reaches the
staff of that facility as a Server-Sent Event, not those of another facility."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from tests.api.messaging.helpers import book_for_patient, mounted_app


@pytest.fixture
async def server(container) -> AsyncIterator[str]:
    """The same app served by uvicorn on a free port (ASGI test transports buffer whole
    responses, so a stream needs a real server), on the test's event loop."""
    config = uvicorn.Config(
        mounted_app(container), host="127.0.0.1", port=0, lifespan="off", log_level="warning"
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    for _ in range(200):
        if instance.started:
            break
        await asyncio.sleep(0.02)
    port = instance.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def _collect(base: str, headers: dict[str, str], events: list[dict[str, Any]]) -> None:
    async with (
        httpx.AsyncClient(base_url=base, timeout=60, trust_env=False) as http,
        http.stream("GET", "/api/v1/notifications/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        async for line in response.aiter_lines():
            if line.startswith(": ready"):
                events.append({"ready": True})
            elif line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind:
                events.append({"event": kind, **json.loads(line.removeprefix("data: "))})


async def _wait(condition: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_an_arrival_is_streamed_to_the_facility_staff_only(
    client, auth, container, server
) -> None:
    desk = await auth("demo.receptionist")
    nurse = await auth("demo.nurse")
    outsider = await auth("demo.receptionist.b")
    ids = await book_for_patient(client, container, desk)

    mine: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    streams = [
        asyncio.create_task(_collect(server, nurse, mine)),
        asyncio.create_task(_collect(server, outsider, theirs)),
    ]
    try:
        await _wait(lambda: mine and theirs)  # both streams open
        arrived = await client.post(
            f"/api/v1/appointments/{ids['appointment']}/arrived", headers=desk
        )
        assert arrived.status_code == 200, arrived.text
        await _wait(lambda: len(mine) > 1)
        event = mine[1]
        assert event["event"] == event["kind"] == "patient_arrived"
        assert event["resource_id"] == ids["appointment"]
        assert event["patient_id"] == ids["patient"]
        assert "given_names" not in json.dumps(event)  # ids only
        await asyncio.sleep(1.0)  # the outsider's relay has had several turns
        assert theirs == [{"ready": True}]
    finally:
        for task in streams:
            task.cancel()
        for task in streams:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def test_the_stream_needs_a_token_and_the_permission(client, auth) -> None:
    assert (await client.get("/api/v1/notifications/stream")).status_code == 401
    cashier = await auth("demo.cashier")
    denied = await client.get("/api/v1/notifications/stream", headers=cashier)
    assert denied.status_code == 403
