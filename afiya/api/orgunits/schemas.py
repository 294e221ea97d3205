"""Bodies of the organisation-unit routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from afiya.domain.orgunits.model import OrgUnit, UnitKind

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=230)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Uid = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9]{10}$")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^(MRU|XOF)$")]


class OrgUnitCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kind: UnitKind
    parent_id: UUID | None = None
    uid: Uid | None = None
    code: Code | None = None
    short_name: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    currency: Currency | None = None
    opening_date: date | None = None


class OrgUnitUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    short_name: Annotated[str, msgspec.Meta(max_length=50)] | UnsetType = UNSET
    code: Code | UnsetType = UNSET
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    opening_date: date | UnsetType = UNSET
    closed_date: date | UnsetType = UNSET
    version: int | UnsetType = UNSET


class OrgUnitRead(msgspec.Struct):
    id: UUID
    uid: str
    code: str | None
    name: str
    short_name: str | None
    kind: UnitKind
    level: int
    path: str
    parent_id: UUID | None
    timezone: str | None
    currency: str | None
    opening_date: date | None
    closed_date: date | None
    version: int
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, unit: OrgUnit) -> OrgUnitRead:
        return cls(**{f: getattr(unit, f) for f in cls.__struct_fields__})


class OrgUnitListItem(msgspec.Struct):
    id: UUID
    uid: str
    code: str | None
    name: str
    kind: UnitKind
    level: int
    parent_id: UUID | None

    @classmethod
    def of(cls, unit: OrgUnit) -> OrgUnitListItem:
        return cls(**{f: getattr(unit, f) for f in cls.__struct_fields__})


class Dhis2OrgUnitImport(msgspec.Struct, forbid_unknown_fields=False):
    """A DHIS2 metadata export; only ``organisationUnits`` is read."""

    organisationUnits: list[dict[str, Any]]
    default_timezone: str | None = None
    default_currency: Currency | None = None


class ImportReportRead(msgspec.Struct):
    created: int
    updated: int
    unchanged: int
    errors: list[dict[str, str]]
