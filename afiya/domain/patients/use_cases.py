"""Use cases of the patient registry: register, read, change, search, duplicates, sub-records."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, Scope, authorize, in_scope, scope_of
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.orgunits.model import UnitKind
from afiya.domain.orgunits.ports import OrgUnitRepository
from afiya.domain.patients.errors import PatientNotFound, ProbableDuplicate, SameNationalId
from afiya.domain.patients.matching import (
    MatchDecision,
    MatchResult,
    PersonTraits,
    PreparedTraits,
    block_key,
    blocking_keys,
    prepare,
    score_pair,
)
from afiya.domain.patients.model import (
    PATIENT_FIELDS,
    Candidate,
    MatchProfile,
    NewPatient,
    Patient,
    PatientChanges,
    PatientStatus,
)
from afiya.domain.patients.mrn import format_mrn
from afiya.domain.patients.names import name_tokens
from afiya.domain.patients.ports import (
    DuplicatePairStore,
    MrnCounter,
    PatientFilter,
    PatientRepository,
)
from afiya.domain.patients.rules import Country
from afiya.domain.patients.validation import (
    check_identifier,
    check_identity,
    check_payer,
    normalized,
)
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

MAX_CANDIDATES_SHOWN = 10
# Bounded candidate sets: the registry ranks candidates by blocking keys shared (a true
# duplicate shares many: names, decade, phone, NNI; a namesake one or two), then only the
# best are scored here, so the cost does not grow with the registry.
NAME_SEARCH_POOL = 150  # candidates scored per name search
DUPLICATE_POOL = 100  # candidates scored per duplicate check
_NAME_MISMATCH = frozenset({"name_different", "name_distinct", "patronym_reversed"})


def _audit(action: str, patient_id: UUID | None, **details: Any) -> AuditRecord:
    return AuditRecord(
        action, "patient", str(patient_id) if patient_id else None, patient_id, details=details
    )


def name_search_keys(traits: PersonTraits | PreparedTraits) -> set[str]:
    """Index keys for finding a patient by one name (``t:`` + phonetic key of each token)."""
    tokens = (traits if isinstance(traits, PreparedTraits) else prepare(traits)).tokens[:4]
    return {f"t:{block_key(t)}" for t in tokens} - {"t:"}


def index_keys(traits: PersonTraits, phone_keys: frozenset[str] = frozenset()) -> set[str]:
    """Every key stored for a patient: blocking keys, name-search keys, all phones."""
    prepared = prepare(traits)
    return blocking_keys(prepared) | name_search_keys(prepared) | {f"ph:{k}" for k in phone_keys}


def _align_phones(
    left: PersonTraits, left_phones: frozenset[str], right: MatchProfile
) -> tuple[PersonTraits, PersonTraits]:
    """Compare on a phone both records list, when there is one (families own several)."""
    common = sorted(left_phones & right.phone_keys)
    if not common or left.phone_key == right.traits.phone_key:
        return left, right.traits
    return (
        dataclasses.replace(left, phone_key=common[0]),
        dataclasses.replace(right.traits, phone_key=common[0]),
    )


async def find_candidates(
    patient: Patient, *, principal: Principal, patients: PatientRepository
) -> list[Candidate]:
    """Probable duplicates of ``patient`` in the whole registry, best first.

    Candidates come from one indexed query on the blocking keys, then every candidate is
    scored (Fellegi–Sunter, with reasons). Those the caller may not see are returned
    masked (``in_scope`` False): the clerk learns that the person may exist elsewhere.
    """
    traits = patients.traits_of(patient)
    phones = patients.phone_keys_of(patient)
    profiles = await patients.candidates(
        index_keys(traits, phones) - name_search_keys(traits),
        scope=None,
        exclude=patient.id,
        limit=DUPLICATE_POOL,
    )
    prepared = prepare(traits)
    scored: list[tuple[MatchResult, MatchProfile]] = []
    for profile in profiles:
        left, right = _align_phones(traits, phones, profile)
        result = score_pair(prepared if left is traits else left, right)
        if result.decision is not MatchDecision.NON_MATCH:
            scored.append((result, profile))
    scored.sort(key=lambda item: (-item[0].score, str(item[1].patient_id)))
    scored = scored[:MAX_CANDIDATES_SHOWN]
    found = await patients.get_many([p.patient_id for _, p in scored])
    return [
        Candidate(found[p.patient_id], result, in_scope(principal, p.unit_path))
        for result, p in scored
        if p.patient_id in found
    ]


async def _check_nni_free(
    patient: Patient, *, principal: Principal, patients: PatientRepository
) -> None:
    if not patient.nni:
        return
    holders = [i for i in await patients.find_by_nni(patient.nni) if i != patient.id]
    if holders:
        found = await patients.get_many(holders)
        certain = MatchResult(1.0, MatchDecision.MATCH, (), certain=True)
        raise SameNationalId(
            [Candidate(p, certain, in_scope(principal, p.unit_path)) for p in found.values()]
        )


async def register_patient(
    new: NewPatient,
    *,
    principal: Principal,
    patients: PatientRepository,
    units: OrgUnitRepository,
    mrns: MrnCounter,
    pairs: DuplicatePairStore,
    audit: AuditLog,
    clock: Clock,
    country: Country = "MR",
) -> tuple[Patient, bool]:
    """Register a patient at a facility; return it and whether it was created now.

    Rules: the caller writes patients at that facility; every invalid field is reported
    at once; the same NNI is always the same person (refused, never overridable); a
    probable duplicate blocks registration (409 with the candidates, scores and reasons)
    unless the clerk confirms "new person" with a reason, which is audited and remembered
    so the registry scan does not raise the same pair again; the MRN comes from the
    facility's own counter on this node (works offline). A retried registration with the
    same client-made id returns the first record instead of a copy.
    """
    unit = await units.get(new.unit_id)
    if unit is None:
        msgid = N_("The registering facility does not exist.")
        raise ValidationFailed([FieldError("unit_id", Message(msgid), "not_found")])
    authorize(principal, Permission.PATIENTS_WRITE, unit.path)
    if new.id is not None:
        existing = await patients.get(new.id)
        if existing is not None:
            authorize(principal, Permission.PATIENTS_WRITE, existing.unit_path)
            await audit.record(_audit("patient.create_replayed", existing.id))
            return existing, False
    fields = {
        f.name: getattr(new, f.name) for f in dataclasses.fields(Patient) if hasattr(new, f.name)
    }
    fields.update(id=new.id or uuid7(), mrn="", unit_id=unit.id, unit_path=unit.path)
    draft = Patient(**fields)
    errors = check_identity(draft, today=clock.now().date(), country=country)
    for i, identifier in enumerate(new.identifiers):
        errors += check_identifier(identifier, prefix=f"identifiers.{i}.")
    for i, payer in enumerate(new.payers):
        errors += check_payer(payer, prefix=f"payers.{i}.")
    if unit.kind is not UnitKind.FACILITY:
        msgid = N_("Patients are registered at a facility, not at a {kind}.")
        errors.append(FieldError("unit_id", Message(msgid, {"kind": unit.kind.value}), "kind"))
    reason = (new.confirm_reason or "").strip()
    if new.confirm_new_person and len(reason) < 5:
        msgid = N_("Say why this is a new person (at least 5 characters).")
        errors.append(FieldError("confirm_reason", Message(msgid), "required"))
    if errors:
        raise ValidationFailed(errors)
    draft = normalized(draft, country=country)
    await _check_nni_free(draft, principal=principal, patients=patients)
    candidates = await find_candidates(draft, principal=principal, patients=patients)
    if candidates and not new.confirm_new_person:
        await audit.record(
            _audit(
                "patient.duplicate_warning",
                None,
                candidates=[str(c.patient.id) for c in candidates],
                scores=[round(c.result.score, 4) for c in candidates],
            )
        )
        raise ProbableDuplicate(candidates)
    prefix, sequence = await mrns.next(unit.id, code=unit.code, uid=unit.uid)
    patient = dataclasses.replace(draft, mrn=format_mrn(prefix, sequence))
    await patients.add(patient)
    for candidate in candidates:
        await pairs.set_status(patient.id, candidate.patient.id, "distinct", reason)
    details: dict[str, Any] = {"mrn": patient.mrn}
    if candidates:
        details.update(
            confirmed_new_person=True,
            reason=reason,
            candidates=[str(c.patient.id) for c in candidates],
        )
    await audit.record(_audit("patient.create", patient.id, **details))
    return await patients.get(patient.id) or patient, True


async def _load(patient_id: UUID, patients: PatientRepository) -> Patient:
    patient = await patients.get(patient_id)
    if patient is None:
        raise PatientNotFound()
    return patient


async def get_patient(
    patient_id: UUID, *, principal: Principal, patients: PatientRepository, audit: AuditLog
) -> Patient:
    """Read one record; outside the caller's facilities it is refused (and audited)."""
    patient = await _load(patient_id, patients)
    authorize(principal, Permission.PATIENTS_READ, patient.unit_path)
    await audit.record(_audit("patient.read", patient.id))
    return patient


