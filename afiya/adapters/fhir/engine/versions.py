"""vread and history-instance for the types read through the record's use cases
(Encounter, Observation, Condition, AllergyIntolerance, DiagnosticReport,
MedicationRequest, MedicationDispense, ServiceRequest, DocumentReference).

One mechanism for all of them:

1. the type's own read runs first, with the caller's context: the use case's
   permission, facility check and audit event (with the patient id) are those of a
   read, and a resource the caller may not read is a 403/404 exactly as for read; one
   more event ``<type>.vread`` / ``<type>.history`` names the version(s) shown;
2. the versions are change-log entries (:meth:`SqlFhirVersions.stream`), located per
   type (a row, an encounter's steps, the prescription of a line);
3. a past version is the same read run again, silently, over the module repositories
   of :meth:`SqlFhirVersions.past`: every row they load is rebuilt from its snapshot as
   it was before the next version was written, then mapped by the repository's own
   row→domain code and the type's own FHIR mapper;
4. ``meta.versionId`` and ``meta.lastUpdated`` come from the version's entry.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypedDict, cast
from uuid import UUID

from afiya.adapters.db.repositories.fhir_versions import StreamVersion
from afiya.adapters.fhir.common import meta, reference_id
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.adapters.fhir.engine.registry import (
    History,
    HistoryEntry,
    Read,
    Resource,
    VRead,
    uuid_of,
)
from afiya.domain.audit.model import AuditRecord
from afiya.domain.shared.errors import NotFound
from afiya.domain.shared.i18n import N_, Message

Locate = Callable[[FhirContext, UUID], Awaitable[list[StreamVersion]]]
"""The versions of one resource, oldest first (empty: none recorded)."""


# -- where versions come from -------------------------------------------------------------


def rows(*entities: str) -> Locate:
    """The change log of the resource's own row, in the first of these tables that has
    it (a FHIR type served from several tables: a vital sign or a lab result...)."""

    async def locate(ctx: FhirContext, key: UUID) -> list[StreamVersion]:
        for entity in entities:
            found = await ctx.uow.fhir.past.stream(entity, "id", key)
            if found:
                return found
        return []

    return locate


def steps(entity: str, column: str, parent: str) -> Locate:
    """The change log of the rows of ``entity`` whose ``column`` is the resource id:
    one version per row written (an encounter's start, transfers, discharge...); a
    change of the ``parent`` row (the resource's own) begins the next step."""

    async def locate(ctx: FhirContext, key: UUID) -> list[StreamVersion]:
        return await ctx.uow.fhir.past.stream(entity, column, key, parent=parent)

    return locate


def first_of(*locators: Locate) -> Locate:
    async def locate(ctx: FhirContext, key: UUID) -> list[StreamVersion]:
        for locator in locators:
            found = await locator(ctx, key)
            if found:
                return found
        return []

    return locate


async def _prescription_of_line(ctx: FhirContext, key: UUID) -> list[StreamVersion]:
    """A prescription line never changes; its status is its prescription's."""
    prescription = await ctx.uow.prescribing.prescription_of_line(key)
    if prescription is None:
        return []
    return await ctx.uow.fhir.past.stream("prescription", "id", prescription.id)


ENCOUNTER = first_of(
    steps("clinical_encounter_event", "encounter_id", "clinical_encounter"),
    rows("clinical_encounter"),
)
OBSERVATION = rows("clinical_observation", "clinical_lab_result")
CONDITION = rows("clinical_diagnosis", "clinical_problem")
ALLERGY = rows("clinical_allergy")
REPORT = rows("clinical_lab_result", "clinical_imaging_report")
LINE = _prescription_of_line
DISPENSING = rows("dispensing")
DOCUMENT = rows("clinical_external_document", "clinical_document", "clinical_imaging_file")


# -- the past, read through the same code ---------------------------------------------------


class _SilentAudit:
    """The audit port of a past read: the caller's read was audited already."""

    async def record(self, record: AuditRecord) -> None:
        return None


class _PastUnitOfWork:
    """The unit of work with the record's repositories replaced by past views."""

    def __init__(self, uow: Any, records: Any) -> None:
        self._uow = uow
        self.clinical = records.clinical
        self.prescribing = records.prescribing
        self.clinical_documents = records.clinical_documents
        self.audit = _SilentAudit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


def _not_found(version: int) -> FhirError:
    return FhirError(
        404,
        "not-found",
        Message(N_("Version {version} of this resource does not exist."), {"version": version}),
    )


def _audit_name(type_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type_name).lower()


def _patient_of(resource: Resource) -> UUID | None:
    for key in ("subject", "patient"):
        found = reference_id(resource.get(key), "Patient")
        if found:
            try:
                return UUID(found)
            except ValueError:
                return None
    return None


def _stamped(resource: Resource, version: StreamVersion) -> Resource:
    """``meta`` of the version: its number, and when its row was written (the row's
    ``updated_at`` as the snapshot holds it, which is what a read shows)."""
    written = version.data.get("updated_at")
    moment = datetime.fromisoformat(written) if written else version.recorded_at
    out = dict(resource)
    out["meta"] = {**(resource.get("meta") or {}), **meta(version.number, moment)}
    return out


class _Versioned:
    def __init__(self, type_name: str, read: Read, locate: Locate) -> None:
        self.type_name = type_name
        self.read = read
        self.locate = locate

    async def _current(self, ctx: FhirContext, ident: str) -> tuple[Resource, list[Any]]:
        resource = await self.read(ctx, ident)  # permission, facility, audit of a read
        return resource, await self.locate(ctx, uuid_of(ident))

    async def _audit(
        self, ctx: FhirContext, ident: str, resource: Resource, what: str, **details: Any
    ) -> None:
        name = _audit_name(self.type_name)
        await ctx.record(
            AuditRecord(
                f"{name}.{what}",
                name,
                ident,
                _patient_of(resource),
                details={"via": "fhir", **details},
            )
        )

    async def _as_of(
        self, ctx: FhirContext, ident: str, current: Resource, versions: list[Any], index: int
    ) -> Resource:
        until = versions[index].until
        if until is None:
            return current
        uow = cast(Any, _PastUnitOfWork(ctx.uow, ctx.uow.fhir.past.past(until)))
        return await self.read(replace(ctx, uow=uow, quiet=True), ident)

    async def vread(self, ctx: FhirContext, ident: str, version: int) -> Resource:
        current, versions = await self._current(ctx, ident)
        index = next((i for i, v in enumerate(versions) if v.number == version), None)
        if index is None:
            raise _not_found(version)
        await self._audit(ctx, ident, current, "vread", version=version)
        try:
            resource = await self._as_of(ctx, ident, current, versions, index)
        except NotFound:
            raise _not_found(version) from None
        return _stamped(resource, versions[index])

    async def history(self, ctx: FhirContext, ident: str) -> list[HistoryEntry]:
        current, versions = await self._current(ctx, ident)
        await self._audit(ctx, ident, current, "history", versions=len(versions))
        out = []
        for index in reversed(range(len(versions))):
            v = versions[index]
            resource = None
            if v.operation != "delete":
                try:
                    found = await self._as_of(ctx, ident, current, versions, index)
                    resource = _stamped(found, v)
                except NotFound:
                    resource = None  # not readable as it was (listed without content)
            out.append(HistoryEntry(v.number, v.operation, v.recorded_at, resource))
        return out


class Interactions(TypedDict):
    vread: VRead
    history: History


def interactions(type_name: str, read: Read, locate: Locate) -> Interactions:
    """vread and history-instance of a type, from its read and where its versions come
    from: ``register(ResourceType(..., **versions.interactions(...)))``."""
    versioned = _Versioned(type_name, read, locate)
    return {"vread": versioned.vread, "history": versioned.history}
