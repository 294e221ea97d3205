"""Merge, unmerge, and the registry scan that lists probable duplicate pairs for review."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize, scope_of
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.patients.errors import PatientNotFound
from afiya.domain.patients.matching import MatchDecision, prepare, score_pair
from afiya.domain.patients.model import (
    MERGE_FIELDS,
    DuplicatePair,
    MergeRecord,
    Patient,
    PatientStatus,
)
from afiya.domain.patients.ports import DuplicatePairStore, MergeStore, PatientRepository
from afiya.domain.patients.references import registered_references
from afiya.domain.patients.use_cases import index_keys, name_search_keys
from afiya.domain.platform.jobs import JobRequest, JobScheduler
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

SIDES = frozenset({"survivor", "duplicate"})
SCAN_JOB = "patients.scan_duplicates"


def _reason_errors(reason: str, field: str = "reason") -> list[FieldError]:
    if len(reason.strip()) >= 5:
        return []
    msgid = N_("Give a reason (at least 5 characters).")
    return [FieldError(field, Message(msgid), "required")]


async def _active(patient_id: UUID, patients: PatientRepository, field: str) -> Patient:
    patient = await patients.get(patient_id)
    if patient is None:
        raise PatientNotFound()
    if patient.status is not PatientStatus.ACTIVE:
        msgid = N_("This record was already merged into another one.")
        raise ValidationFailed([FieldError(field, Message(msgid), "merged")])
    return patient


def merged_identity(survivor: Patient, duplicate: Patient, choices: Mapping[str, str]) -> Patient:
    """The survivor with the chosen field groups taken from the duplicate."""
    values = {}
    for group, side in choices.items():
        if side == "duplicate":
            values.update({f: getattr(duplicate, f) for f in MERGE_FIELDS[group]})
    return dataclasses.replace(survivor, **values)


async def merge_patients(
    survivor_id: UUID,
    duplicate_id: UUID,
    choices: Mapping[str, str],
    reason: str,
    *,
    principal: Principal,
    patients: PatientRepository,
    merges: MergeStore,
    pairs: DuplicatePairStore,
    audit: AuditLog,
    clock: Clock,
) -> MergeRecord:
    """Merge a duplicate into a survivor, field group by field group, reversibly.

    Rules: the caller may merge at both records' facilities; both are active and
    distinct; each field group (names, Arabic names, sex, birth, NNI, NSS, address,
    language, SMS consent) keeps the survivor's value unless the choice says
    ``duplicate``; every row that points at the duplicate through the registry of
    references (phones, identifiers, payers, contacts, and other modules' visits,
    orders, documents...) follows the survivor; the duplicate stays, marked merged into
    the survivor; snapshots of both rows and the list of moved rows make it undoable.
    """
    errors = _reason_errors(reason)
    errors += [
        FieldError(f"choices.{group}", Message(N_("Unknown field group or side.")), "invalid")
        for group, side in choices.items()
        if group not in MERGE_FIELDS or side not in SIDES
    ]
    if survivor_id == duplicate_id:
        msgid = N_("A record cannot be merged into itself.")
        errors.append(FieldError("duplicate_id", Message(msgid), "same_record"))
    if errors:
        raise ValidationFailed(errors)
    survivor = await _active(survivor_id, patients, "survivor_id")
    duplicate = await _active(duplicate_id, patients, "duplicate_id")
    authorize(principal, Permission.PATIENTS_MERGE, survivor.unit_path)
    authorize(principal, Permission.PATIENTS_MERGE, duplicate.unit_path)
    before = {
        "survivor": await merges.snapshot(survivor.id),
        "duplicate": await merges.snapshot(duplicate.id),
    }
    merged = merged_identity(survivor, duplicate, choices)
    if merged != survivor:
        await patients.update(merged)
    moved = await merges.move_references(registered_references(), duplicate.id, survivor.id)
    await merges.set_status(duplicate.id, PatientStatus.MERGED.value, survivor.id)
    await merges.refresh_keys(survivor.id)
    await merges.refresh_keys(duplicate.id)
    after = await merges.snapshot(survivor.id)
    changed = tuple(c for c in after if after[c] != before["survivor"].get(c))
    record = MergeRecord(
        id=uuid7(),
        survivor_id=survivor.id,
        duplicate_id=duplicate.id,
        choices=dict(choices),
        changed_columns=changed,
        before=before,
        after={"survivor": after},
        moved=moved,
        reason=reason.strip(),
        merged_at=clock.now(),
        merged_by=principal.user_id,
    )
    await merges.add(record)
    await pairs.set_status(survivor.id, duplicate.id, "merged", reason.strip())
    moved_counts = {k: len(v) for k, v in moved.items() if v}
    for patient_id in (survivor.id, duplicate.id):
        await audit.record(
            AuditRecord(
                "patient.merge",
                "patient_merge",
                str(record.id),
                patient_id,
                details={
                    "survivor_id": str(survivor.id),
                    "duplicate_id": str(duplicate.id),
                    "choices": dict(choices),
                    "moved": moved_counts,
                    "reason": reason.strip(),
                },
            )
        )
    return record


async def unmerge_patients(
    merge_id: UUID,
    reason: str,
    *,
    principal: Principal,
    patients: PatientRepository,
    merges: MergeStore,
    pairs: DuplicatePairStore,
    audit: AuditLog,
    clock: Clock,
) -> MergeRecord:
    """Undo a merge from its snapshot: both records and their links as they were.

    Rules: the survivor's fields the merge changed go back to their values before the
    merge, except a field someone changed after the merge (kept, and listed); the rows
    the merge moved go back to the duplicate (rows added to the survivor since stay);
    the duplicate is active again; the pair is remembered as two different people.
    """
    errors = _reason_errors(reason)
    if errors:
        raise ValidationFailed(errors)
    record = await merges.get(merge_id)
    if record is None:
        raise NotFound(Message(N_("Merge not found.")))
    survivor = await patients.get(record.survivor_id)
    duplicate = await patients.get(record.duplicate_id)
    if survivor is None or duplicate is None:
        raise PatientNotFound()
    authorize(principal, Permission.PATIENTS_MERGE, survivor.unit_path)
    authorize(principal, Permission.PATIENTS_MERGE, duplicate.unit_path)
    if record.unmerged_at is not None:
        raise Conflict(Message(N_("This merge was already undone.")), code="already_unmerged")
    current = await merges.snapshot(survivor.id)
    after = record.after["survivor"]
    restore = [c for c in record.changed_columns if current.get(c) == after.get(c)]
    kept = tuple(c for c in record.changed_columns if c not in restore)
    await merges.restore(survivor.id, record.before["survivor"], restore)
    await merges.move_back(record.moved, survivor.id, duplicate.id)
    await merges.set_status(duplicate.id, PatientStatus.ACTIVE.value, None)
    await merges.refresh_keys(survivor.id)
    await merges.refresh_keys(duplicate.id)
    done = dataclasses.replace(
        record,
        unmerged_at=clock.now(),
        unmerged_by=principal.user_id,
        unmerge_reason=reason.strip(),
        kept_on_unmerge=kept,
    )
    await merges.save(done)
    await pairs.set_status(survivor.id, duplicate.id, "distinct", reason.strip())
    for patient_id in (survivor.id, duplicate.id):
        await audit.record(
            AuditRecord(
                "patient.unmerge",
                "patient_merge",
                str(record.id),
                patient_id,
                details={"reason": reason.strip(), "kept": list(kept)},
            )
        )
    return done


@dataclass(frozen=True, slots=True)
class ScanReport:
    scanned: int
    pairs_found: int
    last_id: UUID | None


async def scan_duplicates(
    *,
    patients: PatientRepository,
    pairs: DuplicatePairStore,
    after: UUID | None = None,
    batch: int = 500,
    max_patients: int | None = None,
) -> ScanReport:
    """Walk the registry in id order; list every probable duplicate pair for review.

    Each patient's candidates come from the blocking keys; a pair is scored once (from
    its lower id); pairs already reviewed (distinct, merged) keep their status. Safe to
    run twice or to resume from ``after``.
    """
    scanned = found = 0
    last = after
    while max_patients is None or scanned < max_patients:
        profiles = await patients.scan_profiles(after=last, limit=batch)
        if not profiles:
            break
        batch_pairs: list[DuplicatePair] = []
        for profile in profiles:
            keys = index_keys(profile.traits, profile.phone_keys) - name_search_keys(profile.traits)
            prepared = prepare(profile.traits)
            for other in await patients.candidates(keys, scope=None, exclude=profile.patient_id):
                if other.patient_id < profile.patient_id:
                    continue  # scored when the scan reached the other one
                result = score_pair(prepared, other.traits)
                if result.decision is MatchDecision.NON_MATCH:
                    continue
                batch_pairs.append(
                    DuplicatePair(
                        id=uuid7(),
                        patient_a_id=profile.patient_id,
                        patient_b_id=other.patient_id,
                        score=result.score,
                        decision=result.decision.value,
                        reasons=tuple(
                            {
                                "code": r.code,
                                "msgid": r.message.msgid,
                                "params": dict(r.message.params),
                                "weight": r.weight,
                            }
                            for r in result.reasons
                        ),
                    )
                )
        found += await pairs.upsert(batch_pairs)
        scanned += len(profiles)
        last = profiles[-1].patient_id
    return ScanReport(scanned, found, last)


async def list_duplicate_pairs(
    *, principal: Principal, pairs: DuplicatePairStore, after: UUID | None, limit: int
) -> list[DuplicatePair]:
    """Open pairs whose two records both lie in the caller's facilities, best score first."""
    authorize(principal, Permission.PATIENTS_MERGE)
    return await pairs.list_open(scope_of(principal), after=after, limit=limit)


