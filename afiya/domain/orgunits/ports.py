"""Ports of the organisation-unit module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from afiya.domain.access.policy import Scope
from afiya.domain.orgunits.model import OrgUnit, UnitKind


@dataclass(frozen=True, slots=True)
class OrgUnitQuery:
    parent_id: UUID | None = None
    kind: UnitKind | None = None
    level: int | None = None
    search: str | None = None
    after_path: str | None = None  # keyset cursor: units sort by path
    limit: int = 50


class OrgUnitRepository(Protocol):
    """Stores organisation units. Queries are always limited to a :class:`Scope`."""

    async def get(self, unit_id: UUID) -> OrgUnit | None: ...

    async def get_by_uid(self, uid: str) -> OrgUnit | None: ...

    async def get_by_uids(self, uids: Sequence[str]) -> dict[str, OrgUnit]: ...

    async def list(self, scope: Scope, query: OrgUnitQuery) -> list[OrgUnit]: ...

    async def find_code(self, code: str) -> OrgUnit | None: ...

    async def add(self, unit: OrgUnit) -> None: ...

    async def update(self, unit: OrgUnit) -> OrgUnit:
        """Save changes; return the unit as stored (new version and timestamps)."""
        ...

    async def has_children(self, unit_id: UUID) -> bool: ...

    async def delete(self, unit: OrgUnit) -> None:
        """Soft-delete the unit (it stays in the change log and history)."""
        ...
