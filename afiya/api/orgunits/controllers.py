"""Organisation-unit routes: CRUD and DHIS2 import."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import UNSET, UnsetType

from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.orgunits.schemas import (
    Dhis2OrgUnitImport,
    ImportReportRead,
    OrgUnitCreate,
    OrgUnitListItem,
    OrgUnitRead,
    OrgUnitUpdate,
)
from afiya.api.pagination import Page, check_limit, decode_cursor, next_cursor
from afiya.api.security import PERMISSION
from afiya.domain.access.permissions import Permission
from afiya.domain.orgunits import use_cases
from afiya.domain.orgunits.model import NewOrgUnit, OrgUnitChanges, UnitKind
from afiya.domain.orgunits.ports import OrgUnitQuery


class OrgUnitController(Controller):
    path = "/api/v1/org-units"
    tags = ["org-units"]

    @get(
        "/",
        operation_id="orgunits_list",
        summary="List organisation units",
        opt={PERMISSION: Permission.ORGUNITS_READ},
    )
    async def list_units(
        self,
        principal: CurrentPrincipal,
        uow: Uow,
        parent_id: FromQuery[UUID | None] = None,
        kind: FromQuery[UnitKind | None] = None,
        level: Annotated[int | None, QueryParameter(ge=1, le=6)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> Page[OrgUnitListItem]:
        """Units inside the caller's assigned sub-trees, in hierarchy (path) order."""
        limit = check_limit(limit)
        units = await use_cases.list_units(
            OrgUnitQuery(
                parent_id=parent_id,
                kind=kind,
                level=level,
                search=q,
                after_path=decode_cursor(cursor),
                limit=limit,
            ),
            principal=principal,
            units=uow.orgunits,
        )
        return Page(
            items=[OrgUnitListItem.of(u) for u in units],
            next_cursor=next_cursor(units, limit, lambda u: u.path),
            limit=limit,
        )

    @get(
        "/{unit_id:uuid}",
        operation_id="orgunits_get",
        summary="Read an organisation unit",
        opt={PERMISSION: Permission.ORGUNITS_READ},
    )
    async def get_unit(
        self, unit_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> OrgUnitRead:
        """A unit outside the caller's sub-trees answers 403 and the refusal is audited."""
        unit = await use_cases.get_unit(
            unit_id, principal=principal, units=uow.orgunits, audit=uow.audit
        )
        return OrgUnitRead.of(unit)

    @post(
        "/",
        operation_id="orgunits_create",
        summary="Create an organisation unit",
        opt={PERMISSION: Permission.ORGUNITS_WRITE},
    )
    async def create_unit(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[OrgUnitCreate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> OrgUnitRead:
        """The unit goes one level below its parent; uid and code must be unique."""
        unit = await use_cases.create_unit(
            NewOrgUnit(
                name=data.name,
                kind=data.kind,
                parent_id=data.parent_id,
                uid=data.uid,
                code=data.code,
                short_name=data.short_name,
                timezone=data.timezone,
                currency=data.currency,
                opening_date=data.opening_date,
            ),
            principal=principal,
            units=uow.orgunits,
            audit=uow.audit,
            clock=request.app.state.container.clock,
        )
        return OrgUnitRead.of(unit)

    @patch(
        "/{unit_id:uuid}",
        operation_id="orgunits_update",
        summary="Change an organisation unit",
        opt={PERMISSION: Permission.ORGUNITS_WRITE},
    )
    async def update_unit(
        self,
        unit_id: FromPath[UUID],
        data: JSONBody[OrgUnitUpdate],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> OrgUnitRead:
        """Send ``version`` to refuse the change if someone else changed the unit meanwhile."""
        values = {
            f: getattr(data, f)
            for f in data.__struct_fields__
            if f != "version" and getattr(data, f) is not UNSET
        }
        unit = await use_cases.update_unit(
            unit_id,
            OrgUnitChanges(**values),
            expected_version=None if isinstance(data.version, UnsetType) else data.version,
            principal=principal,
            units=uow.orgunits,
            audit=uow.audit,
        )
        return OrgUnitRead.of(unit)

    @delete(
        "/{unit_id:uuid}",
        operation_id="orgunits_delete",
        summary="Delete an organisation unit",
        opt={PERMISSION: Permission.ORGUNITS_WRITE},
    )
    async def delete_unit(
        self, unit_id: FromPath[UUID], principal: CurrentPrincipal, uow: Uow
    ) -> None:
        """Soft delete; refused while units remain below it."""
        await use_cases.delete_unit(
            unit_id, principal=principal, units=uow.orgunits, audit=uow.audit
        )

    @post(
        "/import/dhis2",
        operation_id="orgunits_import_dhis2",
        summary="Import a DHIS2 organisationUnits export",
        opt={PERMISSION: Permission.ORGUNITS_IMPORT},
        status_code=200,
        request_max_body_size=50 * 1024 * 1024,
    )
    async def import_dhis2(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Dhis2OrgUnitImport],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> ImportReportRead:
        """Creates or updates units by uid, parents first; moved units keep their history."""
        defaults = {
            k: v
            for k, v in {
                "timezone": data.default_timezone,
                "currency": data.default_currency,
            }.items()
            if v
        }
        report = await use_cases.import_dhis2_units(
            {"organisationUnits": data.organisationUnits},
            principal=principal,
            units=uow.orgunits,
            audit=uow.audit,
            clock=request.app.state.container.clock,
            defaults=defaults,
        )
        return ImportReportRead(
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            errors=[{"uid": u, "error": e} for u, e in report.errors],
        )


CONTROLLERS = [OrgUnitController]
