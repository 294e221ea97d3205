"""The SMS adapters' HTTP cost: form POSTs to the local gateway double, requests per
second and client CPU per request, for the adapters' aiohttp client and for httpx.

    .venv/bin/python benchmarks/sms_http_client.py --n 3000

The double (``tests/doubles/sms_gateways.py``) runs in its own process on its asyncio
server; the figures are the client's (``time.process_time`` of this process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from afiya.adapters.sms._http import FormClient  # noqa: E402

FORM = {"username": "sandbox", "message": "Rappel: rendez-vous demain à 10h00"}
HEADERS = {"apiKey": "at-test-key", "Accept": "application/json"}


async def _run(name: str, post, n: int, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            status = await post({**FORM, "to": f"+22236{i:06d}"})
            assert status == 201, status

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{name:8} {n / wall:8,.0f} requests/s   client CPU {cpu / n * 1000:.2f} ms/request")


async def main(n: int, concurrency: int, base_url: str) -> None:
    import httpx

    client = FormClient(base_url, max_connections=concurrency)

    async def with_aiohttp(form: dict[str, str]) -> int:
        answer = await client.post_form(
            base_url + "/version1/messaging", data=form, headers=HEADERS, provider="bench"
        )
        return answer.status_code

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, trust_env=False) as other:

        async def with_httpx(form: dict[str, str]) -> int:
            answer = await other.post("/version1/messaging", data=form, headers=HEADERS)
            return answer.status_code

        await _run("aiohttp", with_aiohttp, n, concurrency)
        await _run("httpx", with_httpx, n, concurrency)
    await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    double = subprocess.Popen(
        [sys.executable, "-m", "tests.doubles.sms_gateways", "--port", "0", "--server", "asyncio"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert double.stdout is not None
        port = int(double.stdout.readline().split()[1])
        print(f"sms_http_client: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
        asyncio.run(main(args.n, args.concurrency, f"http://127.0.0.1:{port}"))
    finally:
        double.terminate()
        double.wait()
