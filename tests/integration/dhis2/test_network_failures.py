"""Network failures in the middle of an exchange surface as retriable errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from afiya.adapters.dhis2 import Dhis2Client
from afiya.domain.dhis2.errors import Dhis2Unavailable
from afiya.domain.dhis2.import_summary import ImportCount
from afiya.domain.dhis2.payloads import DataValue, chunked

from .conftest import Double

NGELEHUN, YENGEMA = "DiszpKrYNg8", "FNnj3jKGS7i"
MEASLES, DYSENTERY, CHOLERA = "f7n9E0hX8qk", "Ix2HsbDMLea", "eY5ehpbEsB7"

VALUES = [
    DataValue(de, period, unit, value=str(n + 1))
    for n, (de, period, unit) in enumerate(
        (de, p, u)
        for de in (MEASLES, DYSENTERY, CHOLERA)
        for p in ("201310", "201311", "201312", "201401")
        for u in (NGELEHUN, YENGEMA)
    )
]


async def drain(items: AsyncIterator[Any], into: list[object]) -> None:
    """Collect items until the iterator ends or fails (what came before the failure stays)."""
    async for item in items:
        into.append(item)


@pytest.mark.parametrize("action", ["close", "reset"])
async def test_connection_dropped_mid_push_is_retriable_and_resending_is_safe(
    client: Dhis2Client, double: Double, action: str
) -> None:
    chunks = list(chunked(VALUES, 8))  # 24 values, 3 chunks
    double.admin(
        "faults",
        {"failRequest": 2, "path": "/api/dataValueSets", "method": "POST", "action": action},
    )
    first = await client.push_data_values(chunks[0])
    assert first.import_count == ImportCount(imported=8)
    with pytest.raises(Dhis2Unavailable) as caught:
        await client.push_data_values(chunks[1])
    assert caught.value.retriable
    assert double.admin("counters")["faultsTriggered"] == 1
    # The job resends the failed chunk and goes on: nothing is counted twice.
    for chunk in chunks[1:]:
        summary = await client.push_data_values(chunk)
        assert summary.import_count == ImportCount(imported=8)
    assert double.admin("counters")["storedValues"] == 24


async def test_server_error_status_is_retriable_with_its_status(
    client: Dhis2Client, double: Double
) -> None:
    double.admin(
        "faults",
        {"failRequest": 1, "path": "/api/dataValueSets", "action": "status", "status": 503},
    )
    with pytest.raises(Dhis2Unavailable) as caught:
        await client.push_data_values(VALUES[:2])
    assert caught.value.status == 503
    assert caught.value.retriable


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_export_cut_mid_stream_is_retriable(
    client: Dhis2Client, double: Double, fmt: str
) -> None:
    made = double.admin(
        "dataValues/generate",
        {
            "count": 6000,
            "dataElements": [MEASLES, DYSENTERY, CHOLERA],
            "orgUnits": [NGELEHUN, YENGEMA],
            "periods": [f"{y}{m:02d}" for y in range(1900, 2014) for m in range(1, 13)],
        },
    )["generated"]
    assert made == 6000
    double.admin(
        "faults",
        {"failRequest": 1, "path": "/api/dataValueSets", "method": "GET", "action": "truncate"},
    )
    received: list[object] = []
    pull = client.pull_data_values(
        data_sets=["pBOMPrpg1QX"],
        org_units=[NGELEHUN, YENGEMA],
        start_date=date(1900, 1, 1),
        end_date=date(2013, 12, 31),
        format=fmt,  # type: ignore[arg-type]
    )
    with pytest.raises(Dhis2Unavailable):
        await drain(pull, received)
    assert 0 < len(received) < 6000  # values before the cut were handed out already


async def test_metadata_paging_survives_a_retry_of_the_failed_page(
    client: Dhis2Client, double: Double
) -> None:
    double.admin("faults", {"failRequest": 2, "path": "/api/organisationUnits", "action": "close"})
    seen: list[object] = []
    with pytest.raises(Dhis2Unavailable):
        await drain(client.organisation_units(), seen)
    assert len(seen) == 3  # the first page arrived before the failure
    assert len([u async for u in client.organisation_units()]) == 8
