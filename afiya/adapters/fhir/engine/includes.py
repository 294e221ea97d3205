"""``_include`` and ``_revinclude``: the one table of supported pairs, and their executor.

:data:`PAIRS` is read by the search parser (through :func:`search_spec`), by
:func:`gather` (run by :func:`afiya.adapters.fhir.engine.interactions.search` after every
type's search) and by the CapabilityStatement (``searchInclude``, ``searchRevInclude``),
so what the metadata announces is what the server does.

Included resources are read through the registry: ``_include`` calls the target type's
``read`` and ``_revinclude`` its ``search`` with ``<param>=<ids of the page>``, so the
permission check, the facility scope and the audit are those of a direct read or search.
FHIR makes includes best effort: a resource the caller may not read is left out (never
shown), and a type the caller's role cannot read at all is left out with an
``outcome`` entry saying so. At most :data:`MAX_INCLUDED` resources are included per
search; beyond that an ``outcome`` entry says the list was cut.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.adapters.fhir.engine.registry import REGISTRY, Resource, ResourceType
from afiya.domain.access.policy import has_permission
from afiya.domain.fhir.search import Criterion, SearchRequest, SearchSpec
from afiya.domain.shared.errors import NotFound, PermissionDenied
from afiya.domain.shared.i18n import N_, Message

MAX_INCLUDED = 1000


@dataclass(frozen=True, slots=True)
class Pair:
    """``source:param`` points at ``target`` through the elements of ``path``.

    ``revinclude``: the source type's search takes ``param`` (a reference), so
    ``<target>?_revinclude=<source>:<param>`` is served.
    """

    source: str
    param: str
    path: tuple[str, ...]
    target: str
    revinclude: bool = False

    @property
    def name(self) -> str:
        return f"{self.source}:{self.param}"


PAIRS: tuple[Pair, ...] = (
    Pair("Appointment", "patient", ("participant", "actor"), "Patient", revinclude=True),
    Pair("Encounter", "patient", ("subject",), "Patient", revinclude=True),
    Pair("Observation", "patient", ("subject",), "Patient", revinclude=True),
    Pair("Observation", "encounter", ("encounter",), "Encounter"),
    Pair("Condition", "patient", ("subject",), "Patient", revinclude=True),
    Pair("Condition", "encounter", ("encounter",), "Encounter"),
    Pair("AllergyIntolerance", "patient", ("patient",), "Patient", revinclude=True),
    Pair("DiagnosticReport", "patient", ("subject",), "Patient", revinclude=True),
    Pair("DiagnosticReport", "result", ("result",), "Observation"),
    Pair("MedicationRequest", "patient", ("subject",), "Patient", revinclude=True),
    Pair("MedicationRequest", "medication", ("medicationReference",), "Medication"),
    Pair("MedicationDispense", "patient", ("subject",), "Patient", revinclude=True),
    Pair(
        "MedicationDispense",
        "prescription",
        ("authorizingPrescription",),
        "MedicationRequest",
        revinclude=True,
    ),
    Pair("ServiceRequest", "patient", ("subject",), "Patient", revinclude=True),
    Pair("DocumentReference", "patient", ("subject",), "Patient", revinclude=True),
    Pair("PractitionerRole", "practitioner", ("practitioner",), "Practitioner", revinclude=True),
    Pair("PractitionerRole", "organization", ("organization",), "Organization"),
    Pair("Location", "organization", ("managingOrganization",), "Organization"),
)
"""Every supported pair. ``Observation?encounter=`` is not a search Afiya serves (the
record is searched patient by patient), hence no ``Encounter?_revinclude=
Observation:encounter``; the same holds for the other pairs without ``revinclude``."""


def includes_of(resource_type: str) -> list[Pair]:
    """The pairs ``<resource_type>?_include=`` takes."""
    return [p for p in PAIRS if p.source == resource_type]


def revincludes_of(resource_type: str) -> list[Pair]:
    """The pairs ``<resource_type>?_revinclude=`` takes."""
    return [p for p in PAIRS if p.target == resource_type and p.revinclude]


def _spellings(pairs: Sequence[Pair]) -> frozenset[str]:
    return frozenset(s for p in pairs for s in (p.name, f"{p.name}:{p.target}"))


def search_spec(kind: ResourceType) -> SearchSpec:
    """The type's search spec with the includes and revincludes of the table."""
    return dataclasses.replace(
        kind.search_spec,
        includes=_spellings(includes_of(kind.name)),
        revincludes=_spellings(revincludes_of(kind.name)),
    )


