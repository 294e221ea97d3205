"""The sync jobs with a clock the test moves: conflict retries, pulls and payment alerts.

The outbox jobs are run one by one as a worker would, when due by the (fixed) clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from afiya.adapters.db.models.platform import JobRow
from afiya.adapters.seed.demo import SYSTEM_CONTEXT, demo_uid
from afiya.bootstrap import Container, build
from afiya.domain.dhis2.connections import create_connection, create_mapping
from afiya.domain.dhis2.figures import mark_figures_paid, put_figures
from afiya.domain.dhis2.periods import PeriodType
from afiya.domain.dhis2.pull import request_pull
from afiya.domain.dhis2.push import request_push
from afiya.domain.dhis2.queries import request_metadata_sync
from afiya.domain.dhis2.sync_model import (
    AuthKind,
    ConnectionSettings,
    Figure,
    LedgerState,
    MappingSettings,
    PullRequest,
    PushOptions,
    PushSelection,
)
from afiya.domain.dhis2.sync_ports import LedgerQuery
from afiya.domain.shared.clock import FixedClock
from afiya.jobs.dhis2 import SYSTEM
from afiya.jobs.registry import handlers
from tests.api.dhis2.conftest import add_afiya_units_to_double
from tests.conftest import FAST_HASHER

from .conftest import ADMIN, Double

MEASLES, MORTALITY = "f7n9E0hX8qk", "pBOMPrpg1QX"


@pytest.fixture
async def clocked(settings: Any) -> AsyncIterator[tuple[Container, FixedClock]]:
    clock = FixedClock(datetime(2014, 2, 10, 9, 0, tzinfo=UTC))
    container = build(settings, clock=clock, hasher=FAST_HASHER)
    container.runner.register_all(handlers())
    yield container, clock
    await container.close()


async def run_due_jobs(container: Container) -> list[str]:
    """Run every job due by the container's clock, as a worker would, until none is left."""
    ran: list[str] = []
    while True:
        now = container.clock.now()
        async with container.sessions() as session:
            due = (
                await session.execute(
                    select(JobRow.id, JobRow.name)
                    .where(
                        JobRow.status.in_(["pending", "enqueued"]),
                        (JobRow.run_after.is_(None)) | (JobRow.run_after <= now),
                    )
                    .order_by(JobRow.created_at, JobRow.id)
                )
            ).all()
        if not due:
            return ran
        for job_id, name in due:
            assert await container.runner.execute(job_id) in ("done", "skipped"), name
            ran.append(name)


async def setup(container: Container, double: Double, figures: list[Figure]) -> UUID:
    add_afiya_units_to_double(double)
    async with container.uow(SYSTEM_CONTEXT) as uow:
        r = uow.dhis2
        connection = await create_connection(
            ConnectionSettings("SNIS", double.base_url, AuthKind.BASIC, username=ADMIN.username),
            ADMIN.password,
            principal=SYSTEM,
            connections=r.connections,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=container.clock,
        )
        await request_metadata_sync(
            connection.id,
            full=False,
            update_afiya_units=False,
            principal=SYSTEM,
            connections=r.connections,
            jobs=uow.jobs,
            audit=uow.audit,
        )
        await uow.commit()
    await run_due_jobs(container)
    async with container.uow(SYSTEM_CONTEXT) as uow:
        r = uow.dhis2
        await create_mapping(
            connection.id,
            MappingSettings("hmis.measles", PeriodType.MONTHLY, MEASLES, data_set=MORTALITY),
            principal=SYSTEM,
            connections=r.connections,
            metadata=r.metadata,
            mappings=r.mappings,
            audit=uow.audit,
        )
        unit = await uow.orgunits.get_by_uid(demo_uid("CH-TZ"))
        assert unit is not None
        await put_figures(
            [Figure(f.figure, unit.id, f.period, f.value) for f in figures],
            principal=SYSTEM,
            table=r.figures,
            units=uow.orgunits,
            audit=uow.audit,
        )
        await uow.commit()
    return connection.id


async def push_now(container: Container, connection_id: UUID, start: str, end: str) -> None:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        await request_push(
            connection_id,
            PushOptions(),
            PushSelection(datetime.fromisoformat(start).date(), datetime.fromisoformat(end).date()),
            principal=SYSTEM,
            connections=uow.dhis2.connections,
            runs=uow.dhis2.runs,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=container.clock,
        )
        await uow.commit()
    await run_due_jobs(container)


async def ledger(container: Container, connection_id: UUID) -> list[Any]:
    async with container.uow(SYSTEM_CONTEXT) as uow:
        return await uow.dhis2.ledger.browse(connection_id, LedgerQuery(limit=200))


