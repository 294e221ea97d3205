"""Organisation-unit entities and value objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID


class UnitKind(StrEnum):
    COUNTRY = "country"
    REGION = "region"  # wilaya
    DISTRICT = "district"  # moughataa
    FACILITY = "facility"  # FOSA: hospital, health centre, health post
    DEPARTMENT = "department"  # service
    WARD = "ward"


LEVEL_OF_KIND: dict[UnitKind, int] = {
    UnitKind.COUNTRY: 1,
    UnitKind.REGION: 2,
    UnitKind.DISTRICT: 3,
    UnitKind.FACILITY: 4,
    UnitKind.DEPARTMENT: 5,
    UnitKind.WARD: 6,
}
KIND_OF_LEVEL = {level: kind for kind, level in LEVEL_OF_KIND.items()}

CURRENCIES = frozenset({"MRU", "XOF"})


@dataclass(frozen=True, slots=True)
class OrgUnit:
    id: UUID
    uid: str  # DHIS2-compatible 11-character id
    code: str | None
    name: str
    short_name: str | None
    kind: UnitKind
    level: int
    path: str  # "/uid1/uid2/.../uidN/"
    parent_id: UUID | None
    timezone: str | None
    currency: str | None
    opening_date: date | None = None
    closed_date: date | None = None
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def parent_path(self) -> str | None:
        parts = self.path.strip("/").split("/")
        if len(parts) <= 1:
            return None
        return "/" + "/".join(parts[:-1]) + "/"


@dataclass(frozen=True, slots=True)
class NewOrgUnit:
    """What a caller supplies to create a unit (the uid is generated when absent)."""

    name: str
    kind: UnitKind
    parent_id: UUID | None
    uid: str | None = None
    code: str | None = None
    short_name: str | None = None
    timezone: str | None = None
    currency: str | None = None
    opening_date: date | None = None


@dataclass(frozen=True, slots=True)
class OrgUnitChanges:
    """Fields a caller may change; ``None`` leaves a field as it is."""

    name: str | None = None
    short_name: str | None = None
    code: str | None = None
    timezone: str | None = None
    currency: str | None = None
    opening_date: date | None = None
    closed_date: date | None = None


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int
    errors: tuple[tuple[str, str], ...]  # (uid, message)
