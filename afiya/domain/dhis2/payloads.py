"""Data values exchanged with DHIS2 (``/api/dataValueSets``), their hashes and chunks.

A value is identified in DHIS2 by data element, period, org unit, category option combo
and attribute option combo. Its content hash covers what Afiya decides (the value, the
comment, the follow-up flag, deletion) and leaves out what the server stamps (storedBy,
created, lastUpdated), so a sync ledger can skip values whose hash was already accepted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_CHUNK_SIZE = 1000

# ASCII unit separator: cannot appear in a DHIS2 UID or period id, so fields never blur.
_SEP = "\x1f"
# Stands for an absent field, distinct from an empty string.
_ABSENT = "\x00"


class ImportStrategy(Enum):
    """What DHIS2 does with each value (``importStrategy`` parameter)."""

    CREATE_AND_UPDATE = "CREATE_AND_UPDATE"
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


DataValueKey = tuple[str, str, str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class DataValue:
    """One aggregate data value, as DHIS2 names its parts.

    ``value`` ``None`` means "delete this value in DHIS2". A missing category option
    combo or attribute option combo means DHIS2's default combo.
    """

    data_element: str
    period: str
    org_unit: str
    category_option_combo: str | None = None
    attribute_option_combo: str | None = None
    value: str | None = None
    comment: str | None = None
    followup: bool | None = None
    stored_by: str | None = None
    created: str | None = None
    last_updated: str | None = None
    deleted: bool = False

    @property
    def key(self) -> DataValueKey:
        """What identifies the value in DHIS2."""
        return (
            self.data_element,
            self.period,
            self.org_unit,
            self.category_option_combo,
            self.attribute_option_combo,
        )

    @property
    def is_deletion(self) -> bool:
        """Whether sending this value asks DHIS2 to delete the stored one."""
        return self.deleted or self.value is None

    def to_dhis2(self) -> dict[str, Any]:
        """The JSON object DHIS2 expects in ``dataValues``.

        A deletion is sent as ``"deleted": true`` without a value: DHIS2 2.36 and later
        reject a value that has neither value nor comment unless it is marked deleted
        (conflict E7618), whatever the import strategy.
        """
        out: dict[str, Any] = {
            "dataElement": self.data_element,
            "period": self.period,
            "orgUnit": self.org_unit,
        }
        if self.category_option_combo is not None:
            out["categoryOptionCombo"] = self.category_option_combo
        if self.attribute_option_combo is not None:
            out["attributeOptionCombo"] = self.attribute_option_combo
        if self.is_deletion:
            out["deleted"] = True
        else:
            out["value"] = self.value
        if self.comment is not None:
            out["comment"] = self.comment
        if self.followup is not None:
            out["followup"] = self.followup
        return out

    @classmethod
    def from_dhis2(
        cls, raw: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
    ) -> DataValue:
        """Read one element of ``dataValues``; ``defaults`` are the set-level fields.

        DHIS2 lets a data value set carry ``period``, ``orgUnit`` and
        ``attributeOptionCombo`` once for all its values.

        Raises:
            ValueError: when the data element, period or org unit is missing.
        """
        base = defaults or {}

        def pick(name: str) -> Any:
            found = raw.get(name)
            return base.get(name) if found is None else found

        data_element, period, org_unit = pick("dataElement"), pick("period"), pick("orgUnit")
        if not data_element or not period or not org_unit:
            raise ValueError(f"data value without dataElement, period or orgUnit: {dict(raw)}")
        value = raw.get("value")
        followup = raw.get("followup", raw.get("followUp"))
        return cls(
            data_element=str(data_element),
            period=str(period),
            org_unit=str(org_unit),
            category_option_combo=_text_or_none(pick("categoryOptionCombo")),
            attribute_option_combo=_text_or_none(pick("attributeOptionCombo")),
            value=None if value is None else str(value),
            comment=_text_or_none(raw.get("comment")),
            followup=None if followup is None else _as_bool(followup),
            stored_by=_text_or_none(raw.get("storedBy")),
            created=_text_or_none(raw.get("created")),
            last_updated=_text_or_none(raw.get("lastUpdated")),
            deleted=_as_bool(raw.get("deleted", False)),
        )


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text else None


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "t", "yes")


def content_hash(value: DataValue) -> str:
    """SHA-256 (hex) of the value's identity and content, stable across runs and hosts.

    Equal for two values DHIS2 would store identically: surrounding whitespace of the
    value is ignored (DHIS2 trims it), an empty comment counts as no comment, and every
    deletion of a key hashes alike whatever stale value it still carries.
    """
    deletion = value.is_deletion
    parts = (
        value.data_element,
        value.period,
        value.org_unit,
        value.category_option_combo or _ABSENT,
        value.attribute_option_combo or _ABSENT,
        "D" if deletion else "V",
        _ABSENT if deletion or value.value is None else value.value.strip(),
        value.comment or _ABSENT,
        _ABSENT if value.followup is None else ("1" if value.followup else "0"),
    )
    return hashlib.sha256(_SEP.join(parts).encode("utf-8")).hexdigest()


def changed_values(
    values: Iterable[DataValue], known_hash: Callable[[DataValueKey], str | None]
) -> Iterator[DataValue]:
    """Yield the values whose content hash differs from the one last accepted by DHIS2.

    Args:
        values: candidate values, read lazily.
        known_hash: the hash recorded for a key when DHIS2 last accepted it, or ``None``
            when the key was never sent (a ledger lookup, or ``dict.get``).
    """
    for value in values:
        if known_hash(value.key) != content_hash(value):
            yield value


def chunked(items: Iterable[T], size: int = DEFAULT_CHUNK_SIZE) -> Iterator[list[T]]:
    """Split ``items`` into lists of ``size`` (the last may be shorter), lazily.

    Only one chunk is held in memory at a time, so a million values stream through.

    Raises:
        ValueError: when ``size`` is not positive.
    """
    if size < 1:
        raise ValueError(f"chunk size must be positive, got {size}")
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def data_value_set(
    values: Iterable[DataValue], *, data_set: str | None = None, complete_date: str | None = None
) -> dict[str, Any]:
    """A whole ``dataValueSet`` JSON document (for small payloads and tests)."""
    document: dict[str, Any] = {}
    if data_set is not None:
        document["dataSet"] = data_set
    if complete_date is not None:
        document["completeDate"] = complete_date
    document["dataValues"] = [value.to_dhis2() for value in values]
    return document
