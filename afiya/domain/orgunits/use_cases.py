"""Use cases of the organisation-unit module."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize, in_scope, scope_of
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.orgunits.model import (
    KIND_OF_LEVEL,
    LEVEL_OF_KIND,
    ImportReport,
    NewOrgUnit,
    OrgUnit,
    OrgUnitChanges,
    UnitKind,
)
from afiya.domain.orgunits.ports import OrgUnitQuery, OrgUnitRepository
from afiya.domain.orgunits.rules import (
    child_path,
    generate_uid,
    is_valid_uid,
    validate_new_unit,
    validate_settings,
)
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7


async def get_unit(
    unit_id: UUID, *, principal: Principal, units: OrgUnitRepository, audit: AuditLog
) -> OrgUnit:
    """Read one unit. Outside the caller's sub-trees it is refused, and the refusal audited."""
    unit = await units.get(unit_id)
    if unit is None:
        raise NotFound(Message(N_("Organisation unit not found.")))
    authorize(principal, Permission.ORGUNITS_READ, unit.path)
    return unit


async def list_units(
    query: OrgUnitQuery, *, principal: Principal, units: OrgUnitRepository
) -> list[OrgUnit]:
    """List units inside the caller's sub-trees, ordered by path (stable keyset order)."""
    authorize(principal, Permission.ORGUNITS_READ)
    return await units.list(scope_of(principal), query)


async def create_unit(
    new: NewOrgUnit,
    *,
    principal: Principal,
    units: OrgUnitRepository,
    audit: AuditLog,
    clock: Clock,
) -> OrgUnit:
    """Create a unit under a parent in the caller's scope.

    Rules: the kind sits exactly one level below the parent's; uid (DHIS2 format) and code
    are unique; facilities carry a currency (their own or inherited) and may set a time zone.
    Only a caller assigned to the whole country may create a country.
    """
    parent = await units.get(new.parent_id) if new.parent_id else None
    if new.parent_id and parent is None:
        raise ValidationFailed(
            [FieldError("parent_id", Message(N_("The parent unit does not exist.")), "not_found")]
        )
    authorize(principal, Permission.ORGUNITS_WRITE, parent.path if parent else "/")
    errors = validate_new_unit(new, parent)
    uid = new.uid or generate_uid()
    if new.uid and await units.get_by_uid(new.uid):
        errors.append(FieldError("uid", Message(N_("This uid is already used.")), "unique"))
    if new.code and await units.find_code(new.code):
        errors.append(FieldError("code", Message(N_("This code is already used.")), "unique"))
    if errors:
        raise ValidationFailed(errors)
    now = clock.now()
    unit = OrgUnit(
        id=uuid7(),
        uid=uid,
        code=new.code,
        name=new.name.strip(),
        short_name=new.short_name,
        kind=new.kind,
        level=LEVEL_OF_KIND[new.kind],
        path=child_path(parent, uid),
        parent_id=parent.id if parent else None,
        timezone=new.timezone or (parent.timezone if parent else None),
        currency=new.currency or (parent.currency if parent else None),
        opening_date=new.opening_date,
        created_at=now,
        updated_at=now,
    )
    await units.add(unit)
    await audit.record(AuditRecord("orgunit.create", "org_unit", str(unit.id)))
    return unit


async def update_unit(
    unit_id: UUID,
    changes: OrgUnitChanges,
    *,
    expected_version: int | None,
    principal: Principal,
    units: OrgUnitRepository,
    audit: AuditLog,
) -> OrgUnit:
    """Change names, code, time zone, currency or dates; optimistic concurrency by version."""
    unit = await units.get(unit_id)
    if unit is None:
        raise NotFound(Message(N_("Organisation unit not found.")))
    authorize(principal, Permission.ORGUNITS_WRITE, unit.path)
    if expected_version is not None and expected_version != unit.version:
        raise Conflict(
            Message(N_("The unit was changed by someone else; reload it.")),
            code="version_mismatch",
            details={"current_version": unit.version},
        )
    errors = validate_settings(changes.timezone, changes.currency)
    if changes.name is not None and not changes.name.strip():
        errors.append(FieldError("name", Message(N_("The name is required.")), "required"))
    if changes.code and changes.code != unit.code:
        other = await units.find_code(changes.code)
        if other and other.id != unit.id:
            errors.append(FieldError("code", Message(N_("This code is already used.")), "unique"))
    if errors:
        raise ValidationFailed(errors)
    updates = {k: v for k, v in dataclasses.asdict(changes).items() if v is not None}
    updated = await units.update(dataclasses.replace(unit, **updates))
    await audit.record(
        AuditRecord("orgunit.update", "org_unit", str(unit.id), details={"fields": sorted(updates)})
    )
    return updated


