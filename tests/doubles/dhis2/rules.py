"""Value checks and conflict bookkeeping of the DHIS2 double's import."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

VALUE_ERRORS = {
    "value_not_numeric": "Data value is not numeric",
    "value_not_integer": "Data value is not an integer",
    "value_not_positive_integer": "Data value is not a positive integer",
    "value_not_negative_integer": "Data value is not a negative integer",
    "value_not_zero_or_positive_integer": "Data value is not zero or positive integer",
    "value_not_percentage": "Data value is not a percentage",
    "value_not_unit_interval": "Data value is not a unit interval",
    "value_not_bool": "Data value is not boolean",
    "value_not_true_only": "Data value is not true (true-only value type)",
    "value_not_valid_date": "Data value is not a valid date",
    "value_length_greater_than_max_length": "Data value length is greater than the maximum",
}
NUMERIC = {
    "NUMBER",
    "INTEGER",
    "INTEGER_POSITIVE",
    "INTEGER_NEGATIVE",
    "INTEGER_ZERO_OR_POSITIVE",
    "PERCENTAGE",
    "UNIT_INTERVAL",
}
_INT = re.compile(r"[+-]?\d+")
MAX_TEXT = 50000


def number(value: str) -> float | None:
    """The value as a finite number, or ``None`` (DHIS2 refuses NaN and infinities)."""
    try:
        parsed = float(value)
    except ValueError:
        return None
    return parsed if math.isfinite(parsed) else None


def value_error(value_type: str, value: str) -> str | None:
    """DHIS2's error key for a value that does not fit the data element's type."""
    amount = number(value)
    checks = {
        "NUMBER": ("value_not_numeric", amount is not None),
        "INTEGER": ("value_not_integer", bool(_INT.fullmatch(value))),
        "INTEGER_POSITIVE": (
            "value_not_positive_integer",
            bool(_INT.fullmatch(value)) and int(value) > 0,
        ),
        "INTEGER_NEGATIVE": (
            "value_not_negative_integer",
            bool(_INT.fullmatch(value)) and int(value) < 0,
        ),
        "INTEGER_ZERO_OR_POSITIVE": (
            "value_not_zero_or_positive_integer",
            bool(_INT.fullmatch(value)) and int(value) >= 0,
        ),
        "PERCENTAGE": ("value_not_percentage", amount is not None and 0 <= amount <= 100),
        "UNIT_INTERVAL": ("value_not_unit_interval", amount is not None and 0 <= amount <= 1),
        "BOOLEAN": ("value_not_bool", value.lower() in ("true", "false", "1", "0", "t", "f")),
        "TRUE_ONLY": ("value_not_true_only", value.lower() in ("true", "1", "t")),
        "DATE": ("value_not_valid_date", bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))),
    }
    key, ok = checks.get(value_type, ("value_length_greater_than_max_length", True))
    if value_type in ("TEXT", "LONG_TEXT") and len(value) > MAX_TEXT:
        return "value_length_greater_than_max_length"
    return None if ok else key


def normalise(value_type: str, value: str) -> str:
    if value_type in ("BOOLEAN", "TRUE_ONLY"):
        return "true" if value.lower() in ("true", "1", "t") else "false"
    return value


@dataclass
class ImportOptions:
    strategy: str = "CREATE_AND_UPDATE"
    dry_run: bool = False
    async_: bool = False
    id_scheme: str = "UID"
    data_element_id_scheme: str | None = None
    org_unit_id_scheme: str | None = None
    category_option_combo_id_scheme: str | None = None
    data_set_id_scheme: str | None = None
    strict_data_elements: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "idSchemes": {},
            "dryRun": self.dry_run,
            "async": self.async_,
            "importStrategy": self.strategy,
            "mergeMode": "REPLACE",
            "reportMode": "FULL",
            "skipExistingCheck": False,
            "strictDataElements": self.strict_data_elements,
        }


@dataclass
class Conflicts:
    legacy: bool
    items: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)

    def add(
        self, index: int | None, code: str, prop: str | None, message: str, **objects: str
    ) -> None:
        key = (code, tuple(objects.items()))
        conflict = self.items.get(key)
        if conflict is None:
            conflict = {
                "object": next(iter(objects.values()), None),
                "objects": dict(objects),
                "value": message,
                "errorCode": code,
                "property": prop,
                "indexes": [],
            }
            self.items[key] = conflict
        if index is not None:
            conflict["indexes"].append(index)

    def as_json(self) -> list[dict[str, Any]]:
        if self.legacy:
            return [{"object": c["object"], "value": c["value"]} for c in self.items.values()]
        return list(self.items.values())
