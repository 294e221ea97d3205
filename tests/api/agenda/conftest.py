"""Agenda API tests run with a clock the test moves (arrival windows, no-show grace)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from afiya.bootstrap import Container, build
from afiya.domain.shared.clock import FixedClock
from afiya.settings import Settings
from tests.conftest import FAST_HASHER


@pytest.fixture
def clock() -> FixedClock:
    """07:30 UTC (= Nouakchott) tomorrow: the whole working day is ahead."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return FixedClock(datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, 30, tzinfo=UTC))


@pytest.fixture
async def container(settings: Settings, clock: FixedClock) -> AsyncIterator[Container]:
    from afiya.jobs.registry import handlers

    built = build(settings, hasher=FAST_HASHER, clock=clock)
    built.runner.register_all(handlers())
    yield built
    await built.close()
