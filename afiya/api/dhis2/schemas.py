"""Bodies of the DHIS2 routes. Secrets go in, never out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.periods import PeriodType
from afiya.domain.dhis2.sync_model import (
    AuthKind,
    Connection,
    ConnectionCheck,
    FigureMapping,
    MetadataObject,
)

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Url = Annotated[str, msgspec.Meta(min_length=8, max_length=500)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Uid = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9]{10}$")]
FigureCode = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
PeriodId = Annotated[str, msgspec.Meta(min_length=4, max_length=20)]


class ConnectionCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    base_url: Url
    auth_kind: AuthKind
    secret: Secret
    username: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    timeout_seconds: int = 60
    page_size: int = 200
    chunk_size: int = 1000
    concurrency: int = 2
    retry_delay_seconds: int = 30
    active: bool = True


class ConnectionUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    base_url: Url | UnsetType = UNSET
    auth_kind: AuthKind | UnsetType = UNSET
    secret: Secret | UnsetType = UNSET
    username: Annotated[str, msgspec.Meta(max_length=100)] | UnsetType | None = UNSET
    timeout_seconds: int | UnsetType = UNSET
    page_size: int | UnsetType = UNSET
    chunk_size: int | UnsetType = UNSET
    concurrency: int | UnsetType = UNSET
    retry_delay_seconds: int | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    version: int | UnsetType = UNSET


class ConnectionRead(msgspec.Struct):
    id: UUID
    name: str
    base_url: str
    auth_kind: AuthKind
    username: str | None
    timeout_seconds: int
    page_size: int
    chunk_size: int
    concurrency: int
    retry_delay_seconds: int
    active: bool
    has_secret: bool
    dhis2_version: str | None
    system_id: str | None
    last_tested_at: datetime | None
    last_test_ok: bool | None
    version: int
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, c: Connection) -> ConnectionRead:
        s = c.settings
        return cls(
            id=c.id,
            name=s.name,
            base_url=s.base_url,
            auth_kind=s.auth_kind,
            username=s.username,
            timeout_seconds=s.timeout_seconds,
            page_size=s.page_size,
            chunk_size=s.chunk_size,
            concurrency=s.concurrency,
            retry_delay_seconds=s.retry_delay_seconds,
            active=s.active,
            has_secret=c.has_secret,
            dhis2_version=c.dhis2_version,
            system_id=c.system_id,
            last_tested_at=c.last_tested_at,
            last_test_ok=c.last_test_ok,
            version=c.version,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


class ConnectionCheckRead(msgspec.Struct):
    ok: bool
    version: str | None
    system_name: str | None
    username: str | None
    authorities: list[str]
    org_units: list[str]
    can_write_data: bool
    error_code: str | None
    error: str | None

    @classmethod
    def of(cls, c: ConnectionCheck, translate: Any) -> ConnectionCheckRead:
        return cls(
            ok=c.ok,
            version=c.version,
            system_name=c.system_name,
            username=c.username,
            authorities=list(c.authorities),
            org_units=list(c.org_units),
            can_write_data=c.can_write_data,
            error_code=c.error_code,
            error=c.error.render(translate) if c.error else None,
        )


class MetadataSyncRequest(msgspec.Struct, forbid_unknown_fields=True):
    full: bool = False
    update_afiya_units: bool = False


class JobAccepted(msgspec.Struct):
    job_id: UUID


class MetadataItem(msgspec.Struct):
    resource: MetadataResource
    uid: str
    name: str
    code: str | None
    level: int | None
    path: str | None
    parent_uid: str | None
    last_updated: str | None
    afiya_unit_id: UUID | None
    match_method: str | None

    @classmethod
    def of(cls, o: MetadataObject) -> MetadataItem:
        return cls(**{f: getattr(o, f) for f in cls.__struct_fields__})


class OrgUnitReportRead(msgspec.Struct):
    matched_by_uid: int
    matched_by_code: int
    unmatched: list[MetadataItem]


class MappingCreate(msgspec.Struct, forbid_unknown_fields=True):
    figure: FigureCode
    period_type: PeriodType
    data_element: Uid
    category_option_combo: Uid | None = None
    attribute_option_combo: Uid | None = None
    data_set: Uid | None = None
    source: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,40}$")] = "figure_table"
    active: bool = True


class MappingUpdate(msgspec.Struct, forbid_unknown_fields=True):
    figure: FigureCode | UnsetType = UNSET
    period_type: PeriodType | UnsetType = UNSET
    data_element: Uid | UnsetType = UNSET
    category_option_combo: Uid | UnsetType | None = UNSET
    attribute_option_combo: Uid | UnsetType | None = UNSET
    data_set: Uid | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    version: int | UnsetType = UNSET


class MappingRead(msgspec.Struct):
    id: UUID
    connection_id: UUID
    figure: str
    period_type: PeriodType
    data_element: str
    category_option_combo: str | None
    attribute_option_combo: str | None
    data_set: str | None
    source: str
    active: bool
    version: int

    @classmethod
    def of(cls, m: FigureMapping) -> MappingRead:
        s = m.settings
        return cls(
            id=m.id,
            connection_id=m.connection_id,
            version=m.version,
            **{f: getattr(s, f) for f in cls.__struct_fields__ if hasattr(s, f)},
        )


class FigureItem(msgspec.Struct, forbid_unknown_fields=True):
    figure: FigureCode
    org_unit_id: UUID
    period: PeriodId
    value: Annotated[str, msgspec.Meta(max_length=50_000)] | None
    comment: Annotated[str, msgspec.Meta(max_length=50_000)] | None = None


class FiguresPut(msgspec.Struct, forbid_unknown_fields=True):
    figures: Annotated[list[FigureItem], msgspec.Meta(min_length=1, max_length=10_000)]


class FiguresPutResult(msgspec.Struct):
    created: int
    updated: int
    unchanged: int


class FigureKey(msgspec.Struct, forbid_unknown_fields=True):
    figure: FigureCode
    org_unit_id: UUID
    period: PeriodId


class FiguresPaid(msgspec.Struct, forbid_unknown_fields=True):
    figures: Annotated[list[FigureKey], msgspec.Meta(min_length=1, max_length=10_000)]
    paid_at: datetime


class FiguresPaidResult(msgspec.Struct):
    marked: int