def _refuse_merged(patient: Patient) -> None:
    if patient.status is PatientStatus.MERGED:
        raise Conflict(
            Message(N_("This record was merged into another one; use the surviving record.")),
            code="patient_merged",
            details={"merged_into_id": str(patient.merged_into_id)},
        )


async def update_patient(
    patient_id: UUID,
    changes: PatientChanges,
    *,
    principal: Principal,
    patients: PatientRepository,
    audit: AuditLog,
    clock: Clock,
    country: Country = "MR",
) -> Patient:
    """Change identity fields; optimistic concurrency by version; same rules as registration.

    A merged record cannot change. A new NNI already held by another patient is refused.
    """
    patient = await _load(patient_id, patients)
    authorize(principal, Permission.PATIENTS_WRITE, patient.unit_path)
    _refuse_merged(patient)
    if changes.expected_version is not None and changes.expected_version != patient.version:
        raise Conflict(
            Message(N_("The record was changed by someone else; reload it.")),
            code="version_mismatch",
            details={"current_version": patient.version},
        )
    unknown = sorted(set(changes.values) - set(PATIENT_FIELDS))
    if unknown:
        raise ValueError(f"not patient fields: {unknown}")
    values = dict(changes.values)
    if "birth_date" in values and "birth_year" not in values:
        values["birth_year"] = None  # derived again from the new date
    changed = dataclasses.replace(patient, **values)
    errors = check_identity(changed, today=clock.now().date(), country=country)
    if errors:
        raise ValidationFailed(errors)
    changed = normalized(changed, country=country)
    if changed.nni != patient.nni:
        await _check_nni_free(changed, principal=principal, patients=patients)
    updated = await patients.update(changed)
    await audit.record(_audit("patient.update", patient.id, fields=sorted(changes.values)))
    return updated


