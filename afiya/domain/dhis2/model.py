"""What Afiya reads about a DHIS2 server and its user, and the metadata it fetches."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


class MetadataResource(Enum):
    """Metadata collections Afiya maps local concepts to; value = the API path and key."""

    ORGANISATION_UNITS = "organisationUnits"
    ORGANISATION_UNIT_LEVELS = "organisationUnitLevels"
    ORGANISATION_UNIT_GROUPS = "organisationUnitGroups"
    ORGANISATION_UNIT_GROUP_SETS = "organisationUnitGroupSets"
    DATA_SETS = "dataSets"
    DATA_ELEMENTS = "dataElements"
    CATEGORY_COMBOS = "categoryCombos"
    CATEGORY_OPTION_COMBOS = "categoryOptionCombos"


# Enough to map and to sync incrementally, small enough for slow links.
DEFAULT_FIELDS: dict[MetadataResource, str] = {
    MetadataResource.ORGANISATION_UNITS: (
        "id,code,name,shortName,path,level,parent[id],openingDate,closedDate,lastUpdated"
    ),
    MetadataResource.ORGANISATION_UNIT_LEVELS: "id,name,level,lastUpdated",
    MetadataResource.ORGANISATION_UNIT_GROUPS: (
        "id,code,name,shortName,organisationUnits[id],lastUpdated"
    ),
    MetadataResource.ORGANISATION_UNIT_GROUP_SETS: (
        "id,code,name,organisationUnitGroups[id],lastUpdated"
    ),
    MetadataResource.DATA_SETS: (
        "id,code,name,periodType,openFuturePeriods,expiryDays,categoryCombo[id],"
        "dataSetElements[dataElement[id]],organisationUnits[id],lastUpdated"
    ),
    MetadataResource.DATA_ELEMENTS: (
        "id,code,name,shortName,valueType,aggregationType,zeroIsSignificant,"
        "categoryCombo[id],lastUpdated"
    ),
    MetadataResource.CATEGORY_COMBOS: "id,code,name,categoryOptionCombos[id],lastUpdated",
    MetadataResource.CATEGORY_OPTION_COMBOS: "id,code,name,categoryCombo[id],lastUpdated",
}


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """``/api/system/info``: the version decides which features Afiya may use."""

    version: str
    revision: str | None = None
    server_date: str | None = None
    system_id: str | None = None
    system_name: str | None = None
    context_path: str | None = None
    time_zone: str | None = None

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        """``(2, 40, 3)`` for ``2.40.3``, ``2.40-SNAPSHOT`` gives ``(2, 40, 0)``."""
        match = _VERSION.match(self.version)
        if match is None:
            return (0, 0, 0)
        return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        return self.version_tuple >= (major, minor, patch)

    @classmethod
    def from_dhis2(cls, raw: Mapping[str, Any]) -> SystemInfo:
        return cls(
            version=str(raw.get("version") or ""),
            revision=raw.get("revision"),
            server_date=raw.get("serverDate"),
            system_id=raw.get("systemId"),
            system_name=raw.get("systemName"),
            context_path=raw.get("contextPath"),
            time_zone=raw.get("serverTimeZoneId"),
        )


@dataclass(frozen=True, slots=True)
class Dhis2User:
    """``/api/me``: whose credentials Afiya uses, and where they may write data."""

    id: str
    username: str
    name: str | None = None
    organisation_units: tuple[str, ...] = ()
    authorities: frozenset[str] = frozenset()

    def has_authority(self, authority: str) -> bool:
        """``ALL`` (superuser) grants every authority."""
        return "ALL" in self.authorities or authority in self.authorities

    @classmethod
    def from_dhis2(cls, raw: Mapping[str, Any]) -> Dhis2User:
        credentials = raw.get("userCredentials")
        username = raw.get("username") or (
            credentials.get("username") if isinstance(credentials, Mapping) else None
        )
        units = raw.get("organisationUnits") or ()
        return cls(
            id=str(raw.get("id") or ""),
            username=str(username or ""),
            name=raw.get("name") or raw.get("displayName"),
            organisation_units=tuple(
                str(u["id"]) for u in units if isinstance(u, Mapping) and "id" in u
            ),
            authorities=frozenset(str(a) for a in raw.get("authorities") or ()),
        )
