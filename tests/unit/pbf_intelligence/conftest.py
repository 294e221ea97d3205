"""Factories for the PBF intelligence unit tests."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from afiya.domain.pbf_intelligence.model import DeclarationRecord, FacilityLevel


@pytest.fixture
def make_record() -> Callable[..., DeclarationRecord]:
    """Build a declaration with sensible defaults; override any field by keyword."""

    def build(**overrides: Any) -> DeclarationRecord:
        fields: dict[str, Any] = {
            "facility_id": "FOSA-0001",
            "district": "Kiffa",
            "level": FacilityLevel.HEALTH_CENTRE,
            "catchment_population": 12_000,
            "indicator_code": "CPN1",
            "period": "202403",
            "declared": 100,
            "tariff": Decimal("1000"),
        }
        fields.update(overrides)
        return DeclarationRecord(**fields)

    return build
