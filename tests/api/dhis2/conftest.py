"""The DHIS2 double as a process on 127.0.0.1, and an Afiya world linked to it.

``linked`` creates a connection to the double through the API, puts five of Afiya's demo
facilities into the double's hierarchy (four with Afiya's uid, one with another uid and
Afiya's code), pulls the metadata and maps four figures to monthly data elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from afiya.adapters.seed.demo import demo_uid
from tests.integration.dhis2.conftest import Double, double, double_server  # noqa: F401

BADJIA = "YuQRtpLP10I"
MEASLES, DYSENTERY, CHOLERA, FEVER_TESTED = (
    "f7n9E0hX8qk",
    "Ix2HsbDMLea",
    "eY5ehpbEsB7",
    "UOlfIjgN8X6",
)
BY_UID = ["CH-TZ", "CS-KSAR", "CS-SEBKHA", "CH-NEMA"]
BY_CODE = "CS-BASSI"
BY_CODE_DHIS2_UID = "Bassik0unou"
FIGURES = {
    "hmis.measles": MEASLES,
    "hmis.dysentery": DYSENTERY,
    "hmis.cholera": CHOLERA,
    "hmis.fever_tested": FEVER_TESTED,
}


async def join(container: Any) -> None:
    """Wait until the in-process queue has run every job that is due."""
    await container.queue.join()


def months(first: str, count: int) -> list[str]:
    year, month = int(first[:4]), int(first[4:])
    out = []
    for _ in range(count):
        out.append(f"{year}{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


@dataclass
class Linked:
    connection_id: str
    headers: dict[str, str]
    units: dict[str, str]  # Afiya code -> Afiya unit id
    mappings: dict[str, str]  # figure -> mapping id


def add_afiya_units_to_double(server: Double) -> None:
    units = [
        {
            "id": demo_uid(code),
            "code": code,
            "name": code,
            "level": 4,
            "parent": {"id": BADJIA},
            "lastUpdated": "2024-01-01T00:00:00.000",
        }
        for code in BY_UID
    ]
    units.append(
        {
            "id": BY_CODE_DHIS2_UID,
            "code": BY_CODE,
            "name": "Bassikounou",
            "level": 4,
            "parent": {"id": BADJIA},
            "lastUpdated": "2024-01-01T00:00:00.000",
        }
    )
    server.admin("metadata", {"organisationUnits": units})


async def unit_ids(client: Any, headers: dict[str, str]) -> dict[str, str]:
    listing = await client.get("/api/v1/org-units/", params={"limit": 200}, headers=headers)
    return {u["code"]: u["id"] for u in listing.json()["items"] if u["code"]}


async def link(client: Any, container: Any, auth: Any, server: Double, **settings: Any) -> Linked:
    headers = await auth("demo.data_manager")
    add_afiya_units_to_double(server)
    body = {
        "name": "SNIS (double)",
        "base_url": server.base_url,
        "auth_kind": "basic",
        "username": "admin",
        "secret": "district",
        "retry_delay_seconds": 0,
        **settings,
    }
    created = await client.post("/api/v1/dhis2/connections/", json=body, headers=headers)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    synced = await client.post(
        f"/api/v1/dhis2/connections/{cid}/metadata-sync", json={}, headers=headers
    )
    assert synced.status_code == 202, synced.text
    await join(container)
    mappings = {}
    for figure, element in FIGURES.items():
        made = await client.post(
            f"/api/v1/dhis2/connections/{cid}/mappings",
            json={"figure": figure, "period_type": "Monthly", "data_element": element},
            headers=headers,
        )
        assert made.status_code == 201, made.text
        mappings[figure] = made.json()["id"]
    return Linked(cid, headers, await unit_ids(client, headers), mappings)


async def put_figures(
    client: Any, linked: Linked, periods: list[str], *, offset: int = 0
) -> dict[str, Any]:
    """One figure per mapped code, linked unit and period; never zero (DHIS2 skips zeros)."""
    figures = [
        {
            "figure": figure,
            "org_unit_id": linked.units[code],
            "period": period,
            "value": str(1 + (n + offset) % 500),
        }
        for n, (figure, code, period) in enumerate(
            (f, c, p) for f in FIGURES for c in [*BY_UID, BY_CODE] for p in periods
        )
    ]
    done = {"created": 0, "updated": 0, "unchanged": 0}
    for start in range(0, len(figures), 10_000):
        response = await client.put(
            "/api/v1/dhis2/figures/",
            json={"figures": figures[start : start + 10_000]},
            headers=linked.headers,
        )
        assert response.status_code == 200, response.text
        for key, value in response.json().items():
            done[key] += value
    return done


async def push(client: Any, container: Any, linked: Linked, body: dict[str, Any]) -> dict[str, Any]:
    """Request a push, let the jobs run, return the run with its chunks."""
    started = await client.post(
        f"/api/v1/dhis2/connections/{linked.connection_id}/push-runs",
        json=body,
        headers=linked.headers,
    )
    assert started.status_code == 202, started.text
    await join(container)
    return await run_of(client, linked, started.json()["id"])


async def run_of(client: Any, linked: Linked, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/dhis2/push-runs/{run_id}", headers=linked.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
async def linked(client: Any, container: Any, auth: Any, double: Double) -> Linked:  # noqa: F811
    return await link(client, container, auth, double)
