"""Pushing data values: DHIS2's counts, dry runs, strategies and deletions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from afiya.adapters.dhis2 import Dhis2Client
from afiya.domain.dhis2.import_summary import ImportCount, ImportStatus
from afiya.domain.dhis2.payloads import DataValue, ImportStrategy

from .conftest import Double

NGELEHUN, YENGEMA = "DiszpKrYNg8", "FNnj3jKGS7i"
MEASLES, DYSENTERY, CHOLERA = "f7n9E0hX8qk", "Ix2HsbDMLea", "eY5ehpbEsB7"


def reference(relative: str) -> list[DataValue]:
    """A reference payload from shared/fixtures/dhis2 as data values."""
    override = os.environ.get("AFIYA_SHARED_DIR")
    base = Path(override) if override else Path(__file__).resolve().parents[3] / ".." / "shared"
    document: dict[str, Any] = json.loads(
        (base / "fixtures" / "dhis2" / relative).read_text(encoding="utf-8")
    )
    header = {k: v for k, v in document.items() if k != "dataValues"}
    return [DataValue.from_dhis2(raw, header) for raw in document["dataValues"]]


MORTALITY = "dhis2-docs/docs_dataValueSet_mortality_under5_ngelehun_201401.json"
BULK = "dhis2-docs/docs_dataValueSet_bulk_multi_orgunit_period.json"


async def test_documented_example_counts_imported_updated_and_ignored(
    client: Dhis2Client, double: Double
) -> None:
    first = await client.push_data_values(reference(MORTALITY), data_set="pBOMPrpg1QX")
    assert first.import_count == ImportCount(imported=3)
    assert first.succeeded
    assert first.http_status_code == 200
    second = await client.push_data_values(reference(BULK))
    # The docs: imported=2 updated=1 ignored=1 (Jkhdsf8sdf4 does not exist).
    assert second.import_count == ImportCount(imported=2, updated=1, ignored=1)
    assert second.status is ImportStatus.WARNING
    assert second.http_status_code == 409
    (conflict,) = second.conflicts
    assert (conflict.error_code, conflict.object, conflict.indexes) == (
        "E7612",
        "Jkhdsf8sdf4",
        (3,),
    )
    assert not conflict.retriable
    assert second.rejected(3)
    assert not second.rejected(0)
    assert double.stored(MEASLES, "201401", NGELEHUN)["value"] == "12"


async def test_resending_the_same_values_changes_nothing(client: Dhis2Client) -> None:
    values = reference(MORTALITY)
    await client.push_data_values(values)
    again = await client.push_data_values(values)
    assert again.import_count == ImportCount(ignored=3)
    assert again.succeeded
    assert again.rejected_indexes == ()


async def test_a_changed_comment_is_an_update(client: Dhis2Client) -> None:
    value = DataValue(MEASLES, "201401", NGELEHUN, value="5")
    await client.push_data_values([value])
    commented = DataValue(MEASLES, "201401", NGELEHUN, value="5", comment="vérifié par l'ACV")
    summary = await client.push_data_values([commented])
    assert summary.import_count == ImportCount(updated=1)


async def test_dry_run_counts_but_stores_nothing(client: Dhis2Client, double: Double) -> None:
    summary = await client.push_data_values(reference(MORTALITY), dry_run=True)
    assert summary.import_count == ImportCount(imported=3)
    assert summary.dry_run is True
    assert double.stored(MEASLES, "201401", NGELEHUN) is None


async def test_deletion_is_counted_and_hides_the_value(client: Dhis2Client, double: Double) -> None:
    await client.push_data_values(reference(MORTALITY))
    summary = await client.push_data_values([DataValue(MEASLES, "201401", NGELEHUN, value=None)])
    assert summary.import_count == ImportCount(deleted=1)
    assert double.stored(MEASLES, "201401", NGELEHUN)["deleted"] is True
    pulled = [
        v
        async for v in client.pull_data_values(
            data_sets=["pBOMPrpg1QX"], org_units=[NGELEHUN], periods=["201401"]
        )
    ]
    assert {v.data_element for v in pulled} == {DYSENTERY, CHOLERA}
    # Deleting again finds nothing to delete.
    again = await client.push_data_values([DataValue(MEASLES, "201401", NGELEHUN, value=None)])
    assert again.import_count == ImportCount(ignored=1)


async def test_core_delete_fixtures_with_delete_strategy(client: Dhis2Client) -> None:
    for fixture in (
        "dataValueSetJDeleteNoValue",
        "dataValueSetJDeleteZeroValue",
        "dataValueSetJDeleteNewValue",
    ):
        assert (
            await client.push_data_values(reference("dhis2-core/dataValueSetJ.json"))
        ).import_count.imported == 1
        summary = await client.push_data_values(
            reference(f"dhis2-core/{fixture}.json"), import_strategy=ImportStrategy.DELETE
        )
        assert summary.import_count == ImportCount(deleted=1), fixture


async def test_zero_deletes_when_zero_is_not_significant(client: Dhis2Client) -> None:
    await client.push_data_values(reference("dhis2-core/dataValueSetJ.json"))
    summary = await client.push_data_values(
        reference("dhis2-core/dataValueSetJDeleteZeroValue.json")
    )
    assert summary.import_count == ImportCount(deleted=1)


async def test_value_without_value_or_comment_is_a_conflict(client: Dhis2Client) -> None:
    summary = await client.push_data_values(
        reference("dhis2-core/dataValueSetJDeleteNoValue.json"),
        import_strategy=ImportStrategy.CREATE_AND_UPDATE,
    )
    # DataValue.to_dhis2 sends a value-less entry as a deletion: nothing to delete.
    assert summary.import_count == ImportCount(ignored=1)
    assert summary.conflicts == ()


@pytest.mark.parametrize(
    ("strategy", "existing", "expected", "rejected"),
    [
        (ImportStrategy.CREATE, True, ImportCount(ignored=1), (0,)),
        (ImportStrategy.CREATE, False, ImportCount(imported=1), ()),
        (ImportStrategy.UPDATE, False, ImportCount(ignored=1), (0,)),
        (ImportStrategy.UPDATE, True, ImportCount(updated=1), ()),
        (ImportStrategy.DELETE, True, ImportCount(deleted=1), ()),
        (ImportStrategy.DELETE, False, ImportCount(ignored=1), (0,)),
    ],
)
async def test_import_strategies(
    client: Dhis2Client,
    strategy: ImportStrategy,
    existing: bool,
    expected: ImportCount,
    rejected: tuple[int, ...],
) -> None:
    if existing:
        await client.push_data_values([DataValue(MEASLES, "201402", YENGEMA, value="1")])
    summary = await client.push_data_values(
        [DataValue(MEASLES, "201402", YENGEMA, value="2")], import_strategy=strategy
    )
    assert summary.import_count == expected
    assert summary.rejected_indexes == rejected


async def test_code_id_scheme_maps_codes_to_uids(client: Dhis2Client, double: Double) -> None:
    summary = await client.push_data_values(
        [DataValue("DE_F7N9E", "201402", "OU_DISZ", value="4")], id_scheme="CODE"
    )
    assert summary.import_count == ImportCount(imported=1)
    assert double.stored(MEASLES, "201402", NGELEHUN)["value"] == "4"


async def test_large_push_is_streamed_in_one_request(client: Dhis2Client, double: Double) -> None:
    double.admin(
        "metadata",
        {
            "dataElements": [
                {"id": f"De{n:09d}", "name": f"Indicator {n}", "valueType": "NUMBER"}
                for n in range(50)
            ]
        },
    )
    values = (
        DataValue(f"De{n % 50:09d}", f"2013{m:02d}", unit, value=str(n + 1))
        for n, (m, unit) in enumerate(
            (m, u) for m in range(1, 13) for u in (NGELEHUN, YENGEMA) for _ in range(250)
        )
    )
    summary = await client.push_data_values(values)
    # 1200 distinct keys, each sent five times with a new value.
    assert summary.import_count == ImportCount(imported=1200, updated=4800)
    assert double.requests_to("POST /api/dataValueSets") == 1
