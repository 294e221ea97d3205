"""Paged metadata with fields and lastUpdated filters, against the double."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from afiya.adapters.dhis2 import Dhis2Client
from afiya.domain.dhis2.errors import Dhis2RequestRejected
from afiya.domain.dhis2.model import MetadataResource

from .conftest import Double


async def test_all_pages_are_walked_in_a_stable_order(client: Dhis2Client, double: Double) -> None:
    units = [u async for u in client.organisation_units()]
    assert len(units) == 8  # page size 3: pages of 3, 3 and 2
    assert [u["id"] for u in units] == sorted(u["id"] for u in units)
    assert double.requests_to("GET /api/organisationUnits") == 3
    ngelehun = next(u for u in units if u["name"] == "Ngelehun CHC")
    assert ngelehun["parent"] == {"id": "YuQRtpLP10I"}
    assert ngelehun["path"] == "/ImspTQPwCqd/O6uvpzGd5pu/YuQRtpLP10I/DiszpKrYNg8"


async def test_fields_select_what_is_returned(client: Dhis2Client) -> None:
    units = [u async for u in client.organisation_units(fields="id,name,parent[id,name]")]
    assert all(set(u) <= {"id", "name", "parent"} for u in units)
    bo = next(u for u in units if u["name"] == "Badjia")
    assert bo["parent"] == {"id": "O6uvpzGd5pu", "name": "Bo"}


async def test_updated_after_returns_only_later_changes(client: Dhis2Client) -> None:
    since = datetime(2020, 1, 1, tzinfo=UTC)
    units = [u async for u in client.organisation_units(updated_after=since)]
    assert sorted(u["name"] for u in units) == ["Baomahun CHC", "Njandama MCHP", "Yengema CHP"]
    assert all(u["lastUpdated"] > "2020-01-01" for u in units)


async def test_filters_combine_with_and(client: Dhis2Client) -> None:
    units = [u async for u in client.organisation_units(filters=["level:eq:4", "name:ilike:chc"])]
    assert sorted(u["name"] for u in units) == ["Baomahun CHC", "Ngelehun CHC"]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (MetadataResource.ORGANISATION_UNIT_LEVELS, 4),
        (MetadataResource.ORGANISATION_UNIT_GROUPS, 2),
        (MetadataResource.ORGANISATION_UNIT_GROUP_SETS, 1),
        (MetadataResource.DATA_SETS, 2),
        (MetadataResource.DATA_ELEMENTS, 7),
        (MetadataResource.CATEGORY_COMBOS, 2),
        (MetadataResource.CATEGORY_OPTION_COMBOS, 3),
    ],
)
async def test_each_mapped_collection_is_fetched(
    client: Dhis2Client, resource: MetadataResource, expected: int
) -> None:
    objects = [o async for o in client.metadata(resource)]
    assert len(objects) == expected
    assert all("id" in o and "lastUpdated" in o for o in objects)


async def test_data_set_default_fields_carry_membership(client: Dhis2Client) -> None:
    data_sets = {d["id"]: d async for d in client.data_sets()}
    members = [e["dataElement"]["id"] for e in data_sets["pBOMPrpg1QX"]["dataSetElements"]]
    assert members == ["f7n9E0hX8qk", "Ix2HsbDMLea", "eY5ehpbEsB7"]
    assert data_sets["pBOMPrpg1QX"]["periodType"] == "Monthly"


async def test_malformed_filter_is_rejected(client: Dhis2Client) -> None:
    with pytest.raises(Dhis2RequestRejected) as caught:
        _ = [u async for u in client.organisation_units(filters=["level:between:1"])]
    assert caught.value.status == 400
