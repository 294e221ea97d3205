"""Every table. Each module's models live in ``afiya/adapters/db/models/<module>.py``; all of
them are imported here so that Alembic, the change-log listener and the schema tests see
every table without a list to keep in step."""

import importlib
import pkgutil

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

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

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
