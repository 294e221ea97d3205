"""Start the DHIS2 double as a real server process on 127.0.0.1 for the whole session."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from afiya.adapters.dhis2 import BasicCredentials, Dhis2Client

REPO = Path(__file__).resolve().parents[3]
ADMIN = BasicCredentials("admin", "district")
ADMIN_TOKEN = "d2pat_AfiyaDoubleAdminToken0000000001"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Double:
    """The running double and its ``/__admin`` routes."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def admin(self, route: str, body: Any = None) -> Any:
        if body is None:
            response = self.http.get(f"/__admin/{route}")
        else:
            response = self.http.post(f"/__admin/{route}", json=body)
        response.raise_for_status()
        return response.json()

    def stored(self, de: str, pe: str, ou: str, **combos: str) -> dict[str, Any] | None:
        params = {"de": de, "pe": pe, "ou": ou, **combos}
        response = self.http.get("/__admin/dataValue", params=params)
        return None if response.status_code == 404 else response.json()

    def requests_to(self, endpoint: str) -> int:
        return int(self.admin("counters")["byEndpoint"].get(endpoint, 0))


@pytest.fixture(scope="session")
def double_server() -> Iterator[Double]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.doubles.dhis2_server", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base_url}/__admin/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"DHIS2 double did not start: {err.decode()[-2000:]}")
        time.sleep(0.05)
    double = Double(base_url)
    try:
        yield double
    finally:
        double.http.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def double(double_server: Double) -> Double:
    """The double, reset to the demo world, its clock on 10 February 2014."""
    double_server.admin("reset", {"seed": "demo"})
    double_server.admin("config", {"today": "2014-02-10", "asyncDelaySeconds": 0.2})
    return double_server


@pytest.fixture
async def client(double: Double) -> AsyncIterator[Dhis2Client]:
    async with Dhis2Client(double.base_url, ADMIN, poll_interval=0.05, page_size=3) as dhis2:
        yield dhis2
