"""Both blob adapters against real storage: a directory, and an S3-protocol server
process (moto's standalone server) on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import replace

import httpx
import pytest

from afiya.adapters.blob.local import LocalBlobStore
from afiya.adapters.blob.s3 import S3BlobStore
from afiya.bootstrap import build
from tests.conftest import FAST_HASHER, asgi_client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the S3 test server did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


async def _exercise(store) -> None:
    stored = await store.put("scans/2026/11/doc.pdf", b"%PDF-1.7 demo", "application/pdf")
    assert stored.size == 13 and len(stored.sha256) == 64
    assert await store.get("scans/2026/11/doc.pdf") == b"%PDF-1.7 demo"
    assert await store.exists("scans/2026/11/doc.pdf")
    await store.delete("scans/2026/11/doc.pdf")
    assert not await store.exists("scans/2026/11/doc.pdf")
    with pytest.raises(KeyError):
        await store.get("scans/2026/11/doc.pdf")
    await store.check()


async def test_local_blob_store_round_trip_and_refuses_path_escape(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    await _exercise(store)
    with pytest.raises(ValueError):
        await store.put("../outside", b"x", "text/plain")


async def test_s3_blob_store_round_trip(s3_endpoint):
    store = S3BlobStore(
        endpoint_url=s3_endpoint, bucket="afiya-test", access_key="test", secret_key="test"
    )
    await store.ensure_bucket()
    await _exercise(store)


async def test_readiness_checks_the_s3_store(settings, s3_endpoint):
    from afiya.api.app import create_app

    s3_settings = replace(
        settings,
        blob_store="s3",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"afiya-ready-{uuid.uuid4().hex[:8]}",
        s3_access_key="k",
        s3_secret_key="s",
    )
    container = build(s3_settings, hasher=FAST_HASHER)
    try:
        async with asgi_client(create_app(container, start_jobs=False)) as client:
            missing_bucket = await client.get("/health/ready")
            await container.blobs.ensure_bucket()
            ready = await client.get("/health/ready")
    finally:
        await container.close()
    assert missing_bucket.status_code == 503
    assert missing_bucket.json()["checks"]["blob_store"] != "ok"
    assert ready.status_code == 200 and ready.json()["checks"]["blob_store"] == "ok"
