"""Every table, imported here so Alembic and the change-log listener see them all."""

from afiya.adapters.db.base import Base
from afiya.adapters.db.models.identity import RefreshTokenRow, UserRow, UserUnitRow
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.db.models.platform import (
    AuditEventRow,
    AuditHead,
    ChangeLogRow,
    JobRow,
    NodeCounter,
)

__all__ = [
    "AuditEventRow",
    "AuditHead",
    "Base",
    "ChangeLogRow",
    "JobRow",
    "NodeCounter",
    "OrgUnitRow",
    "RefreshTokenRow",
    "UserRow",
    "UserUnitRow",
]
