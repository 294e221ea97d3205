"""The registry of FHIR resource types: what each supports, and how.

One :class:`ResourceType` per type lists its interactions, search parameters, sort keys,
includes, operations, permission and the functions that implement them. The routes
(``afiya.api.fhir.controllers``), the CapabilityStatement, Bundle entries and the
subscription matcher (``afiya.jobs.fhir``) all read this registry (complete once
:mod:`afiya.adapters.fhir.engine.catalog` is imported), so what the server says it supports is
what it does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.fhir.search import SearchRequest, SearchSpec
from afiya.domain.shared.errors import NotFound
from afiya.domain.shared.i18n import N_, Message

if TYPE_CHECKING:
    from afiya.adapters.fhir.engine.context import FhirContext

Resource = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SearchResult:
    resources: list[Resource]
    total: int
    included: list[Resource] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WriteResult:
    resource: Resource
    created: bool
    not_stored: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    version: int
    operation: str  # insert | update | delete
    recorded_at: Any
    resource: Resource | None


Read = Callable[["FhirContext", str], Awaitable[Resource]]
VRead = Callable[["FhirContext", str, int], Awaitable[Resource]]
History = Callable[["FhirContext", str], Awaitable[list[HistoryEntry]]]
Search = Callable[["FhirContext", SearchRequest], Awaitable[SearchResult]]
Create = Callable[["FhirContext", Resource], Awaitable[WriteResult]]
Update = Callable[["FhirContext", str, Resource, int | None], Awaitable[WriteResult]]
Delete = Callable[["FhirContext", str], Awaitable[None]]
Operation = Callable[["FhirContext", str], Awaitable[Resource]]


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One FHIR resource type as Afiya serves it."""

    name: str
    read_permission: Permission
    search_spec: SearchSpec
    read: Read | None  # None: search only (computed resources such as Slot)
    search: Search
    documentation: str
    write_permission: Permission | None = None
    vread: VRead | None = None
    history: History | None = None
    create: Create | None = None
    update: Update | None = None
    delete: Delete | None = None
    operations: Mapping[str, Operation] = field(default_factory=dict)
    param_docs: Mapping[str, str] = field(default_factory=dict)
    entities: tuple[str, ...] = ()  # change-log tables whose changes are this type's
    subscribable: bool = False
    conditional_create: bool = False
    patient_data: bool = False

    @property
    def interactions(self) -> list[str]:
        found = ["read", "search-type"] if self.read else ["search-type"]
        if self.vread:
            found.append("vread")
        if self.history:
            found.append("history-instance")
        if self.create:
            found.append("create")
        if self.update:
            found.append("update")
        if self.delete:
            found.append("delete")
        return found


REGISTRY: dict[str, ResourceType] = {}


def register(resource_type: ResourceType) -> ResourceType:
    if resource_type.name in REGISTRY:
        raise ValueError(f"{resource_type.name} is registered twice")
    REGISTRY[resource_type.name] = resource_type
    return resource_type


def uuid_of(text: str) -> UUID:
    """A resource id as Afiya's UUID; an id that is not one cannot exist (404)."""
    try:
        return UUID(text)
    except ValueError:
        raise NotFound(Message(N_("The resource was not found."))) from None


EVERYTHING_SOURCES: list[Callable[[FhirContext, UUID], Awaitable[list[Resource]]]] = []
"""What ``Patient/{id}/$everything`` gathers besides the patient: the agenda registers
its appointments; the clinical record and prescribing add theirs here (ADR 0109)."""