async def dismiss_pair(
    pair_id: UUID,
    note: str,
    *,
    principal: Principal,
    pairs: DuplicatePairStore,
    patients: PatientRepository,
    audit: AuditLog,
) -> None:
    """Record that a listed pair is two different people (it is not listed again)."""
    errors = _reason_errors(note, "note")
    if errors:
        raise ValidationFailed(errors)
    pair = await pairs.get(pair_id)
    if pair is None:
        raise NotFound(Message(N_("Duplicate pair not found.")))
    for patient_id in (pair.patient_a_id, pair.patient_b_id):
        patient = await patients.get(patient_id)
        if patient is not None:
            authorize(principal, Permission.PATIENTS_MERGE, patient.unit_path)
    await pairs.set_status(pair.patient_a_id, pair.patient_b_id, "distinct", note.strip())
    await audit.record(
        AuditRecord(
            "patient.pair_dismissed",
            "patient_duplicate_pair",
            str(pair.id),
            pair.patient_a_id,
            details={"other": str(pair.patient_b_id), "note": note.strip()},
        )
    )


async def request_duplicate_scan(
    *, principal: Principal, jobs: JobScheduler, clock: Clock, audit: AuditLog
) -> UUID:
    """Schedule the registry scan (one per minute at most: a double click runs it once)."""
    authorize(principal, Permission.PATIENTS_MERGE)
    stamp = clock.now().strftime("%Y%m%dT%H%M")
    job_id = await jobs.schedule(JobRequest(SCAN_JOB, {}, idempotency_key=f"{SCAN_JOB}:{stamp}"))
    await audit.record(AuditRecord("patient.scan_requested", "job", str(job_id)))
    return job_id


async def get_merge(
    merge_id: UUID, *, principal: Principal, patients: PatientRepository, merges: MergeStore
) -> MergeRecord:
    """Read a merge record (for the survivor's facilities only)."""
    record = await merges.get(merge_id)
    if record is None:
        raise NotFound(Message(N_("Merge not found.")))
    survivor = await patients.get(record.survivor_id)
    authorize(principal, Permission.PATIENTS_MERGE, survivor.unit_path if survivor else "/")
    return record
