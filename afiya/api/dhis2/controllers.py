"""DHIS2 routes: connections, metadata, mappings and figures (sync routes: ``sync.py``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import UNSET

from afiya.adapters.dhis2.connections import gateway_opener
from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.dhis2.schemas import (
    ConnectionCheckRead,
    ConnectionCreate,
    ConnectionRead,
    ConnectionUpdate,
    FiguresPaid,
    FiguresPaidResult,
    FiguresPut,
    FiguresPutResult,
    JobAccepted,
    MappingCreate,
    MappingRead,
    MappingUpdate,
    MetadataItem,
    MetadataSyncRequest,
    OrgUnitReportRead,
)
from afiya.api.dhis2.sync import SYNC_CONTROLLERS
from afiya.api.i18n import request_translator
from afiya.api.pagination import Page, check_limit, decode_cursor, next_cursor
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.dhis2 import connections as use_cases
from afiya.domain.dhis2 import figures, queries
from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.sync_model import ConnectionSettings, Figure, MappingSettings

MANAGE = {PERMISSION: Permission.DHIS2_MANAGE}


def _gateways(request: Request[Any, Any, Any]) -> Any:
    return gateway_opener(request.app.state.container)


def _set(data: Any, skip: tuple[str, ...] = ("version",)) -> dict[str, Any]:
    return {
        f: getattr(data, f)
        for f in data.__struct_fields__
        if f not in skip and getattr(data, f) is not UNSET
    }


class ConnectionController(Controller):
    path = "/api/v1/dhis2/connections"
    tags = ["dhis2"]

    @post(
        "/", operation_id="dhis2_connections_create", summary="Add a DHIS2 connection", opt=MANAGE
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ConnectionCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> ConnectionRead:
        """Base URL, basic credentials or a personal access token (stored encrypted), limits."""
        values = _set(data, skip=("secret",))
        connection = await use_cases.create_connection(
            ConnectionSettings(**values),
            data.secret,
            principal=principal,
            connections=uow.dhis2.connections,
            jobs=uow.jobs,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return ConnectionRead.of(connection)

    @get("/", operation_id="dhis2_connections_list", summary="List DHIS2 connections", opt=MANAGE)
    async def list_connections(self, principal: CurrentPrincipal, uow: Uow) -> list[ConnectionRead]:
        """Every connection of the deployment; secrets are never returned."""
        found = await queries.list_connections(
            principal=principal, connections=uow.dhis2.connections
        )
        return [ConnectionRead.of(c) for c in found]

    @get(
        "/{connection_id:uuid}",
        operation_id="dhis2_connections_get",
        summary="Read a DHIS2 connection",
        opt=MANAGE,
    )
    async def get_connection(
        self, connection_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> ConnectionRead:
        """Settings and the result of the last connection test."""
        connection = await queries.get_connection(
            connection_id, principal=principal, connections=uow.dhis2.connections
        )
        return ConnectionRead.of(connection)

    @patch(
        "/{connection_id:uuid}",
        operation_id="dhis2_connections_update",
        summary="Change a DHIS2 connection",
        opt=MANAGE,
    )
    async def update(
        self,
        connection_id: FromPath[UUID],
        data: JSONBody[ConnectionUpdate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> ConnectionRead:
        """Send ``version`` to refuse the change if someone else changed it meanwhile."""
        connection = await use_cases.update_connection(
            connection_id,
            _set(data, skip=("version", "secret")),
            None if data.secret is UNSET else data.secret,
            expected_version=None if data.version is UNSET else data.version,
            principal=principal,
            connections=uow.dhis2.connections,
            audit=uow.audit,
        )
        return ConnectionRead.of(connection)

    @delete(
        "/{connection_id:uuid}",
        operation_id="dhis2_connections_delete",
        summary="Remove a DHIS2 connection",
        opt=MANAGE,
    )
    async def remove(
        self, connection_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> None:
        """Soft delete: its ledger and runs stay for the record."""
        await use_cases.delete_connection(
            connection_id, principal=principal, connections=uow.dhis2.connections, audit=uow.audit
        )

    @post(
        "/{connection_id:uuid}/test",
        operation_id="dhis2_connections_test",
        summary="Test a DHIS2 connection",
        opt=MANAGE,
        status_code=200,
    )
    async def test(
        self,
        request: Request[Any, Any, Any],
        connection_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> ConnectionCheckRead:
        """Calls ``/api/system/info`` and ``/api/me``; a failure says why (``ok: false``)."""
        check = await use_cases.check_connection(
            connection_id,
            principal=principal,
            connections=uow.dhis2.connections,
            gateways=_gateways(request),
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return ConnectionCheckRead.of(check, request_translator(request))

    @post(
        "/{connection_id:uuid}/metadata-sync",
        operation_id="dhis2_metadata_sync",
        summary="Pull DHIS2 metadata",
        opt=MANAGE,
        status_code=202,
    )
    async def sync(
        self,
        connection_id: FromPath[UUID],
        data: JSONBody[MetadataSyncRequest],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> JobAccepted:
        """Incremental (``lastUpdated``) unless ``full``; runs as a job, then org units are
        matched to Afiya's by uid or code."""
        job_id = await queries.request_metadata_sync(
            connection_id,
            full=data.full,
            update_afiya_units=data.update_afiya_units,
            principal=principal,
            connections=uow.dhis2.connections,
            jobs=uow.jobs,
            audit=uow.audit,
        )
        return JobAccepted(job_id)

    @get(
        "/{connection_id:uuid}/metadata/{resource:str}",
        operation_id="dhis2_metadata_list",
        summary="Browse pulled DHIS2 metadata",
        opt=MANAGE,
    )
    async def metadata(
        self,
        connection_id: FromPath[UUID],
        resource: FromPath[MetadataResource],
        principal: CurrentPrincipal,
        uow: Uow,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        unmatched: FromQuery[bool] = False,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> Page[MetadataItem]:
        """Objects of one collection in uid order; ``unmatched`` keeps org units without an
        Afiya match."""
        limit = check_limit(limit)
        found = await queries.browse_metadata(
            connection_id,
            resource,
            search=q,
            unmatched_only=unmatched,
            after_uid=decode_cursor(cursor),
            limit=limit,
            principal=principal,
            metadata=uow.dhis2.metadata,
        )
        return Page(
            items=[MetadataItem.of(o) for o in found],
            next_cursor=next_cursor(found, limit, lambda o: o.uid),
            limit=limit,
        )

    @get(
        "/{connection_id:uuid}/org-unit-report",
        operation_id="dhis2_org_unit_report",
        summary="DHIS2 org units matched to Afiya's",
        opt=MANAGE,
    )
    async def org_unit_report(
        self, connection_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> OrgUnitReportRead:
        """Counts matched by uid and by code, and every DHIS2 unit that matched nothing."""
        report = await queries.org_unit_report(
            connection_id,
            principal=principal,
            connections=uow.dhis2.connections,
            metadata=uow.dhis2.metadata,
        )
        return OrgUnitReportRead(
            report.matched_by_uid,
            report.matched_by_code,
            [MetadataItem.of(o) for o in report.unmatched],
        )

    @post(
        "/{connection_id:uuid}/mappings",
        operation_id="dhis2_mappings_create",
        summary="Map a figure to DHIS2",
        opt=MANAGE,
    )
    async def create_mapping(
        self,
        connection_id: FromPath[UUID],
        data: JSONBody[MappingCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> MappingRead:
        """Checked against the pulled metadata: element, combos, data set and period type."""
        mapping = await use_cases.create_mapping(
            connection_id,
            MappingSettings(**_set(data)),
            principal=principal,
            connections=uow.dhis2.connections,
            metadata=uow.dhis2.metadata,
            mappings=uow.dhis2.mappings,
            audit=uow.audit,
        )
        return MappingRead.of(mapping)

    @get(
        "/{connection_id:uuid}/mappings",
        operation_id="dhis2_mappings_list",
        summary="List figure mappings",
        opt=MANAGE,
    )
    async def list_mappings(
        self, connection_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> list[MappingRead]:
        """Every live mapping of the connection, by figure."""
        found = await queries.list_mappings(
            connection_id,
            principal=principal,
            connections=uow.dhis2.connections,
            mappings=uow.dhis2.mappings,
        )
        return [MappingRead.of(m) for m in found]


class MappingController(Controller):
    path = "/api/v1/dhis2/mappings"
    tags = ["dhis2"]

    @patch(
        "/{mapping_id:uuid}",
        operation_id="dhis2_mappings_update",
        summary="Change a figure mapping",
        opt=MANAGE,
    )
    async def update(
        self,
        mapping_id: FromPath[UUID],
        data: JSONBody[MappingUpdate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> MappingRead:
        """Checked again against the metadata; ``version`` guards concurrent edits."""
        mapping = await use_cases.update_mapping(
            mapping_id,
            _set(data),
            expected_version=None if data.version is UNSET else data.version,
            principal=principal,
            metadata=uow.dhis2.metadata,
            mappings=uow.dhis2.mappings,
            audit=uow.audit,
        )
        return MappingRead.of(mapping)

    @delete(
        "/{mapping_id:uuid}",
        operation_id="dhis2_mappings_delete",
        summary="Remove a figure mapping",
        opt=MANAGE,
    )
    async def remove(
        self, mapping_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> None:
        """The figure is no longer pushed; what was sent stays in the ledger."""
        await use_cases.delete_mapping(
            mapping_id, principal=principal, mappings=uow.dhis2.mappings, audit=uow.audit
        )


class FigureController(Controller):
    path = "/api/v1/dhis2/figures"
    tags = ["dhis2"]

    @put("/", operation_id="dhis2_figures_put", summary="Write figures to push", opt=MANAGE)
    async def put_figures(
        self, data: JSONBody[FiguresPut], principal: CurrentPrincipal, uow: Uow
    ) -> FiguresPutResult:
        """Create or replace figures (code, Afiya unit, DHIS2 period); every invalid item
        is listed."""
        created, updated, unchanged = await figures.put_figures(
            [Figure(f.figure, f.org_unit_id, f.period, f.value, f.comment) for f in data.figures],
            principal=principal,
            table=uow.dhis2.figures,
            units=uow.orgunits,
            audit=uow.audit,
        )
        return FiguresPutResult(created, updated, unchanged)

    @post(
        "/paid",
        operation_id="dhis2_figures_paid",
        summary="Record payment on figures",
        opt=MANAGE,
        status_code=200,
    )
    async def paid(
        self, data: JSONBody[FiguresPaid], principal: CurrentPrincipal, uow: Uow
    ) -> FiguresPaidResult:
        """After payment, a change of the value in DHIS2 raises an alert at the next pull."""
        marked = await figures.mark_figures_paid(
            [(f.figure, f.org_unit_id, f.period) for f in data.figures],
            data.paid_at,
            principal=principal,
            table=uow.dhis2.figures,
            units=uow.orgunits,
            audit=uow.audit,
        )
        return FiguresPaidResult(marked)


CONTROLLERS = [ConnectionController, MappingController, FigureController, *SYNC_CONTROLLERS]
