"""FHIR Patient: read, vread, history, search, create (duplicate check), update, $everything.

Writes go through the registry's own use cases (``register_patient``,
``update_patient``, ``records.add_identifier``...), so the rules, the duplicate check
and the audit are those of ``/api/v1``.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

from afiya.adapters.fhir import patient as mapping
from afiya.adapters.fhir.common import IDENTIFIER_SYSTEM, MRN_SYSTEM, NNI_SYSTEM, NSS_SYSTEM
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.adapters.fhir.engine.registry import (
    EVERYTHING_SOURCES,
    HistoryEntry,
    Resource,
    ResourceType,
    SearchResult,
    WriteResult,
    register,
    uuid_of,
)
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import authorize, scope_of
from afiya.domain.audit.model import AuditRecord
from afiya.domain.fhir.search import ParamType, SearchRequest, SearchSpec, TokenValue
from afiya.domain.patients import records, use_cases
from afiya.domain.patients.errors import PatientNotFound, ProbableDuplicate
from afiya.domain.patients.model import EmergencyContact, NewPatient, Patient, PatientChanges
from afiya.domain.shared.errors import FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

CONFIRM_HEADER = "x-afiya-confirm-new-person"
"""Registering a probable duplicate on purpose: the header carries the reason (audited)."""

SPEC = SearchSpec(
    params={
        "identifier": ParamType.TOKEN,
        "name": ParamType.STRING,
        "family": ParamType.STRING,
        "given": ParamType.STRING,
        "birthdate": ParamType.DATE,
        "gender": ParamType.TOKEN,
        "phone": ParamType.TOKEN,
        "telecom": ParamType.TOKEN,
    },
    sorts=frozenset({"_lastUpdated", "birthdate", "family", "given"}),
)


def _audit(action: str, patient_id: UUID, **details: Any) -> AuditRecord:
    return AuditRecord(action, "patient", str(patient_id), patient_id, details=details)


async def read(ctx: FhirContext, ident: str) -> Resource:
    patient = await use_cases.get_patient(
        uuid_of(ident), principal=ctx.principal, patients=ctx.uow.patients, audit=ctx.uow.audit
    )
    return mapping.to_fhir(patient)


async def _history_entries(ctx: FhirContext, patient_id: UUID) -> list[Any]:
    current = await ctx.uow.patients.get(patient_id)
    if current is None:
        raise PatientNotFound()
    authorize(ctx.principal, Permission.PATIENTS_READ, current.unit_path)
    return await ctx.uow.fhir.versions("patient", patient_id)


async def vread(ctx: FhirContext, ident: str, version: int) -> Resource:
    patient_id = uuid_of(ident)
    versions = await _history_entries(ctx, patient_id)
    index = next((i for i, v in enumerate(versions) if v.version == version), None)
    if index is None:
        raise FhirError(
            404,
            "not-found",
            Message(N_("Version {version} of this resource does not exist."), {"version": version}),
        )
    await ctx.record(_audit("patient.vread", patient_id, version=version))
    return mapping.to_fhir(await _as_of(ctx, patient_id, versions, index))


async def _as_of(ctx: FhirContext, patient_id: UUID, versions: list[Any], index: int) -> Patient:
    following = versions[index + 1].seq if index + 1 < len(versions) else None
    return await ctx.uow.fhir.patient_as_of(patient_id, versions[index], following)


async def history(ctx: FhirContext, ident: str) -> list[HistoryEntry]:
    """Every version of the patient row, newest first (``version`` from the change log)."""
    patient_id = uuid_of(ident)
    versions = await _history_entries(ctx, patient_id)
    await ctx.record(_audit("patient.history", patient_id, versions=len(versions)))
    out = []
    for index in reversed(range(len(versions))):
        v = versions[index]
        resource = None
        if v.operation != "delete":
            resource = mapping.to_fhir(await _as_of(ctx, patient_id, versions, index))
        out.append(HistoryEntry(v.version, v.operation, v.recorded_at, resource))
    return out


async def _exact_ids(ctx: FhirContext, request: SearchRequest) -> set[UUID] | None:
    """Identifier and phone criteria through the blind indexes (values never decrypted)."""
    patients = ctx.uow.patients
    found: set[UUID] | None = None
    for criterion in request.criteria:
        if criterion.name not in ("identifier", "phone", "telecom"):
            continue
        ids: set[UUID] = set()
        for value in criterion.values:
            assert isinstance(value, TokenValue)
            if criterion.name != "identifier":
                ids |= set(await patients.find_by_phone(value.code))
            elif value.system == NNI_SYSTEM:
                ids |= set(await patients.find_by_nni(value.code))
            elif value.system == NSS_SYSTEM:
                ids |= set(await patients.find_by_identifier("nss", value.code))
            elif value.system == MRN_SYSTEM:
                ids |= set(await patients.find_by_mrn(value.code))
            elif value.system and value.system.startswith(IDENTIFIER_SYSTEM):
                kind = value.system[len(IDENTIFIER_SYSTEM) :]
                ids |= set(await patients.find_by_identifier(kind, value.code))
            elif value.system:
                ids |= set(await patients.find_by_identifier("other", value.code))
            else:  # any system: NNI, MRN or another identifier
                ids |= set(await patients.find_by_nni(value.code))
                ids |= set(await patients.find_by_mrn(value.code))
                ids |= set(await patients.find_by_identifier("other", value.code))
        found = ids if found is None else found & ids
    return found


async def search(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    """Active patients in the caller's facilities; every record returned is audited."""
    authorize(ctx.principal, Permission.PATIENTS_READ)
    exact = await _exact_ids(ctx, request)
    ids, total = await ctx.uow.fhir.patient_page(scope_of(ctx.principal), request, exact)
    found = await ctx.uow.patients.get_many(ids)
    patients = [found[i] for i in ids if i in found]
    await ctx.record(
        AuditRecord(
            "patient.search",
            "patient",
            details={
                "via": "fhir",
                "criteria": sorted({c.name for c in request.criteria}),
                "results": len(patients),
                "patient_ids": [str(p.id) for p in patients],
            },
        )
    )
    for p in patients:
        await ctx.record(_audit("patient.read", p.id, via="fhir.search"))
    return SearchResult([mapping.to_fhir(p) for p in patients], total)


