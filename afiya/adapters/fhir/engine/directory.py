"""FHIR Organization, Location, Practitioner and PractitionerRole (read and search).

Org units and staff are read through the same scope as ``/api/v1``: a caller sees the
units of their own sub-trees and the staff assigned there. Practitioner data is limited
to name, roles and assignments (no username, phone or credential).
"""

from __future__ import annotations

from afiya.adapters.fhir import resources as maps
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.registry import (
    Resource,
    ResourceType,
    SearchResult,
    register,
    uuid_of,
)
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import authorize, scope_of
from afiya.domain.fhir.search import (
    Criterion,
    ParamType,
    SearchRequest,
    SearchSpec,
    TokenValue,
)
from afiya.domain.orgunits.model import OrgUnit, UnitKind
from afiya.domain.shared.errors import NotFound

UNIT_SPEC = SearchSpec(
    params={
        "name": ParamType.STRING,
        "partof": ParamType.REFERENCE,
        "identifier": ParamType.TOKEN,
    },
    sorts=frozenset({"name", "_lastUpdated"}),
)
PRACTITIONER_SPEC = SearchSpec(params={"name": ParamType.STRING})
ROLE_SPEC = SearchSpec(params={"practitioner": ParamType.REFERENCE})


async def _unit(ctx: FhirContext, ident: str, location: bool) -> OrgUnit:
    unit = await ctx.uow.orgunits.get(uuid_of(ident))
    if unit is None or (location and unit.kind.value not in maps.LOCATION_KINDS):
        raise NotFound()
    authorize(ctx.principal, Permission.ORGUNITS_READ, unit.path)
    return unit


async def _facility_of(ctx: FhirContext, unit: OrgUnit) -> object:
    """The facility a location belongs to (itself for a facility)."""
    if unit.kind is UnitKind.FACILITY:
        return unit.id
    parts = unit.path.strip("/").split("/")
    found = await ctx.uow.orgunits.get_by_uids(parts)
    facility = next((u for u in found.values() if u.kind is UnitKind.FACILITY), None)
    return facility.id if facility else unit.parent_id


async def read_organization(ctx: FhirContext, ident: str) -> Resource:
    return maps.organization(await _unit(ctx, ident, location=False))


async def read_location(ctx: FhirContext, ident: str) -> Resource:
    unit = await _unit(ctx, ident, location=True)
    return maps.location(unit, await _facility_of(ctx, unit))


async def search_organizations(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    authorize(ctx.principal, Permission.ORGUNITS_READ)
    units, total = await ctx.uow.fhir.unit_page(scope_of(ctx.principal), request, None)
    return SearchResult([maps.organization(u) for u in units], total)


async def search_locations(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    authorize(ctx.principal, Permission.ORGUNITS_READ)
    units, total = await ctx.uow.fhir.unit_page(
        scope_of(ctx.principal), request, maps.LOCATION_KINDS
    )
    return SearchResult([maps.location(u, await _facility_of(ctx, u)) for u in units], total)


def _by_id(ident: str) -> SearchRequest:
    return SearchRequest(
        "Practitioner", (Criterion("_id", None, (TokenValue(None, str(uuid_of(ident))),)),), count=1
    )


async def read_practitioner(ctx: FhirContext, ident: str) -> Resource:
    authorize(ctx.principal, Permission.ORGUNITS_READ)
    found, _ = await ctx.uow.fhir.practitioner_page(
        scope_of(ctx.principal), _by_id(ident), maps.CLINICAL_ROLES
    )
    if not found:
        raise NotFound()
    return maps.practitioner(found[0])


async def search_practitioners(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    authorize(ctx.principal, Permission.ORGUNITS_READ)
    found, total = await ctx.uow.fhir.practitioner_page(
        scope_of(ctx.principal), request, maps.CLINICAL_ROLES
    )
    return SearchResult([maps.practitioner(p) for p in found], total)


async def read_role(ctx: FhirContext, ident: str) -> Resource:
    authorize(ctx.principal, Permission.ORGUNITS_READ)
    held = await ctx.uow.fhir.assignment(uuid_of(ident))
    if held is None:
        raise NotFound()
    found, _ = await ctx.uow.fhir.practitioner_page(
        scope_of(ctx.principal), _by_id(str(held[0])), maps.CLINICAL_ROLES
    )
    roles = [r for p in found for r in maps.practitioner_roles(p) if r["id"] == ident]
    if not roles:
        raise NotFound()
    return roles[0]


async def search_roles(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Roles of a page of practitioners (``total`` and ``_count`` count practitioners)."""
    authorize(ctx.principal, Permission.ORGUNITS_READ)
    wanted = [v for c in request.values("practitioner") for v in c.values]
    criteria = (
        (Criterion("_id", None, tuple(TokenValue(None, str(v)) for v in wanted)),) if wanted else ()
    )
    inner = SearchRequest("Practitioner", criteria, count=request.count, offset=request.offset)
    found, total = await ctx.uow.fhir.practitioner_page(
        scope_of(ctx.principal), inner, maps.CLINICAL_ROLES
    )
    roles = [r for p in found for r in maps.practitioner_roles(p)]
    return SearchResult(roles, total)


_UNIT_DOCS = {
    "name": "unit name or short name (starts-with, :exact, :contains)",
    "partof": "the parent unit (Organization/{id} or Location/{id})",
    "identifier": "DHIS2 uid or unit code",
}

register(
    ResourceType(
        name="Organization",
        read_permission=Permission.ORGUNITS_READ,
        search_spec=UNIT_SPEC,
        read=read_organization,
        search=search_organizations,
        param_docs=_UNIT_DOCS,
        documentation=(
            "Every org unit (country, region, district, facility, department, ward) with "
            "its DHIS2 uid and code; partOf is the parent unit. Read-only over FHIR."
        ),
    )
)
register(
    ResourceType(
        name="Location",
        read_permission=Permission.ORGUNITS_READ,
        search_spec=UNIT_SPEC,
        read=read_location,
        search=search_locations,
        param_docs=_UNIT_DOCS,
        documentation=(
            "Facilities, departments and wards (same id as their Organization); "
            "managingOrganization is the facility. No address or position is kept."
        ),
    )
)
register(
    ResourceType(
        name="Practitioner",
        read_permission=Permission.ORGUNITS_READ,
        search_spec=PRACTITIONER_SPEC,
        read=read_practitioner,
        search=search_practitioners,
        param_docs={"name": "full name (starts-with any word, :exact, :contains)"},
        documentation=(
            "Users with a clinical role (doctor, nurse, midwife, pharmacist, lab or "
            "imaging technician) assigned in the caller's units: name and roles only."
        ),
    )
)
register(
    ResourceType(
        name="PractitionerRole",
        read_permission=Permission.ORGUNITS_READ,
        search_spec=ROLE_SPEC,
        read=read_role,
        search=search_roles,
        param_docs={"practitioner": "Practitioner/{id}"},
        documentation="One per assignment of a practitioner to a unit; codes are their roles.",
    )
)
