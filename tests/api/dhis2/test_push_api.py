"""Pushing figures through the sync ledger, against the DHIS2 double over 127.0.0.1."""

from __future__ import annotations

from afiya.adapters.seed.demo import demo_uid

from .conftest import BY_CODE_DHIS2_UID, Linked, join, months, push, put_figures, run_of

# 4 figures x 5 units x 500 months = 10,000 values, all in periods open in the double.
PERIODS = months("197206", 500)  # June 1972 to January 2014
WHOLE_RANGE = {"start": "1972-06-01", "end": "2014-01-31"}


def _api_calls(counters: dict) -> dict[str, int]:
    """Requests per endpoint, leaving out the test's own ``/__admin`` calls."""
    return {k: v for k, v in counters["byEndpoint"].items() if "/__admin" not in k}


async def _ledger(client, linked: Linked, **filters: str) -> list[dict]:
    """Every ledger entry of the connection, walking the pages."""
    items: list[dict] = []
    cursor = None
    while True:
        params = {"limit": 200, **filters} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get(
                f"/api/v1/dhis2/connections/{linked.connection_id}/ledger",
                params=params,
                headers=linked.headers,
            )
        ).json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def _ledger_states(client, linked: Linked) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in await _ledger(client, linked):
        counts[item["state"]] = counts.get(item["state"], 0) + 1
    return counts


async def test_pushing_the_same_10000_values_twice_sends_nothing_the_second_time(
    client, container, linked, double
):
    assert (await put_figures(client, linked, PERIODS))["created"] == 10_000
    first = await push(client, container, linked, WHOLE_RANGE)
    assert first["status"] == "done", first
    assert (first["total_values"], first["total_chunks"]) == (10_000, 10)
    assert first["totals"]["imported"] == 10_000
    counters = double.admin("counters")
    assert counters["storedValues"] == 10_000
    assert counters["byEndpoint"]["POST /api/dataValueSets"] == 10
    assert counters["byEndpoint"]["IMPORT dataValueSets"] == 10
    # The unit matched by code is sent under DHIS2's own uid.
    assert double.stored("f7n9E0hX8qk", "197206", BY_CODE_DHIS2_UID) is not None

    second = await push(client, container, linked, WHOLE_RANGE)
    assert second["status"] == "done"
    assert second["total_values"] == 0 and second["total_chunks"] == 0
    assert second["plan"]["unchanged"] == 10_000
    assert _api_calls(double.admin("counters")) == _api_calls(counters)
    assert await _ledger_states(client, linked) == {"imported": 10_000}


async def test_a_changed_value_is_sent_alone_and_the_old_entry_is_superseded(
    client, container, linked, double
):
    await put_figures(client, linked, PERIODS[:10])  # 200 values
    await push(client, container, linked, WHOLE_RANGE)
    changed = await client.put(
        "/api/v1/dhis2/figures/",
        json={
            "figures": [
                {
                    "figure": "hmis.measles",
                    "org_unit_id": linked.units["CH-TZ"],
                    "period": PERIODS[0],
                    "value": "4321",
                }
            ]
        },
        headers=linked.headers,
    )
    assert changed.json() == {"created": 0, "updated": 1, "unchanged": 0}
    run = await push(client, container, linked, WHOLE_RANGE)
    assert run["total_values"] == 1 and run["totals"]["updated"] == 1
    assert double.stored("f7n9E0hX8qk", PERIODS[0], demo_uid("CH-TZ"))["value"] == "4321"
    assert await _ledger_states(client, linked) == {
        "imported": 199,
        "superseded": 1,
        "updated": 1,
    }