def _field_errors(exc: ValidationFailed) -> ValidationFailed:
    """The same errors, located by FHIR path instead of registry field names."""
    return ValidationFailed(
        [dataclasses.replace(e, field=mapping.fhir_path(e.field)) for e in exc.errors],
        exc.message,
        code=exc.code,
    )


def _duplicate(exc: ProbableDuplicate) -> FhirError:
    """409 listing the candidates (those outside the caller's facilities masked)."""
    lines = []
    for c in exc.candidates:
        score = f"{c.result.score:.2f}"
        if c.in_scope:
            reasons = ", ".join(r.code for r in c.result.reasons)
            lines.append(f"Patient/{c.patient.id} (score {score}; {reasons})")
        else:
            where = f"Organization/{c.patient.unit_id}"
            lines.append(f"{where}: a record outside your facilities (score {score})")
    error = FhirError(409, "duplicate", exc.message, code=exc.code)
    error.details["candidates"] = lines
    error.expression = [f"Patient/{c.patient.id}" for c in exc.candidates if c.in_scope]
    return error


async def _facility(ctx: FhirContext, fields: mapping.PatientFields) -> UUID:
    if fields.unit_id is not None:
        return fields.unit_id
    facilities = {u.id for u in await _assigned_facilities(ctx)}
    if len(facilities) == 1:
        return UUID(str(facilities.pop()))
    msgid = N_("Say which facility registers the patient (managingOrganization).")
    raise ValidationFailed([FieldError("Patient.managingOrganization", Message(msgid), "required")])


async def _assigned_facilities(ctx: FhirContext) -> list[Any]:
    user = await ctx.uow.users.get(ctx.principal.user_id)
    units = [await ctx.uow.orgunits.get(u) for u in (user.unit_ids if user else ())]
    return [u for u in units if u is not None and u.kind.value == "facility"]


async def create(ctx: FhirContext, resource: Resource) -> WriteResult:
    """Register a patient from a FHIR Patient: the registry's rules and duplicate check."""
    fields = mapping.from_fhir(resource)
    unit_id = await _facility(ctx, fields)
    reason = ctx.headers.get(CONFIRM_HEADER)
    values = fields.values
    new = NewPatient(
        unit_id=unit_id,
        identifiers=fields.identifiers,
        confirm_new_person=bool(reason),
        confirm_reason=reason,
        **values,
    )
    try:
        patient, created = await use_cases.register_patient(
            new,
            principal=ctx.principal,
            patients=ctx.uow.patients,
            units=ctx.uow.orgunits,
            mrns=ctx.uow.patients.mrns,
            pairs=ctx.uow.patients.pairs,
            audit=ctx.uow.audit,
            clock=ctx.clock,
        )
    except ProbableDuplicate as exc:
        raise _duplicate(exc) from exc
    except ValidationFailed as exc:
        raise _field_errors(exc) from exc
    return WriteResult(mapping.to_fhir(patient), created, fields.not_stored)


