"""Read use cases of the DHIS2 exchange (every one checks ``dhis2:manage``, except the
pulled values, which PBF readers cross-check within their own sub-trees)."""

from __future__ import annotations

import dataclasses
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize, scope_of
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.dhis2.connections import load_connection
from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.sync_model import (
    Alert,
    Connection,
    FigureMapping,
    LedgerEntry,
    MetadataObject,
    PulledValue,
    PullRun,
    PushChunk,
    PushRun,
    Reconciliation,
)
from afiya.domain.dhis2.sync_ports import (
    AlertRepository,
    ConnectionRepository,
    Ledger,
    LedgerQuery,
    MappingRepository,
    MetadataStore,
    PulledValueQuery,
    PulledValueStore,
    RunStore,
)
from afiya.domain.platform.jobs import JobRequest, JobScheduler
from afiya.domain.shared.errors import FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

SYNC_JOB = "dhis2.sync_metadata"


async def get_connection(
    connection_id: UUID, *, principal: Principal, connections: ConnectionRepository
) -> Connection:
    authorize(principal, Permission.DHIS2_MANAGE)
    return await load_connection(connection_id, connections)


async def list_connections(
    *, principal: Principal, connections: ConnectionRepository
) -> list[Connection]:
    authorize(principal, Permission.DHIS2_MANAGE)
    return await connections.all()


async def request_metadata_sync(
    connection_id: UUID,
    *,
    full: bool,
    update_afiya_units: bool,
    principal: Principal,
    connections: ConnectionRepository,
    jobs: JobScheduler,
    audit: AuditLog,
) -> UUID:
    """Schedule a metadata sync; moving Afiya's own units also needs ``orgunits:import``."""
    authorize(principal, Permission.DHIS2_MANAGE)
    if update_afiya_units:
        authorize(principal, Permission.ORGUNITS_IMPORT)
    await load_connection(connection_id, connections)
    job_id = await jobs.schedule(
        JobRequest(
            SYNC_JOB,
            {
                "connection_id": str(connection_id),
                "full": full,
                "update_afiya_units": update_afiya_units,
            },
            f"{SYNC_JOB}:{connection_id}:{uuid7()}",
        )
    )
    await audit.record(
        AuditRecord("dhis2.metadata.request", "dhis2_connection", str(connection_id))
    )
    return job_id


async def browse_metadata(
    connection_id: UUID,
    resource: MetadataResource,
    *,
    search: str | None,
    unmatched_only: bool,
    after_uid: str | None,
    limit: int,
    principal: Principal,
    metadata: MetadataStore,
) -> list[MetadataObject]:
    authorize(principal, Permission.DHIS2_MANAGE)
    return await metadata.browse(
        connection_id,
        resource,
        search=search,
        unmatched_only=unmatched_only,
        after_uid=after_uid,
        limit=limit,
    )


async def org_unit_report(
    connection_id: UUID,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    metadata: MetadataStore,
) -> Reconciliation:
    """How the pulled DHIS2 org units matched Afiya's at the last sync."""
    authorize(principal, Permission.DHIS2_MANAGE)
    await load_connection(connection_id, connections)
    units = await metadata.org_units(connection_id)
    return Reconciliation(
        matched_by_uid=sum(1 for u in units if u.match_method == "uid"),
        matched_by_code=sum(1 for u in units if u.match_method == "code"),
        unmatched=tuple(u for u in units if u.afiya_unit_id is None),
    )


async def list_mappings(
    connection_id: UUID,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    mappings: MappingRepository,
) -> list[FigureMapping]:
    authorize(principal, Permission.DHIS2_MANAGE)
    await load_connection(connection_id, connections)
    return await mappings.for_connection(connection_id)


async def get_run(
    run_id: UUID, *, principal: Principal, runs: RunStore
) -> tuple[PushRun, list[PushChunk]]:
    authorize(principal, Permission.DHIS2_MANAGE)
    run = await runs.get_run(run_id)
    if run is None:
        raise NotFound(Message(N_("Push run not found.")), code="dhis2_run_not_found")
    return run, await runs.chunks(run_id)


async def list_runs(
    connection_id: UUID,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    runs: RunStore,
) -> list[PushRun]:
    authorize(principal, Permission.DHIS2_MANAGE)
    await load_connection(connection_id, connections)
    return await runs.runs(connection_id)


async def browse_ledger(
    connection_id: UUID,
    query: LedgerQuery,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    ledger: Ledger,
) -> list[LedgerEntry]:
    authorize(principal, Permission.DHIS2_MANAGE)
    await load_connection(connection_id, connections)
    return await ledger.browse(connection_id, query)


async def get_pull(pull_id: UUID, *, principal: Principal, runs: RunStore) -> PullRun:
    authorize(principal, Permission.DHIS2_MANAGE)
    run = await runs.get_pull(pull_id)
    if run is None:
        raise NotFound(Message(N_("Pull run not found.")), code="dhis2_pull_not_found")
    return run


async def list_alerts(
    connection_id: UUID,
    *,
    open_only: bool,
    principal: Principal,
    connections: ConnectionRepository,
    alerts: AlertRepository,
) -> list[Alert]:
    authorize(principal, Permission.DHIS2_MANAGE)
    await load_connection(connection_id, connections)
    return await alerts.for_connection(connection_id, open_only=open_only)


async def browse_pulled_values(
    connection_id: UUID,
    query: PulledValueQuery,
    *,
    org_unit: str | None,
    principal: Principal,
    connections: ConnectionRepository,
    metadata: MetadataStore,
    pulled: PulledValueStore,
) -> list[PulledValue]:
    """The values pulled from DHIS2, for cross-checks with PBF declarations.

    Rules: needs ``pbf:read``; the caller sees only values of DHIS2 org units matched to
    an Afiya unit inside their own sub-trees; ``org_unit`` (a DHIS2 uid) narrows to its
    DHIS2 sub-tree and must be in the pulled metadata; periods lie wholly within
    ``start``..``end``.
    """
    authorize(principal, Permission.PBF_READ)
    await load_connection(connection_id, connections)
    errors: list[FieldError] = []
    root_path = None
    if org_unit is not None:
        root = await metadata.get(connection_id, MetadataResource.ORGANISATION_UNITS, org_unit)
        if root is None or not root.path:
            errors.append(
                FieldError(
                    "org_unit",
                    Message(
                        N_("No organisation unit {uid} in the metadata pulled from DHIS2."),
                        {"uid": org_unit},
                    ),
                    "unknown",
                )
            )
        else:
            root_path = root.path
    if query.start is not None and query.end is not None and query.start > query.end:
        errors.append(
            FieldError("end", Message(N_("The last day comes before the first.")), "range")
        )
    if errors:
        raise ValidationFailed(errors)
    scoped = dataclasses.replace(
        query, root_path=root_path, unit_paths=scope_of(principal).unit_paths
    )
    return await pulled.browse(connection_id, scoped)
