"""Platform benchmark: cold start, idle RSS, requests/s and latency of `afiya run`.

Starts the real server (uvicorn, one worker) on SQLite and on PostgreSQL, then drives it
from a second process with `wrk` (Debian package `wrk`) on 127.0.0.1 only, with bounded
durations. Prints the figures; record them in docs/performance.md.

    uv run python benchmarks/platform_http.py [--duration 10] [--connections 32]
        [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--skip-pg]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "Afiya-demo-2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(var_dir: Path, database_url: str | None, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "AFIYA_VAR_DIR": str(var_dir),
        "AFIYA_PORT": str(port),
        "AFIYA_LOG_LEVEL": "WARNING",
        "AFIYA_SEED_DEMO_ON_START": "true",
    }
    if database_url:
        env["AFIYA_DATABASE_URL"] = database_url
    return env


def start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], float]:
    """Start `afiya run`; return the process and seconds until /health/live answers."""
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "afiya.cli", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{env['AFIYA_PORT']}/health/live"
    deadline = began + 60
    while time.perf_counter() < deadline:
        try:
            if httpx.get(url, timeout=0.5).status_code == 200:
                return process, time.perf_counter() - began
        except httpx.HTTPError:
            time.sleep(0.02)
    process.kill()
    raise RuntimeError("server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def wrk(url: str, duration: int, connections: int, headers: dict[str, str]) -> dict[str, str]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "non_2xx": errors.group(1) if errors else "0"}


def login(base: str, username: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def login_rate(base: str, total: int = 60, concurrency: int = 4) -> float:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        semaphore = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with semaphore:
                response = await client.post(
                    "/api/v1/auth/login", json={"username": "demo.doctor", "password": PASSWORD}
                )
                response.raise_for_status()

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(total)))
        return total / (time.perf_counter() - began)


def bench_backend(name: str, database_url: str | None, args: argparse.Namespace) -> None:
    var_dir = Path(tempfile.mkdtemp(prefix=f"afiya-bench-{name}-"))
    port = free_port()
    env = server_env(var_dir, database_url, port)
    if database_url:  # `afiya run` seeds only the embedded SQLite default
        subprocess.run(
            [sys.executable, "-m", "afiya.cli", "seed-demo"],
            cwd=REPO,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    first, first_start = start(env)  # migrates (and seeds SQLite)
    stop(first)
    server, cold = start(env)  # the figure that matters: a restart of an installed server
    base = f"http://127.0.0.1:{port}"
    try:
        time.sleep(1.0)
        idle = rss_mb(server.pid)
        token = login(base, "demo.nurse")
        admin = login(base, "demo.system_admin")
        units = httpx.get(
            f"{base}/api/v1/org-units/",
            params={"q": "CH-TZ"},
            headers={"Authorization": f"Bearer {admin}"},
        ).json()["items"]
        unit_id = next(u["id"] for u in units if u["code"] == "CH-TZ")
        live = wrk(f"{base}/health/live", args.duration, args.connections, {})
        read = wrk(
            f"{base}/api/v1/org-units/{unit_id}",
            args.duration,
            args.connections,
            {"Authorization": f"Bearer {token}"},
        )
        logins = asyncio.run(login_rate(base))
        loaded = rss_mb(server.pid)
    finally:
        stop(server)
        shutil.rmtree(var_dir, ignore_errors=True)
    print(f"\n== {name} ==")
    print(f"first start (migrate + seed): {first_start:.2f} s; cold start: {cold:.2f} s")
    print(f"idle RSS: {idle:.0f} MB; RSS after load: {loaded:.0f} MB")
    print(
        f"GET /health/live: {live['rps']} req/s, p50 {live['p50']}, p99 {live['p99']}, "
        f"non-2xx {live['non_2xx']}"
    )
    print(
        f"GET /api/v1/org-units/{{id}} (authenticated, 1 query): {read['rps']} req/s, "
        f"p50 {read['p50']}, p99 {read['p99']}, non-2xx {read['non_2xx']}"
    )
    print(f"POST /api/v1/auth/login (argon2id OWASP): {logins:.1f} logins/s")


def argon2_verify_ms(rounds: int = 30) -> tuple[float, float]:
    from afiya.adapters.crypto.passwords import Argon2PasswordHasher

    hasher = Argon2PasswordHasher()
    stored = asyncio.run(hasher.hash("Correct-horse-2026"))
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        assert hasher.verify_sync(stored, "Correct-horse-2026")
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    return timings[len(timings) // 2], timings[int(len(timings) * 0.95) - 1]


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database=parsed.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    p50, p95 = argon2_verify_ms()
    print(f"argon2id verify (m=19 MiB, t=2, p=1): p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    bench_backend("SQLite", None, args)
    if not args.skip_pg:
        from sqlalchemy.engine import make_url

        name = f"afiya_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg_admin(args.pg, f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
            bench_backend("PostgreSQL", url, args)
        finally:
            asyncio.run(_pg_admin(args.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