@dataclass
class Gathered:
    resources: list[Resource] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)

    @property
    def room(self) -> int:
        return MAX_INCLUDED - len(self.resources)

    def note(self, message: Message) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def add(self, resource: Resource) -> None:
        key = (resource["resourceType"], resource["id"])
        if key not in self.seen:
            self.seen.add(key)
            self.resources.append(resource)


def _pair(name: str) -> Pair:
    return next(p for p in PAIRS if p.name == name)


def _references(value: Any, path: Sequence[str]) -> Iterator[str]:
    """Every ``reference`` string at ``path`` (lists are walked at each step)."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item, path)
        return
    if not isinstance(value, dict):
        return
    if not path:
        ref = value.get("reference")
        if isinstance(ref, str):
            yield ref
        return
    yield from _references(value.get(path[0]), path[1:])


def _target_id(ctx: FhirContext, ref: str, target: str) -> str | None:
    """The id of a ``Target/id`` reference of this server (relative or absolute)."""
    text = ref.removeprefix(ctx.base + "/")
    parts = text.split("/")
    if len(parts) == 2 and parts[0] == target and parts[1]:
        return parts[1]
    return None


def _not_allowed(kind: ResourceType) -> Message:
    return Message(
        N_("{type} resources were not included: your role does not allow reading them."),
        {"type": kind.name},
    )


async def gather(ctx: FhirContext, request: SearchRequest, matched: list[Resource]) -> Gathered:
    """The resources the request's ``_include`` and ``_revinclude`` add to ``matched``."""
    out = Gathered(seen={(r["resourceType"], r["id"]) for r in matched})
    for name in request.includes:
        await _include(ctx, _pair(name), matched, out)
    for name in request.revincludes:
        await _revinclude(ctx, _pair(name), matched, out)
    return out


async def _include(ctx: FhirContext, pair: Pair, matched: list[Resource], out: Gathered) -> None:
    kind = REGISTRY[pair.target]
    wanted: dict[str, None] = {}
    for resource in matched:
        for ref in _references(resource, pair.path):
            ident = _target_id(ctx, ref, pair.target)
            if ident is not None and (pair.target, ident) not in out.seen:
                wanted.setdefault(ident, None)
    if not wanted:
        return
    if kind.read is None or not has_permission(ctx.principal, kind.read_permission):
        out.note(_not_allowed(kind))
        return
    for ident in wanted:
        if out.room <= 0:
            out.note(_cut())
            return
        try:
            out.add(await kind.read(ctx, ident))
        except (NotFound, PermissionDenied):
            continue  # best effort: what the caller may not read is not shown
        except FhirError as exc:
            if exc.status not in (403, 404, 410):
                raise


async def _revinclude(ctx: FhirContext, pair: Pair, matched: list[Resource], out: Gathered) -> None:
    kind = REGISTRY[pair.source]
    ids = [r["id"] for r in matched if r["resourceType"] == pair.target]
    if not ids:
        return
    if not has_permission(ctx.principal, kind.read_permission):
        out.note(_not_allowed(kind))
        return
    if out.room <= 0:
        out.note(_cut())
        return
    found, total = await _search(ctx, kind, pair.param, ids, out.room)
    for resource in found:
        out.add(resource)
    if total > len(found):
        out.note(_cut())


async def _search(
    ctx: FhirContext, kind: ResourceType, param: str, ids: list[str], room: int
) -> tuple[list[Resource], int]:
    """``<kind>?<param>=<ids>``, at most ``room`` resources; if a matched resource is
    one the caller may not search under (another facility), the others still are."""

    def request(values: list[str]) -> SearchRequest:
        return SearchRequest(kind.name, (Criterion(param, None, tuple(values)),), count=room)

    try:
        result = await kind.search(ctx, request(ids))
        return result.resources, result.total
    except PermissionDenied:
        pass
    found: list[Resource] = []
    total = 0
    for ident in ids:
        try:
            result = await kind.search(ctx, request([ident]))
        except PermissionDenied:
            continue
        found += result.resources[: room - len(found)]
        total += result.total
    return found, total


def _cut() -> Message:
    return Message(
        N_("At most {max} resources are included; the others were left out."),
        {"max": MAX_INCLUDED},
    )