async def test_chunk_3_of_10_failing_on_the_network_resumes_at_chunk_3_without_loss(
    client, container, linked, double
):
    await put_figures(client, linked, PERIODS)
    double.admin(
        "faults",
        {"failRequest": 3, "path": "/api/dataValueSets", "method": "POST", "action": "close"},
    )
    run = await push(client, container, linked, WHOLE_RANGE | {"concurrency": 1})
    assert run["status"] == "done", run
    attempts = [c["attempts"] for c in run["chunks"]]
    assert attempts == [1, 1, 2, 1, 1, 1, 1, 1, 1, 1]
    assert "could not be reached" in run["chunks"][2]["last_error"]
    counters = double.admin("counters")
    assert counters["faultsTriggered"] == 1
    assert counters["byEndpoint"]["POST /api/dataValueSets"] == 11  # 10 chunks + 1 lost
    assert counters["byEndpoint"]["IMPORT dataValueSets"] == 10
    assert counters["storedValues"] == 10_000
    assert run["totals"]["imported"] == 10_000 and run["totals"]["ignored"] == 0
    entries = await _ledger(client, linked, run_id=run["id"])
    by_chunk: dict[int, set[int]] = {}
    for entry in entries:
        by_chunk.setdefault(entry["chunk_no"], set()).add(entry["attempts"])
    assert by_chunk == {n: ({2} if n == 3 else {1}) for n in range(1, 11)}
    assert await _ledger_states(client, linked) == {"imported": 10_000}


async def test_a_run_stopped_by_refused_credentials_resumes_from_the_failed_chunk(
    client, container, linked, double
):
    await put_figures(client, linked, PERIODS)
    double.admin(
        "faults",
        {
            "failRequest": 3,
            "path": "/api/dataValueSets",
            "method": "POST",
            "action": "status",
            "status": 401,
        },
    )
    run = await push(client, container, linked, WHOLE_RANGE | {"concurrency": 1})
    assert run["status"] == "failed"
    assert [c["status"] for c in run["chunks"][:4]] == ["done", "done", "failed", "pending"]
    assert double.admin("counters")["storedValues"] == 2_000

    resumed = await client.post(
        f"/api/v1/dhis2/push-runs/{run['id']}/resume", headers=linked.headers
    )
    assert resumed.status_code == 202, resumed.text
    await join(container)
    run = await run_of(client, linked, run["id"])
    assert run["status"] == "done" and run["resumes"] == 1
    assert [c["attempts"] for c in run["chunks"]] == [1, 1, 2, 1, 1, 1, 1, 1, 1, 1]
    assert double.admin("counters")["storedValues"] == 10_000
    again = await client.post(f"/api/v1/dhis2/push-runs/{run['id']}/resume", headers=linked.headers)
    assert again.status_code == 409


async def test_a_dry_run_stores_nothing_and_the_real_run_then_sends_everything(
    client, container, linked, double
):
    await put_figures(client, linked, PERIODS[:5])  # 100 values
    dry = await push(client, container, linked, WHOLE_RANGE | {"dry_run": True})
    assert dry["status"] == "done" and dry["dry_run"]
    assert dry["totals"]["imported"] == 100
    assert double.admin("counters")["storedValues"] == 0
    assert await _ledger_states(client, linked) == {"pending": 100}
    real = await push(client, container, linked, WHOLE_RANGE)
    assert real["total_values"] == 100 and real["totals"]["imported"] == 100
    assert double.admin("counters")["storedValues"] == 100


async def test_a_second_push_is_refused_while_one_is_under_way(client, container, linked):
    await put_figures(client, linked, PERIODS[:1])
    url = f"/api/v1/dhis2/connections/{linked.connection_id}/push-runs"
    await container.queue.stop()  # hold the jobs: the first run stays under way
    first = await client.post(url, json=WHOLE_RANGE, headers=linked.headers)
    second = await client.post(url, json=WHOLE_RANGE, headers=linked.headers)
    assert first.status_code == 202
    assert second.status_code == 409 and second.json()["code"] == "dhis2_push_running"
    await container.queue.start()
    await join(container)
    assert (await run_of(client, linked, first.json()["id"]))["status"] == "done"
    third = await client.post(url, json=WHOLE_RANGE, headers=linked.headers)
    assert third.status_code == 202


async def test_bad_push_requests_list_every_problem(client, linked):
    response = await client.post(
        f"/api/v1/dhis2/connections/{linked.connection_id}/push-runs",
        json={"end": "2014-01-01", "id_scheme": "NAME", "chunk_size": 0, "concurrency": 99},
        headers=linked.headers,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"start", "id_scheme", "chunk_size", "concurrency"}


async def test_pushing_needs_the_dhis2_permission(client, auth, linked):
    nurse = await auth("demo.nurse")
    response = await client.post(
        f"/api/v1/dhis2/connections/{linked.connection_id}/push-runs",
        json=WHOLE_RANGE,
        headers=nurse,
    )
    assert response.status_code == 403