async def update(
    ctx: FhirContext, ident: str, resource: Resource, if_match: int | None
) -> WriteResult:
    """Replace the patient's identity with the resource (version-checked with If-Match).

    Identifiers other than NNI/NSS are added and removed to match the resource.
    """
    patient_id = uuid_of(ident)
    if resource.get("id") != ident:
        raise FhirError(
            400,
            "invalid",
            Message(N_("The resource id must be the id in the URL.")),
            expression=["Patient.id"],
        )
    fields = mapping.from_fhir(resource)
    current = await ctx.uow.patients.get(patient_id)
    if current is None:
        raise PatientNotFound()
    authorize(ctx.principal, Permission.PATIENTS_WRITE, current.unit_path)
    if if_match is not None and if_match != current.version:
        raise FhirError(
            412,
            "conflict",
            Message(
                N_("The record is at version {current}, not {expected}: reload it."),
                {"current": current.version, "expected": if_match},
            ),
            code="version_mismatch",
        )
    if fields.unit_id is not None and fields.unit_id != current.unit_id:
        raise FhirError(
            422,
            "business-rule",
            Message(N_("The registering facility of a patient cannot change.")),
            expression=["Patient.managingOrganization"],
        )
    changes = {k: v for k, v in fields.values.items() if _differs(getattr(current, k), v)}
    try:
        if changes:
            await use_cases.update_patient(
                patient_id,
                PatientChanges(changes, expected_version=if_match),
                principal=ctx.principal,
                patients=ctx.uow.patients,
                audit=ctx.uow.audit,
                clock=ctx.clock,
            )
        await _sync_identifiers(ctx, current, fields)
    except ValidationFailed as exc:
        raise _field_errors(exc) from exc
    stored = await ctx.uow.patients.get(patient_id)
    assert stored is not None
    return WriteResult(mapping.to_fhir(stored), False, fields.not_stored)


def _differs(stored: Any, given: Any) -> bool:
    """Whether a field changes; contacts compare without their row ids."""
    if isinstance(stored, tuple) and stored and isinstance(stored[0], EmergencyContact):
        stored = tuple((c.name, c.relationship, c.phone) for c in stored)
        given = tuple((c.name, c.relationship, c.phone) for c in given)
    return bool(stored != given)


async def _sync_identifiers(
    ctx: FhirContext, current: Patient, fields: mapping.PatientFields
) -> None:
    def key(i: Any) -> tuple[str, str]:
        return (i.type, i.value)

    wanted = {key(i): i for i in fields.identifiers}
    held = {key(i): i for i in current.identifiers}
    for k, stored in held.items():
        if k not in wanted and stored.id is not None:
            await records.remove_identifier(
                current.id,
                stored.id,
                principal=ctx.principal,
                patients=ctx.uow.patients,
                audit=ctx.uow.audit,
            )
    for k, identifier in wanted.items():
        if k not in held:
            await records.add_identifier(
                current.id,
                identifier,
                principal=ctx.principal,
                patients=ctx.uow.patients,
                audit=ctx.uow.audit,
            )


async def everything(ctx: FhirContext, ident: str) -> Resource:
    """The patient and what Afiya holds about them that the caller may read."""
    patient = await read(ctx, ident)
    entries = [patient]
    for source in EVERYTHING_SOURCES:
        entries.extend(await source(ctx, uuid_of(ident)))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "entry": [
            {
                "fullUrl": ctx.url(r["resourceType"], r["id"]),
                "resource": r,
                "search": {"mode": "match" if r is patient else "include"},
            }
            for r in entries
        ],
    }


PATIENT = register(
    ResourceType(
        name="Patient",
        read_permission=Permission.PATIENTS_READ,
        write_permission=Permission.PATIENTS_WRITE,
        search_spec=SPEC,
        read=read,
        vread=vread,
        history=history,
        search=search,
        create=create,
        update=update,
        operations={"everything": everything},
        entities=("patient", "patient_phone", "patient_identifier", "patient_contact"),
        subscribable=True,
        conditional_create=True,
        patient_data=True,
        documentation=(
            "Kept: identifiers (NNI "
            + NNI_SYSTEM
            + ", NSS "
            + NSS_SYSTEM
            + ", MRN "
            + MRN_SYSTEM
            + " issued by Afiya, other systems as other identifiers), one Latin-script "
            "and one Arabic-script name, phones, gender, birthDate (a year alone is kept as "
            "an estimated or known birth year), the first address, the preferred language, "
            "contacts, managingOrganization (the registering facility). Not kept: other "
            "names, e-mail, photo, deceased, maritalStatus, multipleBirth, other addresses, "
            "generalPractitioner, extensions; a create or update lists what it did not "
            "store in an OperationOutcome (Prefer: return=OperationOutcome) and in the "
            "X-Afiya-Not-Stored header. A probable duplicate answers 409 with the "
            "candidates; send X-Afiya-Confirm-New-Person: <reason> to register anyway. "
            "vread/_history come from the change log: names, gender, birth, identifiers "
            "NNI/NSS, address, language and phones as they were; contacts and other "
            "identifiers are shown as they are now only in the current version."
        ),
        param_docs={
            "identifier": "system|value: NNI, NSS, MRN or another identifier (exact, blind index)",
            "name": "any Latin or Arabic given/family name (starts-with, :exact, :contains)",
            "phone": "a phone number (exact, E.164 or national form)",
            "telecom": "same as phone",
            "birthdate": "date with prefixes; a year-only value compares birth years",
        },
    )
)