@dataclass(frozen=True, slots=True)
class PatientSearch:
    name: str | None = None
    nni: str | None = None
    identifier_type: str | None = None
    identifier: str | None = None
    phone: str | None = None
    mrn: str | None = None
    sex: str | None = None
    birth_year_from: int | None = None
    birth_year_to: int | None = None
    unit_id: UUID | None = None
    offset: int = 0
    after: UUID | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class SearchHit:
    patient: Patient
    result: MatchResult | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    next_offset: int | None = None
    next_after: UUID | None = None


def _criteria(query: PatientSearch) -> list[str]:
    names = ["name", "nni", "identifier", "phone", "mrn", "sex", "birth_year_from"]
    names += ["birth_year_to", "unit_id"]
    return [n for n in names if getattr(query, n) not in (None, "")]


async def _exact_ids(query: PatientSearch, patients: PatientRepository) -> set[UUID] | None:
    found: set[UUID] | None = None
    lookups = []
    if query.nni:
        lookups.append(patients.find_by_nni(query.nni))
    if query.identifier:
        lookups.append(
            patients.find_by_identifier(query.identifier_type or "other", query.identifier)
        )
    if query.phone:
        lookups.append(patients.find_by_phone(query.phone))
    if query.mrn:
        lookups.append(patients.find_by_mrn(query.mrn))
    for lookup in lookups:
        ids = set(await lookup)
        found = ids if found is None else found & ids
    return found


