"""In-memory state of the DHIS2 double: metadata, users, data values, jobs, faults.

Data values live in one dict keyed by ``(dataElement, period, orgUnit, coc, aoc)`` with
a tuple record; strings are interned and one timestamp string is shared by every value of
a request, so a million values take a few hundred megabytes.
"""

from __future__ import annotations

import functools
import secrets
import string
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from afiya.domain.dhis2.errors import InvalidPeriod
from afiya.domain.dhis2.periods import Period

DEFAULT_COC = "HllvX50cXC0"
DEFAULT_CATEGORY_COMBO = "bjDvmb4bfuf"

METADATA_RESOURCES = (
    "organisationUnits",
    "organisationUnitLevels",
    "organisationUnitGroups",
    "organisationUnitGroupSets",
    "dataSets",
    "dataElements",
    "categoryCombos",
    "categoryOptionCombos",
)

# Record layout (tuple indexes).
VALUE, COMMENT, FOLLOWUP, STORED_BY, CREATED, LAST_UPDATED, DELETED = range(7)

Key = tuple[str, str, str, str, str]
Record = tuple[str | None, str | None, bool, str, str, str, bool]

_ALPHANUM = string.ascii_letters + string.digits


def new_uid() -> str:
    """A DHIS2 UID: 11 characters, a letter first."""
    return secrets.choice(string.ascii_letters) + "".join(
        secrets.choice(_ALPHANUM) for _ in range(10)
    )


