"""Asynchronous imports (job + polling) and streamed data value exports."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from afiya.adapters.dhis2 import BasicCredentials, Dhis2Client
from afiya.domain.dhis2.errors import Dhis2RequestRejected, Dhis2TaskTimeout
from afiya.domain.dhis2.import_summary import ImportCount
from afiya.domain.dhis2.payloads import DataValue
from afiya.domain.dhis2.periods import Period

from .conftest import Double

NGELEHUN, YENGEMA, BADJIA = "DiszpKrYNg8", "FNnj3jKGS7i", "YuQRtpLP10I"
MEASLES, DYSENTERY, CHOLERA = "f7n9E0hX8qk", "Ix2HsbDMLea", "eY5ehpbEsB7"


def seed_values() -> list[DataValue]:
    return [
        DataValue(MEASLES, "201401", NGELEHUN, value="12", comment="épidémie, 3 décès"),
        DataValue(DYSENTERY, "201401", NGELEHUN, value="14", followup=True),
        DataValue(CHOLERA, "201312", YENGEMA, value="16"),
        DataValue(MEASLES, "201402", YENGEMA, value="18"),
    ]


class TestAsyncImport:
    async def test_job_is_polled_until_its_summary_is_ready(
        self, client: Dhis2Client, double: Double
    ) -> None:
        summary = await client.push_data_values(seed_values(), async_=True)
        assert summary.import_count == ImportCount(imported=4)
        polls = [
            n
            for k, n in double.admin("counters")["byEndpoint"].items()
            if k.startswith("GET /api/system/tasks/DATAVALUE_IMPORT/")
        ]
        assert sum(polls) >= 2  # the job takes 0.2 s, polls every 0.05 s
        assert double.stored(MEASLES, "201401", NGELEHUN)["value"] == "12"

    async def test_conflicts_come_back_from_the_task_summary(self, client: Dhis2Client) -> None:
        values = [*seed_values(), DataValue(MEASLES, "201401", "NoSuchOU001", value="1")]
        summary = await client.push_data_values(values, async_=True)
        assert summary.import_count == ImportCount(imported=4, ignored=1)
        assert [(c.error_code, c.indexes) for c in summary.conflicts] == [("E7612", (4,))]

    async def test_slow_job_raises_a_timeout_that_names_the_job(self, double: Double) -> None:
        double.admin("config", {"asyncDelaySeconds": 1.2})
        async with Dhis2Client(
            double.base_url,
            BasicCredentials("admin", "district"),
            poll_interval=0.05,
            poll_timeout=0.3,
        ) as dhis2:
            with pytest.raises(Dhis2TaskTimeout) as caught:
                await dhis2.push_data_values(seed_values(), async_=True)
            assert caught.value.retriable
            double.admin("config", {"asyncDelaySeconds": 0})
            # The job keeps running on the server; waiting again picks up its summary.
            resumed = Dhis2Client(
                double.base_url,
                BasicCredentials("admin", "district"),
                poll_interval=0.2,
                poll_timeout=10,
            )
            async with resumed:
                summary = await resumed.wait_for_import(caught.value.job_id)
        assert summary.import_count == ImportCount(imported=4)


class TestPull:
    @pytest.mark.parametrize("fmt", ["json", "csv"])
    async def test_values_of_a_subtree_are_streamed_in_both_formats(
        self, client: Dhis2Client, fmt: str
    ) -> None:
        await client.push_data_values(seed_values())
        pulled = [
            v
            async for v in client.pull_data_values(
                data_sets=["pBOMPrpg1QX"],
                org_units=[BADJIA],
                children=True,
                start_date=date(2013, 12, 1),
                end_date=date(2014, 1, 31),
                format=fmt,  # type: ignore[arg-type]
            )
        ]
        by_key = {(v.data_element, v.period, v.org_unit): v for v in pulled}
        assert set(by_key) == {
            (MEASLES, "201401", NGELEHUN),
            (DYSENTERY, "201401", NGELEHUN),
            (CHOLERA, "201312", YENGEMA),
        }
        assert by_key[(MEASLES, "201401", NGELEHUN)].comment == "épidémie, 3 décès"
        assert by_key[(DYSENTERY, "201401", NGELEHUN)].followup is True
        assert all(v.stored_by == "admin" and v.last_updated for v in pulled)

    async def test_periods_and_children_narrow_the_export(self, client: Dhis2Client) -> None:
        await client.push_data_values(seed_values())
        only_unit = [
            v
            async for v in client.pull_data_values(
                data_sets=["pBOMPrpg1QX"],
                org_units=[BADJIA],
                children=False,
                periods=[Period.parse("201401")],
            )
        ]
        assert only_unit == []
        by_period = [
            v
            async for v in client.pull_data_values(
                data_sets=["pBOMPrpg1QX"],
                org_units=[NGELEHUN, YENGEMA],
                periods=["201402"],
            )
        ]
        assert [(v.data_element, v.value) for v in by_period] == [(MEASLES, "18")]

    async def test_updated_after_gives_only_recent_changes(
        self, client: Dhis2Client, double: Double
    ) -> None:
        await client.push_data_values(seed_values())
        later = datetime.now(UTC)
        await client.push_data_values([DataValue(MEASLES, "201402", YENGEMA, value="19")])
        changed = [
            v
            async for v in client.pull_data_values(
                data_sets=["pBOMPrpg1QX"],
                org_units=[BADJIA],
                updated_after=later,
            )
        ]
        assert [(v.period, v.value) for v in changed] == [("201402", "19")]

    async def test_query_dhis2_refuses_is_a_rejection(self, client: Dhis2Client) -> None:
        with pytest.raises(Dhis2RequestRejected) as caught:
            _ = [
                v
                async for v in client.pull_data_values(
                    data_sets=["NoSuchDS001"], org_units=[NGELEHUN], periods=["201401"]
                )
            ]
        assert caught.value.status == 409

    async def test_incomplete_query_is_refused_before_sending(self, client: Dhis2Client) -> None:
        with pytest.raises(ValueError, match="periods"):
            _ = [v async for v in client.pull_data_values(data_sets=["x"], org_units=["y"])]

    @pytest.mark.parametrize("fmt", ["json", "csv"])
    async def test_a_large_store_is_streamed_value_by_value(
        self, client: Dhis2Client, double: Double, fmt: str
    ) -> None:
        periods = [str(p) for p in Period.parse("2013").sub_periods(Period.parse("201301").type)]
        elements = [MEASLES, DYSENTERY, CHOLERA]
        units = [NGELEHUN, YENGEMA, "g8upMTyEZGZ"]
        double.admin(
            "metadata",
            {
                "organisationUnits": [
                    {"id": f"Fac{n:08d}", "name": f"Poste {n}", "parent": {"id": BADJIA}}
                    for n in range(600)
                ]
            },
        )
        units += [f"Fac{n:08d}" for n in range(600)]
        made = double.admin(
            "dataValues/generate",
            {
                "count": 20000,
                "dataElements": elements,
                "orgUnits": units,
                "periods": periods,
            },
        )["generated"]
        seen = 0
        async for value in client.pull_data_values(
            data_sets=["pBOMPrpg1QX"],
            org_units=[BADJIA],
            start_date=date(2013, 1, 1),
            end_date=date(2013, 12, 31),
            format=fmt,  # type: ignore[arg-type]
        ):
            seen += 1
            assert value.value is not None
        assert seen == made == 20000
