"""Operating the service: readiness of Redis, structured logs without patient data, CLI."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from dataclasses import replace

from afiya.api.app import create_app
from afiya.api.observability import JsonFormatter
from afiya.bootstrap import build
from tests.conftest import FAST_HASHER, REDIS_URL, REPO, TEST_BLIND_KEY, TEST_KEYS, asgi_client


async def _ready(settings):
    container = build(settings, hasher=FAST_HASHER)
    try:
        async with asgi_client(create_app(container, start_jobs=False)) as client:
            return await client.get("/health/ready")
    finally:
        await container.close()


async def test_readiness_checks_redis_when_it_is_configured(settings):
    up = await _ready(replace(settings, redis_url=REDIS_URL))
    down = await _ready(replace(settings, redis_url="redis://127.0.0.1:1/0"))
    assert up.status_code == 200 and up.json()["checks"]["redis"] == "ok"
    assert down.status_code == 503 and down.json()["checks"]["redis"] != "ok"
    assert down.json()["checks"]["database"] == "ok"


async def test_access_logs_are_json_and_hold_no_request_content(client, auth):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("afiya.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        headers = await auth("demo.nurse")
        await client.get(
            "/api/v1/org-units/", params={"q": "Fatimetou Mint Ahmed"}, headers=headers
        )
    finally:
        access.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    search = next(line for line in lines if line["route"] == "/api/v1/org-units")
    assert search["status"] == 200 and search["user_id"] and search["request_id"]
    assert "Fatimetou" not in stream.getvalue()
    assert all(
        set(line)
        <= {
            "ts",
            "level",
            "logger",
            "msg",
            "request_id",
            "method",
            "route",
            "status",
            "duration_ms",
            "user_id",
        }
        for line in lines
    )


async def test_create_user_command_creates_an_account_that_can_sign_in(settings, client):
    env = {
        **os.environ,
        "AFIYA_DATABASE_URL": settings.database_url,
        "AFIYA_VAR_DIR": str(settings.var_dir),
        "AFIYA_ENCRYPTION_KEYS": TEST_KEYS,
        "AFIYA_BLIND_INDEX_KEY": TEST_BLIND_KEY,
        "AFIYA_JWT_SECRET": settings.jwt_secret,
    }
    command = [
        sys.executable,
        "-m",
        "afiya.cli",
        "create-user",
        "--username",
        "awa.diallo",
        "--full-name",
        "Awa Diallo",
        "--role",
        "doctor",
        "--unit",
        "CH-TZ",
        "--password",
        "Un-mot-de-passe-2026",
    ]
    created = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert created.returncode == 0, created.stderr
    assert "created user awa.diallo" in created.stdout
    login = await client.post(
        "/api/v1/auth/login", json={"username": "awa.diallo", "password": "Un-mot-de-passe-2026"}
    )
    assert login.status_code == 200
    assert login.json()["roles"] == ["doctor"]
    weak = subprocess.run(
        [*command[:-1], "short"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert weak.returncode != 0
    assert "password" in weak.stderr