def _matches(profile: MatchProfile, where: PatientFilter, scope: Scope) -> bool:
    """In the caller's scope and, when asked, in the chosen facility's sub-tree (the same
    sub-tree rule as the policy's, not a string comparison of its own)."""
    t = profile.traits
    year = t.birth_date.year if t.birth_date else t.birth_year
    return (
        scope.contains(profile.unit_path)
        and (where.unit_path is None or Scope((where.unit_path,)).contains(profile.unit_path))
        and (where.sex is None or t.sex == where.sex)
        and (where.birth_year_from is None or (year is not None and year >= where.birth_year_from))
        and (where.birth_year_to is None or (year is not None and year <= where.birth_year_to))
    )


async def search_patients(
    query: PatientSearch,
    *,
    principal: Principal,
    patients: PatientRepository,
    units: OrgUnitRepository,
    audit: AuditLog,
) -> SearchPage:
    """Search inside the caller's facilities, ranked by match quality.

    Identifier (NNI, other types), phone and MRN are exact (blind index for the encrypted
    ones); a name is fuzzy: candidates sharing a name key, each scored against the query
    (spelling and transliteration variants, swapped given/family names), names that do
    not agree are dropped. Birth-year range, sex and facility filter. The search and the
    records returned are audited.
    """
    authorize(principal, Permission.PATIENTS_READ)
    scope = scope_of(principal)
    unit_path = None
    if query.unit_id is not None:
        unit = await units.get(query.unit_id)
        unit_path = unit.path if unit else "/nowhere/"
    where = PatientFilter(query.sex, query.birth_year_from, query.birth_year_to, unit_path)
    exact = await _exact_ids(query, patients)
    page: SearchPage
    if query.name and query.name.strip():
        traits = PersonTraits(given_names=query.name, sex=query.sex)  # type: ignore[arg-type]
        tokens = name_tokens(query.name, keep_particles=False)
        keys = blocking_keys(traits) if len(tokens) > 1 else name_search_keys(traits)
        keys = {k for k in keys if k.startswith(("nn:", "n1:", "t:"))}
        profiles = await patients.candidates(keys, scope=scope, where=where, limit=NAME_SEARCH_POOL)
        if exact is not None:
            profiles = [p for p in profiles if p.patient_id in exact]
        prepared = prepare(traits)
        ranked = []
        for profile in profiles:
            result = score_pair(prepared, profile.traits)
            if not any(r.code in _NAME_MISMATCH for r in result.reasons):
                ranked.append((result, profile.patient_id))
        ranked.sort(key=lambda item: (-item[0].score, str(item[1])))
        window = ranked[query.offset : query.offset + query.limit]
        found = await patients.get_many([pid for _, pid in window])
        hits = [SearchHit(found[pid], result) for result, pid in window if pid in found]
        more = query.offset + query.limit < len(ranked)
        page = SearchPage(hits, next_offset=query.offset + query.limit if more else None)
    elif exact is not None:
        profiles = await patients.profiles(sorted(exact))
        ids = sorted((p.patient_id for p in profiles if _matches(p, where, scope)), reverse=True)
        ids = [i for i in ids if query.after is None or i < query.after][: query.limit]
        found = await patients.get_many(ids)
        page = SearchPage([SearchHit(found[i]) for i in ids if i in found])
    else:
        ids = await patients.list_ids(scope, where, after=query.after, limit=query.limit)
        found = await patients.get_many(ids)
        full = len(ids) == query.limit
        page = SearchPage(
            [SearchHit(found[i]) for i in ids if i in found], next_after=ids[-1] if full else None
        )
    await audit.record(
        _audit(
            "patient.search",
            None,
            criteria=_criteria(query),
            results=len(page.hits),
            patient_ids=[str(h.patient.id) for h in page.hits],
        )
    )
    return page


async def duplicates_of(
    patient_id: UUID, *, principal: Principal, patients: PatientRepository, audit: AuditLog
) -> list[Candidate]:
    """Probable duplicates of one record, with scores and reasons (audited as a read)."""
    patient = await _load(patient_id, patients)
    authorize(principal, Permission.PATIENTS_READ, patient.unit_path)
    candidates = await find_candidates(patient, principal=principal, patients=patients)
    await audit.record(
        _audit("patient.duplicates", patient.id, candidates=[str(c.patient.id) for c in candidates])
    )
    return candidates


def today_of(clock: Clock) -> date:
    return clock.now().date()


def visible(candidates: Sequence[Candidate]) -> list[Candidate]:
    return [c for c in candidates if c.in_scope]