def timestamp(moment: datetime | None = None) -> str:
    """DHIS2's timestamp format (UTC, milliseconds, no zone)."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


@functools.lru_cache(maxsize=65536)
def parse_period(text: str) -> Period | None:
    try:
        return Period.parse(text)
    except InvalidPeriod:
        return None


@dataclass
class User:
    id: str
    username: str
    password: str
    name: str
    organisation_units: list[str]
    authorities: list[str]
    tokens: list[str] = field(default_factory=list)


@dataclass
class Fault:
    """Fail the ``countdown``-th request matching ``method`` and ``path`` from now on."""

    countdown: int
    path: str
    method: str | None
    action: str  # close | status | truncate
    status: int = 503


@dataclass
class Job:
    id: str
    job_type: str
    notifications: list[dict[str, Any]]
    summary: dict[str, Any] | None = None


class Store:
    """Everything the double knows; guarded by one re-entrant lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.metadata: dict[str, dict[str, dict[str, Any]]] = {
                name: {} for name in METADATA_RESOURCES
            }
            self.users: dict[str, User] = {}
            self.values: dict[Key, Record] = {}
            self.jobs: dict[str, Job] = {}
            self.faults: list[Fault] = []
            self.approvals: set[tuple[str, str, str, str]] = set()
            self.lock_exceptions: set[tuple[str, str, str]] = set()
            self.counters: dict[str, int] = {}
            self.requests = 0
            self.faults_triggered = 0
            self.today: date | None = None
            self.async_delay = 0.2
            self.version = "2.40.4"
            self.legacy = False
            self.system_id = "afiya-dhis2-double"
            self._ou_paths: dict[str, str] | None = None
            self._de_data_sets: dict[str, list[str]] | None = None

    # -- clock ----------------------------------------------------------------------
    def current_date(self) -> date:
        return self.today or datetime.now(UTC).date()

    # -- metadata -------------------------------------------------------------------
    def upsert(self, resource: str, objects: list[dict[str, Any]]) -> int:
        if resource not in self.metadata:
            raise KeyError(resource)
        now = timestamp()
        with self.lock:
            for obj in objects:
                item = dict(obj)
                item.setdefault("id", new_uid())
                item.setdefault("created", now)
                item.setdefault("lastUpdated", now)
                self.metadata[resource][item["id"]] = item
            self._ou_paths = None
            self._de_data_sets = None
            if resource == "organisationUnits":
                for unit in self.metadata[resource].values():
                    path = self.ou_path(unit["id"]) or ""
                    unit.setdefault("path", path)
                    unit.setdefault("level", path.count("/"))
        return len(objects)

    def get(self, resource: str, uid: str) -> dict[str, Any] | None:
        return self.metadata.get(resource, {}).get(uid)

    def find(self, uid: str) -> dict[str, Any] | None:
        """Any metadata object by UID (references are expanded through this)."""
        for objects in self.metadata.values():
            if uid in objects:
                return objects[uid]
        return None

    def ou_path(self, uid: str) -> str | None:
        """The ``/a/b/c`` path of an org unit (computed from parents when missing)."""
        with self.lock:
            if self._ou_paths is None:
                units = self.metadata["organisationUnits"]
                paths: dict[str, str] = {}

                def path_of(node: str, depth: int = 0) -> str:
                    if node in paths:
                        return paths[node]
                    unit = units.get(node, {})
                    if unit.get("path"):
                        paths[node] = unit["path"]
                        return paths[node]
                    parent = (unit.get("parent") or {}).get("id")
                    prefix = path_of(parent, depth + 1) if parent and depth < 50 else ""
                    paths[node] = f"{prefix}/{node}"
                    return paths[node]

                for node in units:
                    path_of(node)
                self._ou_paths = paths
            return self._ou_paths.get(uid)

    def data_sets_of(self, data_element: str) -> list[str]:
        with self.lock:
            if self._de_data_sets is None:
                index: dict[str, list[str]] = {}
                for ds in self.metadata["dataSets"].values():
                    for member in data_set_elements(ds):
                        index.setdefault(member, []).append(ds["id"])
                self._de_data_sets = index
            return self._de_data_sets.get(data_element, [])

    def resolve(self, resource: str, identifier: str, scheme: str) -> str | None:
        """The UID of the object that ``identifier`` names under an id scheme."""
        objects = self.metadata[resource]
        scheme_upper = scheme.upper()
        if scheme_upper in ("UID", "ID"):
            return identifier if identifier in objects else None
        for obj in objects.values():
            if scheme_upper == "CODE" and obj.get("code") == identifier:
                return str(obj["id"])
            if scheme_upper == "NAME" and obj.get("name") == identifier:
                return str(obj["id"])
            if scheme_upper.startswith("ATTRIBUTE:"):
                attribute = scheme.split(":", 1)[1]
                for av in obj.get("attributeValues") or ():
                    if (av.get("attribute") or {}).get("id") == attribute and str(
                        av.get("value")
                    ) == identifier:
                        return str(obj["id"])
        return None

    # -- users ----------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> User | None:
        import base64

        if not authorization:
            return None
        scheme, _, credential = authorization.partition(" ")
        with self.lock:
            if scheme.lower() == "basic":
                try:
                    decoded = base64.b64decode(credential.strip()).decode()
                except ValueError:
                    return None
                username, _, password = decoded.partition(":")
                user = self.users.get(username)
                if user is not None and secrets.compare_digest(user.password, password):
                    return user
                return None
            if scheme == "ApiToken":
                for user in self.users.values():
                    if any(secrets.compare_digest(t, credential.strip()) for t in user.tokens):
                        return user
        return None

    # -- counters and faults --------------------------------------------------------
    def count(self, method: str, path: str) -> None:
        with self.lock:
            self.requests += 1
            name = f"{method} {path}"
            self.counters[name] = self.counters.get(name, 0) + 1

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if not path.startswith(fault.path):
                    continue
                if fault.method and fault.method.upper() != method:
                    continue
                fault.countdown -= 1
                if fault.countdown == 0:
                    self.faults.remove(fault)
                    self.faults_triggered += 1
                    return fault
        return None

    # -- data values ----------------------------------------------------------------
    def generate(
        self,
        count: int,
        data_elements: list[str],
        org_units: list[str],
        periods: list[str],
        coc: str = DEFAULT_COC,
    ) -> int:
        """Fill the store with ``count`` synthetic values (for volume tests)."""
        now = sys.intern(timestamp())
        made = 0
        with self.lock:
            for pe in periods:
                for ou in org_units:
                    for de in data_elements:
                        if made >= count:
                            return made
                        key = (sys.intern(de), sys.intern(pe), sys.intern(ou), coc, DEFAULT_COC)
                        self.values[key] = (str(made % 997), None, False, "admin", now, now, False)
                        made += 1
        return made


def data_set_elements(data_set: dict[str, Any]) -> list[str]:
    """Data element UIDs of a data set, in either shape DHIS2 uses."""
    members = [
        (e.get("dataElement") or {}).get("id") for e in data_set.get("dataSetElements") or ()
    ]
    members += [e.get("id") for e in data_set.get("dataElements") or ()]
    return [m for m in members if m]