async def delete_unit(
    unit_id: UUID, *, principal: Principal, units: OrgUnitRepository, audit: AuditLog
) -> None:
    """Soft-delete a unit that has no children."""
    unit = await units.get(unit_id)
    if unit is None:
        raise NotFound(Message(N_("Organisation unit not found.")))
    authorize(principal, Permission.ORGUNITS_WRITE, unit.path)
    if await units.has_children(unit.id):
        raise Conflict(Message(N_("Remove or move the units below it first.")), code="has_children")
    await units.delete(unit)
    await audit.record(AuditRecord("orgunit.delete", "org_unit", str(unit.id)))


def _parse_date(raw: Any) -> date | None:
    if not raw:
        return None
    return date.fromisoformat(str(raw)[:10])


def _text(raw: Any) -> str | None:
    return str(raw) if raw not in (None, "") else None


_DHIS2_FIELDS = (
    ("name", "name", _text),
    ("shortName", "short_name", _text),
    ("code", "code", _text),
    ("openingDate", "opening_date", _parse_date),
    ("closedDate", "closed_date", _parse_date),
)


async def import_dhis2_units(
    payload: Mapping[str, Any],
    *,
    principal: Principal,
    units: OrgUnitRepository,
    audit: AuditLog,
    clock: Clock,
    level_kinds: Mapping[int, UnitKind] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> ImportReport:
    """Create or update units from a DHIS2 ``organisationUnits`` export (matched by uid).

    Rules: parents are processed before children (by level, then path); a unit whose
    parent is neither in the file nor already known is reported, not guessed; units are
    created or moved only under parents inside the caller's sub-trees (a new country root
    needs a caller assigned to everything, i.e. the command line); a moved
    unit (re-districting) keeps its id and history and gets its new path; ``defaults``
    (``timezone``, ``currency``) fill country-level settings the export does not carry.
    """
    authorize(principal, Permission.ORGUNITS_IMPORT)
    rows = payload.get("organisationUnits")
    if not isinstance(rows, list):
        raise ValidationFailed(
            [
                FieldError(
                    "organisationUnits",
                    Message(N_("The file has no organisationUnits list.")),
                    "required",
                )
            ]
        )
    kinds = dict(level_kinds or KIND_OF_LEVEL)
    defaults = defaults or {}

    def depth(row: Mapping[str, Any]) -> tuple[int, str]:
        level = row.get("level")
        path = str(row.get("path") or "")
        return (int(level) if level else path.count("/"), path)

    ordered = sorted((r for r in rows if isinstance(r, Mapping)), key=depth)
    known = await units.get_by_uids([str(r.get("id")) for r in ordered if r.get("id")])
    created = updated = unchanged = 0
    errors: list[tuple[str, str]] = []
    now = clock.now()
    for row in ordered:
        uid = str(row.get("id") or "")
        if not is_valid_uid(uid):
            errors.append((uid, "invalid uid"))
            continue
        parent_uid = (
            (row.get("parent") or {}).get("id") if isinstance(row.get("parent"), Mapping) else None
        )
        parent = known.get(parent_uid) if parent_uid else None
        if parent_uid and parent is None:
            parent = await units.get_by_uid(parent_uid)
        if parent_uid and parent is None:
            errors.append((uid, f"parent {parent_uid} not found"))
            continue
        existing = known.get(uid)
        allowed = in_scope(principal, parent.path if parent else "/")
        if existing is not None:
            # Updating a unit the caller owns; moving it needs the new parent too.
            allowed = in_scope(principal, existing.path) and (
                parent is None or in_scope(principal, parent.path)
            )
        if not allowed:
            errors.append((uid, "outside your assignment"))
            continue
        level = (parent.level + 1) if parent else int(row.get("level") or 1)
        if level not in kinds:
            errors.append((uid, f"level {level} has no unit kind"))
            continue
        values: dict[str, Any] = {
            "level": level,
            "kind": kinds[level],
            "path": child_path(parent, uid),
            "parent_id": parent.id if parent else None,
        }
        # Only fields the export carries overwrite ours: a partial export must not erase
        # a code or a name that Afiya already holds.
        for key, field_name, convert in _DHIS2_FIELDS:
            if key in row:
                values[field_name] = convert(row[key])
        if existing is None:
            values.setdefault("name", uid)
        if existing is None:
            values.setdefault("code", None)
            values.setdefault("short_name", None)
            unit = OrgUnit(
                id=uuid7(),
                uid=uid,
                timezone=(parent.timezone if parent else defaults.get("timezone")),
                currency=(parent.currency if parent else defaults.get("currency")),
                created_at=now,
                updated_at=now,
                **values,
            )
            await units.add(unit)
            created += 1
        else:
            unit = dataclasses.replace(existing, **values)
            if unit == existing:
                unchanged += 1
            else:
                await units.update(unit)
                updated += 1
        known[uid] = unit
    await audit.record(
        AuditRecord(
            "orgunit.import",
            "org_unit",
            None,
            details={
                "created": created,
                "updated": updated,
                "unchanged": unchanged,
                "errors": len(errors),
            },
        )
    )
    return ImportReport(created, updated, unchanged, tuple(errors))
