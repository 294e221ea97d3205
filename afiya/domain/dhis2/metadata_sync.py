"""Use case: pull DHIS2 metadata incrementally and reconcile org units with Afiya's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.dhis2.connections import load_connection
from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.sync_model import (
    MetadataObject,
    MetadataSyncReport,
    Reconciliation,
    ResourceSyncCount,
)
from afiya.domain.dhis2.sync_ports import ConnectionRepository, GatewayOpener, MetadataStore
from afiya.domain.orgunits.ports import OrgUnitRepository
from afiya.domain.orgunits.use_cases import import_dhis2_units
from afiya.domain.shared.clock import Clock

# Parents before children, and combos before the elements that refer to them.
SYNC_ORDER = (
    MetadataResource.ORGANISATION_UNIT_LEVELS,
    MetadataResource.ORGANISATION_UNITS,
    MetadataResource.ORGANISATION_UNIT_GROUPS,
    MetadataResource.ORGANISATION_UNIT_GROUP_SETS,
    MetadataResource.CATEGORY_COMBOS,
    MetadataResource.CATEGORY_OPTION_COMBOS,
    MetadataResource.DATA_ELEMENTS,
    MetadataResource.DATA_SETS,
)
# What Afiya asks for, beyond the defaults: periods and input windows of data sets.
FIELDS: dict[MetadataResource, str] = {
    MetadataResource.DATA_SETS: (
        "id,code,name,periodType,openFuturePeriods,expiryDays,categoryCombo[id],"
        "dataSetElements[dataElement[id]],dataInputPeriods[period[id],openingDate,closingDate],"
        "organisationUnits[id],lastUpdated"
    ),
    MetadataResource.ORGANISATION_UNIT_GROUP_SETS: (
        "id,code,name,organisationUnitGroups[id],lastUpdated"
    ),
}
BATCH = 500


def to_object(resource: MetadataResource, raw: Mapping[str, Any]) -> MetadataObject:
    """A pulled object with the fields Afiya reads pulled out of DHIS2's JSON."""
    parent = raw.get("parent")
    level = raw.get("level")
    return MetadataObject(
        resource=resource,
        uid=str(raw["id"]),
        name=str(raw.get("name") or raw.get("displayName") or raw["id"])[:230],
        code=(str(raw["code"])[:50] if raw.get("code") else None),
        last_updated=(str(raw["lastUpdated"]) if raw.get("lastUpdated") else None),
        path=(str(raw["path"]) if raw.get("path") else None),
        level=int(level) if isinstance(level, int | str) and str(level).isdigit() else None,
        parent_uid=(
            str(parent["id"]) if isinstance(parent, Mapping) and parent.get("id") else None
        ),
        data=dict(raw),
    )


def _since(cursor: str | None) -> datetime | None:
    if not cursor:
        return None
    try:
        # DHIS2 compares in its own time zone: send back its own (naive) timestamp.
        return datetime.fromisoformat(cursor.replace("Z", ""))
    except ValueError:
        return None


async def sync_metadata(
    connection_id: UUID,
    *,
    full: bool,
    update_afiya_units: bool,
    principal: Principal,
    connections: ConnectionRepository,
    metadata: MetadataStore,
    units: OrgUnitRepository,
    gateways: GatewayOpener,
    audit: AuditLog,
    clock: Clock,
) -> MetadataSyncReport:
    """Pull org units (levels, groups, group sets), data sets, data elements and combos.

    Rules: each collection is read page by page and only objects changed since the last
    sync (``lastUpdated``), unless ``full``; DHIS2 org units are then matched to Afiya's
    by uid, else by code, and the unmatched ones are reported; a unit DHIS2 moved keeps its
    match (and, with ``update_afiya_units``, the matched Afiya unit moves too, keeping its
    id and history, through the org-unit import).
    """
    authorize(principal, Permission.DHIS2_MANAGE)
    connection = await load_connection(connection_id, connections)
    secret = await connections.secret(connection_id)
    counts: list[ResourceSyncCount] = []
    moved: list[str] = []
    async with gateways.open(connection, secret) as gateway:
        for resource in SYNC_ORDER:
            cursor = None if full else await metadata.cursor(connection_id, resource)
            received = created = updated = 0
            newest = cursor or ""
            batch: list[MetadataObject] = []
            stream = gateway.metadata(
                resource, fields=FIELDS.get(resource), updated_after=_since(cursor)
            )
            while True:
                raw = await anext(stream, None)
                if raw is not None:
                    obj = to_object(resource, raw)
                    batch.append(obj)
                    received += 1
                    newest = max(newest, obj.last_updated or "")
                if batch and (raw is None or len(batch) >= BATCH):
                    made, changed, parents_changed = await metadata.upsert(connection_id, batch)
                    created, updated = created + made, updated + changed
                    moved.extend(parents_changed)
                    batch = []
                if raw is None:
                    break
            if newest:
                await metadata.set_cursor(connection_id, resource, newest, clock.now())
            counts.append(ResourceSyncCount(resource, received, created, updated))
    reconciliation = await reconcile_org_units(
        connection_id, metadata=metadata, units=units, moved=moved
    )
    applied, unit_errors = 0, cast(tuple[tuple[str, str], ...], ())
    if update_afiya_units and moved:
        matched = {o.uid: o for o in await metadata.org_units(connection_id) if o.afiya_unit_id}
        rows = [dict(matched[uid].data) for uid in moved if uid in matched]
        if rows:
            report = await import_dhis2_units(
                {"organisationUnits": rows},
                principal=principal,
                units=units,
                audit=audit,
                clock=clock,
            )
            applied, unit_errors = report.updated, report.errors
    await audit.record(
        AuditRecord(
            "dhis2.metadata.sync",
            "dhis2_connection",
            str(connection_id),
            details={
                "received": sum(c.received for c in counts),
                "unmatched_units": len(reconciliation.unmatched),
                "moved_units": len(moved),
            },
        )
    )
    return MetadataSyncReport(tuple(counts), reconciliation, applied, tuple(unit_errors))


async def reconcile_org_units(
    connection_id: UUID,
    *,
    metadata: MetadataStore,
    units: OrgUnitRepository,
    moved: list[str] | None = None,
) -> Reconciliation:
    """Match every pulled DHIS2 org unit to an Afiya unit, by uid first, then by code."""
    pulled = await metadata.org_units(connection_id)
    by_uid = await units.get_by_uids([o.uid for o in pulled])
    matches: dict[str, tuple[UUID | None, str | None]] = {}
    unmatched: list[MetadataObject] = []
    uid_count = code_count = 0
    for obj in pulled:
        unit = by_uid.get(obj.uid)
        method = "uid"
        if unit is None and obj.code:
            unit, method = await units.find_code(obj.code), "code"
        if unit is None:
            unmatched.append(obj)
            matches[obj.uid] = (None, None)
            continue
        uid_count += method == "uid"
        code_count += method == "code"
        matches[obj.uid] = (unit.id, method)
    await metadata.set_matches(connection_id, matches)
    return Reconciliation(uid_count, code_count, tuple(unmatched), tuple(moved or ()))
