"""Shared fixtures of the DHIS2 unit tests: the reference payloads in ``shared/``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def fixtures_root() -> Path:
    """``shared/fixtures/dhis2`` beside the repository, or under ``AFIYA_SHARED_DIR``."""
    override = os.environ.get("AFIYA_SHARED_DIR")
    base = Path(override) if override else Path(__file__).resolve().parents[3] / ".." / "shared"
    return (base / "fixtures" / "dhis2").resolve()


@pytest.fixture
def dhis2_fixture() -> Callable[[str], Any]:
    """Load one reference payload by its path under ``fixtures/dhis2``."""

    def load(relative: str) -> Any:
        return json.loads((fixtures_root() / relative).read_text(encoding="utf-8"))

    return load
