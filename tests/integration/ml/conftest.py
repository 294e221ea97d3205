"""Shared, session-wide synthetic programme and models (training takes seconds, do it once)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from afiya.adapters.ml.anomaly import AnomalyModel, train_anomaly_model
from afiya.adapters.ml.audit_target import LightGbmAuditModel, train_audit_model
from afiya.adapters.ml.synthetic import SyntheticConfig, SyntheticProgramme, generate_programme
from afiya.domain.shared.clock import FixedClock

# Moderate size so the suite stays well under a minute on two busy cores.
CONFIG = SyntheticConfig(facilities=200, months=24, indicators=10, seed=20240601)
TRAIN_MONTHS = 18
CLOCK = FixedClock(datetime(2025, 1, 15, 8, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def programme() -> SyntheticProgramme:
    return generate_programme(CONFIG)


@pytest.fixture(scope="session")
def anomaly_model(programme: SyntheticProgramme) -> AnomalyModel:
    cube = programme.cube
    last = cube.periods[TRAIN_MONTHS - 1]
    return train_anomaly_model(
        cube.up_to(last, hide_outcomes_of_last=False),
        parents=programme.parents,
        last_period=last,
        clock=CLOCK,
    )


@pytest.fixture(scope="session")
def audit_model(programme: SyntheticProgramme) -> LightGbmAuditModel:
    cube = programme.cube
    last = cube.periods[TRAIN_MONTHS - 1]
    return train_audit_model(
        cube.up_to(last, hide_outcomes_of_last=False),
        parents=programme.parents,
        last_period=last,
        clock=CLOCK,
    )
