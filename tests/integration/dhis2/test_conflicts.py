"""Conflicts DHIS2 reports per value, and how Afiya classifies them."""

from __future__ import annotations

from afiya.adapters.dhis2 import BasicCredentials, Dhis2Client
from afiya.domain.dhis2.conflicts import RetryCondition
from afiya.domain.dhis2.import_summary import ImportCount, ImportStatus
from afiya.domain.dhis2.payloads import DataValue

from .conftest import Double

NGELEHUN, BAOMAHUN = "DiszpKrYNg8", "FLjwMPWLrL2"
MEASLES, MALARIA_REFERRALS = "f7n9E0hX8qk", "vANAXwtLwcT"
MORTALITY = "pBOMPrpg1QX"


async def test_unknown_ids_and_bad_values_are_blocking_with_indexes(client: Dhis2Client) -> None:
    summary = await client.push_data_values(
        [
            DataValue("NoSuchDE001", "201401", NGELEHUN, value="1"),
            DataValue(MEASLES, "2014W60", NGELEHUN, value="1"),
            DataValue(MEASLES, "201401", "NoSuchOU001", value="1"),
            DataValue(MALARIA_REFERRALS, "201401", NGELEHUN, value="-3"),
            DataValue(MEASLES, "201401", NGELEHUN, value="7"),
            DataValue("NoSuchDE001", "201312", NGELEHUN, value="2"),
        ]
    )
    assert summary.import_count == ImportCount(imported=1, ignored=5)
    by_code = {c.error_code: c for c in summary.conflicts}
    assert set(by_code) == {"E7610", "E7611", "E7612", "E7619"}
    assert by_code["E7610"].indexes == (0, 5)  # grouped: same code, same object
    assert by_code["E7619"].objects["value"] == "value_not_positive_integer"
    assert summary.blocking_conflicts == summary.conflicts
    assert summary.rejected_indexes == (0, 1, 2, 3, 5)


async def test_future_period_is_retriable_once_it_opens(
    client: Dhis2Client, double: Double
) -> None:
    future = DataValue(MEASLES, "201403", NGELEHUN, value="9")  # today is 10 Feb 2014
    summary = await client.push_data_values([future])
    (conflict,) = summary.conflicts
    assert conflict.error_code == "E7641"
    assert conflict.retriable
    assert conflict.rule.retry is RetryCondition.PERIOD_OPENS
    double.admin("config", {"today": "2014-03-01"})
    assert (await client.push_data_values([future])).import_count == ImportCount(imported=1)


async def test_expired_period_needs_a_lock_exception(client: Dhis2Client, double: Double) -> None:
    double.admin("metadata", {"dataSets": [{**demo_data_set(), "expiryDays": 15}]})
    late = DataValue(MEASLES, "201312", NGELEHUN, value="3")
    summary = await client.push_data_values([late], data_set=MORTALITY)
    (conflict,) = summary.conflicts
    assert conflict.error_code == "E7640"
    assert conflict.rule.retry is RetryCondition.LOCK_EXCEPTION
    double.admin(
        "lockExceptions", [{"dataSet": MORTALITY, "period": "201312", "orgUnit": NGELEHUN}]
    )
    accepted = await client.push_data_values([late], data_set=MORTALITY)
    assert accepted.import_count == ImportCount(imported=1)


async def test_approved_data_cannot_change(client: Dhis2Client, double: Double) -> None:
    double.admin("approvals", [{"dataSet": MORTALITY, "period": "201401", "orgUnit": NGELEHUN}])
    summary = await client.push_data_values([DataValue(MEASLES, "201401", NGELEHUN, value="1")])
    assert [c.error_code for c in summary.retriable_conflicts] == ["E7642"]


async def test_closed_input_period_is_reported(client: Dhis2Client, double: Double) -> None:
    data_set = {
        **demo_data_set(),
        "dataInputPeriods": [
            {"period": {"id": "201401"}, "openingDate": "2014-02-01", "closingDate": "2014-02-05"}
        ],
    }
    double.admin("metadata", {"dataSets": [data_set]})
    summary = await client.push_data_values([DataValue(MEASLES, "201401", NGELEHUN, value="1")])
    assert [c.error_code for c in summary.conflicts] == ["E7643"]


async def test_org_unit_outside_the_users_hierarchy(double: Double) -> None:
    async with Dhis2Client(double.base_url, BasicCredentials("ngelehun", "Ngelehun-2026")) as c:
        summary = await c.push_data_values(
            [
                DataValue(MEASLES, "201401", NGELEHUN, value="1"),
                DataValue(MEASLES, "201401", BAOMAHUN, value="1"),
            ]
        )
    assert summary.import_count == ImportCount(imported=1, ignored=1)
    assert [(c.error_code, c.indexes) for c in summary.conflicts] == [("E7617", (1,))]


async def test_unknown_data_set_aborts_the_whole_payload(client: Dhis2Client) -> None:
    summary = await client.push_data_values(
        [DataValue(MEASLES, "201401", NGELEHUN, value="1")], data_set="NoSuchDS001"
    )
    assert summary.status is ImportStatus.ERROR
    assert summary.aborted
    assert summary.http_status_code == 409
    assert summary.import_count == ImportCount()
    assert [c.error_code for c in summary.conflicts] == ["E7600"]


async def test_legacy_server_without_codes_is_still_classified(
    client: Dhis2Client, double: Double
) -> None:
    double.admin("config", {"legacy": True})
    summary = await client.push_data_values(
        [
            DataValue(MEASLES, "201403", NGELEHUN, value="1"),
            DataValue(MEASLES, "201401", "NoSuchOU001", value="1"),
        ]
    )
    assert summary.http_status_code is None  # bare summary, HTTP 200
    assert all(c.error_code is None for c in summary.conflicts)
    assert sorted(c.rule.code for c in summary.conflicts) == ["E7612", "E7641"]
    assert [c.rule.code for c in summary.retriable_conflicts] == ["E7641"]


def demo_data_set() -> dict[str, object]:
    """The demo Mortality < 5 data set, as seeded."""
    return {
        "id": MORTALITY,
        "name": "Mortality < 5 years",
        "periodType": "Monthly",
        "openFuturePeriods": 0,
        "dataSetElements": [
            {"dataElement": {"id": de}} for de in (MEASLES, "Ix2HsbDMLea", "eY5ehpbEsB7")
        ],
    }
