"""Use cases: DHIS2 connections (with a connection test) and figure mappings."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.dhis2.errors import Dhis2Error
from afiya.domain.dhis2.model import MetadataResource
from afiya.domain.dhis2.sync_model import (
    Connection,
    ConnectionCheck,
    ConnectionSettings,
    FigureMapping,
    MappingSettings,
)
from afiya.domain.dhis2.sync_ports import (
    ConnectionRepository,
    GatewayOpener,
    MappingRepository,
    MetadataStore,
)
from afiya.domain.dhis2.validation import validate_connection, validate_mapping
from afiya.domain.platform.jobs import JobRequest, JobScheduler
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

NIGHTLY_JOB = "dhis2.nightly"


def next_night(now: datetime) -> datetime:
    """02:00 UTC after ``now``: the quiet hour of a rural link."""
    tonight = datetime.combine(now.date(), time(2, 0), tzinfo=UTC)
    return tonight if tonight > now else tonight + timedelta(days=1)


async def schedule_nightly(jobs: JobScheduler, connection_id: UUID, now: datetime) -> None:
    """The nightly job of a connection (metadata sync, due retries), through the outbox."""
    when = next_night(now)
    await jobs.schedule(
        JobRequest(
            NIGHTLY_JOB,
            {"connection_id": str(connection_id)},
            f"{NIGHTLY_JOB}:{connection_id}:{when.date().isoformat()}",
            run_after=when,
        )
    )


def _not_found() -> NotFound:
    return NotFound(Message(N_("DHIS2 connection not found.")), code="dhis2_connection_not_found")


async def load_connection(connection_id: UUID, connections: ConnectionRepository) -> Connection:
    connection = await connections.get(connection_id)
    if connection is None:
        raise _not_found()
    return connection


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise Conflict(
            Message(N_("The record was changed by someone else; reload it.")),
            code="version_mismatch",
            details={"current_version": current},
        )


async def create_connection(
    settings: ConnectionSettings,
    secret: str,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    jobs: JobScheduler,
    audit: AuditLog,
    clock: Clock,
) -> Connection:
    """Register a DHIS2 instance. Names are unique; the secret is stored encrypted.

    Its nightly job (incremental metadata sync, due conflict retries) is scheduled.
    """
    authorize(principal, Permission.DHIS2_MANAGE)
    errors = validate_connection(settings, secret, creating=True)
    if settings.name.strip() and await connections.find_name(settings.name.strip()):
        errors.append(FieldError("name", Message(N_("This name is already used.")), "unique"))
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    connection = Connection(
        id=uuid7(),
        settings=dataclasses.replace(
            settings, name=settings.name.strip(), base_url=settings.base_url.rstrip("/")
        ),
        created_at=now,
        updated_at=now,
    )
    await connections.add(connection, secret)
    await schedule_nightly(jobs, connection.id, now)
    await audit.record(
        AuditRecord("dhis2.connection.create", "dhis2_connection", str(connection.id))
    )
    return connection


async def update_connection(
    connection_id: UUID,
    changes: Mapping[str, Any],
    secret: str | None,
    *,
    expected_version: int | None,
    principal: Principal,
    connections: ConnectionRepository,
    audit: AuditLog,
) -> Connection:
    """Change settings or the secret; optimistic concurrency by version.

    Switching the authentication kind requires the new secret with it.
    """
    authorize(principal, Permission.DHIS2_MANAGE)
    connection = await load_connection(connection_id, connections)
    _check_version(connection.version, expected_version)
    settings = dataclasses.replace(connection.settings, **dict(changes))
    errors = validate_connection(settings, secret, creating=False)
    if settings.auth_kind is not connection.settings.auth_kind and secret is None:
        errors.append(
            FieldError(
                "secret",
                Message(N_("Changing the authentication kind needs the new secret.")),
                "required",
            )
        )
    if settings.name != connection.settings.name:
        other = await connections.find_name(settings.name.strip())
        if other is not None and other.id != connection.id:
            errors.append(FieldError("name", Message(N_("This name is already used.")), "unique"))
    if errors:
        raise ValidationFailed(errors)
    updated = await connections.update(dataclasses.replace(connection, settings=settings), secret)
    fields = sorted(changes) + (["secret"] if secret is not None else [])
    await audit.record(
        AuditRecord(
            "dhis2.connection.update",
            "dhis2_connection",
            str(connection.id),
            details={"fields": fields},
        )
    )
    return updated


async def delete_connection(
    connection_id: UUID,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    audit: AuditLog,
) -> None:
    """Soft-delete a connection; its ledger and runs stay for the record."""
    authorize(principal, Permission.DHIS2_MANAGE)
    await load_connection(connection_id, connections)
    await connections.delete(connection_id)
    await audit.record(
        AuditRecord("dhis2.connection.delete", "dhis2_connection", str(connection_id))
    )


async def check_connection(
    connection_id: UUID,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    gateways: GatewayOpener,
    audit: AuditLog,
    clock: Clock,
) -> ConnectionCheck:
    """Call ``/api/system/info`` and ``/api/me`` with the stored credentials.

    A failure is an answer, not an error: it says why (unreachable, refused credentials...)
    so the person setting up the link can fix it. The result is kept on the connection.
    """
    authorize(principal, Permission.DHIS2_MANAGE)
    connection = await load_connection(connection_id, connections)
    secret = await connections.secret(connection_id)
    try:
        async with gateways.open(connection, secret) as gateway:
            info = await gateway.system_info()
            me = await gateway.me()
        check = ConnectionCheck(
            ok=True,
            version=info.version,
            system_id=info.system_id,
            system_name=info.system_name,
            username=me.username,
            authorities=tuple(sorted(me.authorities))[:50],
            org_units=me.organisation_units,
            can_write_data=me.has_authority("F_DATAVALUE_ADD"),
        )
    except Dhis2Error as exc:
        check = ConnectionCheck(ok=False, error_code=exc.code, error=exc.message)
    await connections.record_check(connection_id, check, clock.now())
    await audit.record(
        AuditRecord(
            "dhis2.connection.test",
            "dhis2_connection",
            str(connection_id),
            details={"ok": check.ok, "error": check.error_code},
        )
    )
    return check


async def _validated(
    mapping: FigureMapping, *, metadata: MetadataStore, mappings: MappingRepository
) -> None:
    settings, cid = mapping.settings, mapping.connection_id

    async def look(resource: MetadataResource, uid: str | None) -> Any:
        return await metadata.get(cid, resource, uid) if uid else None

    errors = validate_mapping(
        settings,
        data_element=await look(MetadataResource.DATA_ELEMENTS, settings.data_element),
        category_option_combo=await look(
            MetadataResource.CATEGORY_OPTION_COMBOS, settings.category_option_combo
        ),
        attribute_option_combo=await look(
            MetadataResource.CATEGORY_OPTION_COMBOS, settings.attribute_option_combo
        ),
        data_set=await look(MetadataResource.DATA_SETS, settings.data_set),
        duplicate=await mappings.target_taken(mapping),
    )
    if errors:
        raise ValidationFailed(errors)


async def create_mapping(
    connection_id: UUID,
    settings: MappingSettings,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    metadata: MetadataStore,
    mappings: MappingRepository,
    audit: AuditLog,
) -> FigureMapping:
    """Map a figure to a data element and combos, checked against the pulled metadata."""
    authorize(principal, Permission.DHIS2_MANAGE)
    await load_connection(connection_id, connections)
    mapping = FigureMapping(uuid7(), connection_id, settings)
    await _validated(mapping, metadata=metadata, mappings=mappings)
    await mappings.add(mapping)
    await audit.record(
        AuditRecord(
            "dhis2.mapping.create",
            "dhis2_mapping",
            str(mapping.id),
            details={"figure": settings.figure, "data_element": settings.data_element},
        )
    )
    return mapping


async def update_mapping(
    mapping_id: UUID,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None,
    principal: Principal,
    metadata: MetadataStore,
    mappings: MappingRepository,
    audit: AuditLog,
) -> FigureMapping:
    """Change a mapping; it is checked again against the metadata."""
    authorize(principal, Permission.DHIS2_MANAGE)
    mapping = await mappings.get(mapping_id)
    if mapping is None:
        raise NotFound(Message(N_("Mapping not found.")), code="dhis2_mapping_not_found")
    _check_version(mapping.version, expected_version)
    changed = dataclasses.replace(
        mapping, settings=dataclasses.replace(mapping.settings, **dict(changes))
    )
    await _validated(changed, metadata=metadata, mappings=mappings)
    updated = await mappings.update(changed)
    await audit.record(
        AuditRecord(
            "dhis2.mapping.update",
            "dhis2_mapping",
            str(mapping_id),
            details={"fields": sorted(changes)},
        )
    )
    return updated


async def delete_mapping(
    mapping_id: UUID, *, principal: Principal, mappings: MappingRepository, audit: AuditLog
) -> None:
    authorize(principal, Permission.DHIS2_MANAGE)
    if await mappings.get(mapping_id) is None:
        raise NotFound(Message(N_("Mapping not found.")), code="dhis2_mapping_not_found")
    await mappings.delete(mapping_id)
    await audit.record(AuditRecord("dhis2.mapping.delete", "dhis2_mapping", str(mapping_id)))
