"""The service answers its probes and documents itself."""

from __future__ import annotations


async def test_live_and_ready_answer_200(client):
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["blob_store"] == "ok"


async def test_openapi_ui_and_document_are_served(client):
    ui = await client.get("/schema")
    document = await client.get("/schema/openapi.json")
    assert ui.status_code == 200 and "html" in ui.headers["content-type"]
    assert document.json()["openapi"].startswith("3.1")


async def test_every_response_carries_a_request_id(client):
    response = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health/live")
    assert len(generated.headers["x-request-id"]) == 36


async def test_metrics_are_exposed_for_prometheus(client):
    await client.get("/health/live")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert (
        'afiya_http_requests_total{method="GET",route="/health/live",status="200"}' in metrics.text
    )
