"""Start the SMS gateway double (a real HTTP server process) for the adapter tests."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]
AT_USERNAME = "sandbox"
AT_API_KEY = "at-test-key"
TWILIO_SID = "AC" + "0" * 30 + "42"
TWILIO_TOKEN = "twilio-test-token"
TWILIO_NUMBER = "+15005550006"


@dataclass(frozen=True)
class GatewayDouble:
    """Where the double listens, and its admin API."""

    base_url: str

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=5, trust_env=False)

    def messages(self) -> list[dict[str, Any]]:
        with self.admin() as client:
            return list(client.get("/_admin/messages").json()["messages"])

    def fail(self, **spec: Any) -> None:
        with self.admin() as client:
            client.post("/_admin/failures", json=spec).raise_for_status()

    def reset(self) -> None:
        with self.admin() as client:
            client.post("/_admin/reset").raise_for_status()


@pytest.fixture(scope="session", params=["threads", "asyncio"])
def gateway_double(request: pytest.FixtureRequest) -> Iterator[GatewayDouble]:
    """The double under both of its servers: the same protocol whichever carries it
    (the benchmarks use the asyncio one)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.doubles.sms_gateways",
            "--port",
            "0",
            "--server",
            str(request.param),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 15
        line = ""
        while time.monotonic() < deadline and not line:
            ready, _, _ = select.select([process.stdout], [], [], 0.2)
            if ready:
                line = process.stdout.readline().strip()
            elif process.poll() is not None:
                break
        if not line.startswith("LISTENING "):
            errors = process.stderr.read() if process.stderr and process.poll() is not None else ""
            pytest.fail(f"SMS gateway double did not start: {line!r} {errors}")
        yield GatewayDouble(f"http://127.0.0.1:{int(line.split()[1])}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def double(gateway_double: GatewayDouble) -> GatewayDouble:
    """The double, with an empty log and no pending failures."""
    gateway_double.reset()
    return gateway_double