async def test_a_future_period_conflict_is_retried_after_the_period_opens(clocked, double):
    container, clock = clocked
    placeholder = UUID(int=0)
    cid = await setup(
        container,
        double,
        [
            Figure("hmis.measles", placeholder, "201401", "4"),
            Figure("hmis.measles", placeholder, "201403", "9"),
        ],
    )
    await push_now(container, cid, "2014-01-01", "2014-03-31")
    entries = {e.value.period: e for e in await ledger(container, cid)}
    assert entries["201401"].state is LedgerState.IMPORTED
    future = entries["201403"]
    assert (future.state, future.conflict_code, future.conflict_kind) == (
        LedgerState.CONFLICT,
        "E7641",
        "retriable",
    )
    assert future.retry_on == datetime(2014, 3, 1).date()  # the Mortality set opens no future
    async with container.sessions() as session:
        retry = (
            await session.execute(select(JobRow).where(JobRow.name == "dhis2.retry_conflicts"))
        ).scalar_one()
    assert retry.run_after == datetime(2014, 3, 1, 0, 5, tzinfo=UTC)
    posts = double.requests_to("POST /api/dataValueSets")

    clock.current = datetime(2014, 2, 25, 12, 0, tzinfo=UTC)  # still February: nothing to do
    await run_due_jobs(container)
    assert double.requests_to("POST /api/dataValueSets") == posts

    double.admin("config", {"today": "2014-03-01"})
    clock.current = datetime(2014, 3, 1, 1, 0, tzinfo=UTC)
    ran = await run_due_jobs(container)
    assert "dhis2.retry_conflicts" in ran and "dhis2.push_chunk" in ran
    assert double.requests_to("POST /api/dataValueSets") == posts + 1
    retried = next(e for e in await ledger(container, cid) if e.value.period == "201403")
    assert retried.state is LedgerState.IMPORTED and retried.attempts == 2
    assert double.stored(MEASLES, "201403", demo_uid("CH-TZ"))["value"] == "9"


async def test_a_paid_value_changed_in_dhis2_raises_one_alert(clocked, double):
    container, clock = clocked
    placeholder = UUID(int=0)
    periods = ["201310", "201311", "201312"]
    cid = await setup(
        container, double, [Figure("hmis.measles", placeholder, p, "12") for p in periods]
    )
    await push_now(container, cid, "2013-10-01", "2013-12-31")
    async with container.uow(SYSTEM_CONTEXT) as uow:
        unit = await uow.orgunits.get_by_uid(demo_uid("CH-TZ"))
        await mark_figures_paid(
            [("hmis.measles", unit.id, "201311")],  # type: ignore[union-attr]
            clock.now(),
            principal=SYSTEM,
            table=uow.dhis2.figures,
            units=uow.orgunits,
            audit=uow.audit,
        )
        await uow.commit()
    clock.current += timedelta(hours=1)
    await push_now(container, cid, "2013-10-01", "2013-12-31")  # records the payment
    # Someone edits two values in DHIS2: the paid one and an unpaid one.
    from afiya.adapters.dhis2 import Dhis2Client
    from afiya.domain.dhis2.payloads import DataValue

    async with Dhis2Client(double.base_url, ADMIN) as dhis2:
        for period in ("201311", "201312"):
            await dhis2.push_data_values(
                [DataValue(MEASLES, period, demo_uid("CH-TZ"), value="30")]
            )

    async def pull() -> Any:
        async with container.uow(SYSTEM_CONTEXT) as uow:
            run = await request_pull(
                cid,
                PullRequest(MORTALITY, "ImspTQPwCqd", periods=tuple(periods)),
                principal=SYSTEM,
                connections=uow.dhis2.connections,
                runs=uow.dhis2.runs,
                jobs=uow.jobs,
                audit=uow.audit,
                clock=clock,
            )
            await uow.commit()
        await run_due_jobs(container)
        async with container.uow(SYSTEM_CONTEXT) as uow:
            return await uow.dhis2.runs.get_pull(run.id), await uow.dhis2.alerts.for_connection(cid)

    done, alerts = await pull()
    assert done.status.value == "done" and done.received == 3 and done.alerts == 1
    (alert,) = alerts
    assert alert.kind == "changed_after_payment"
    assert (alert.expected, alert.found) == ("12", "30")
    assert alert.value_key.split("|")[:3] == [MEASLES, "201311", demo_uid("CH-TZ")]
    again, alerts = await pull()
    assert again.alerts == 0 and len(alerts) == 1  # raised once, not at every pull
