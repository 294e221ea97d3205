"""Ports of the patient module."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from afiya.domain.access.policy import Scope
from afiya.domain.patients.matching import PersonTraits
from afiya.domain.patients.model import (
    DuplicatePair,
    Identifier,
    MatchProfile,
    MergeRecord,
    Patient,
    Payer,
)
from afiya.domain.patients.references import PatientReference


@dataclass(frozen=True, slots=True)
class PatientFilter:
    """Filters a search applies in the database (always with a :class:`Scope`)."""

    sex: str | None = None
    birth_year_from: int | None = None
    birth_year_to: int | None = None
    unit_path: str | None = None  # a facility (or any unit): its sub-tree only


class PatientRepository(Protocol):
    """Stores patients; encrypts NNI, NSS, phones and identifiers; keeps match keys.

    Every query that lists patients takes a :class:`Scope`. Exact lookups by a sensitive
    value go through the blind index: the value is never decrypted to search.
    """

    def traits_of(self, patient: Patient) -> PersonTraits:
        """Matching traits with phone and NNI replaced by their keyed blind indexes."""
        ...

    def phone_keys_of(self, patient: Patient) -> frozenset[str]: ...

    async def get(self, patient_id: UUID) -> Patient | None: ...

    async def get_many(self, patient_ids: Sequence[UUID]) -> dict[UUID, Patient]: ...

    async def add(self, patient: Patient) -> None:
        """Insert the patient with phones, contacts, identifiers, payers and match keys."""
        ...

    async def update(self, patient: Patient) -> Patient:
        """Save scalar fields, phones and contacts; refresh match keys; return as stored."""
        ...

    async def find_by_nni(self, nni: str) -> list[UUID]:
        """Active patients holding this NNI (normally zero or one)."""
        ...

    async def find_by_identifier(self, type_: str, value: str) -> list[UUID]: ...

    async def find_by_phone(self, number: str) -> list[UUID]: ...

    async def find_by_mrn(self, mrn: str) -> list[UUID]: ...

    async def candidates(
        self,
        keys: Iterable[str],
        *,
        scope: Scope | None,
        where: PatientFilter = PatientFilter(),
        exclude: UUID | None = None,
        limit: int = 200,
    ) -> list[MatchProfile]:
        """Active patients sharing at least one blocking key (``scope`` None: everyone)."""
        ...

    async def profiles(self, patient_ids: Sequence[UUID]) -> list[MatchProfile]: ...

    async def list_ids(
        self, scope: Scope, where: PatientFilter, *, after: UUID | None, limit: int
    ) -> list[UUID]:
        """Active patients by filters only, newest first (keyset on the UUIDv7 id)."""
        ...

    async def scan_profiles(self, *, after: UUID | None, limit: int) -> list[MatchProfile]:
        """Every active patient, in id order, a batch at a time (duplicate scan)."""
        ...

    async def add_identifier(self, patient_id: UUID, identifier: Identifier) -> Identifier: ...

    async def remove_identifier(self, patient_id: UUID, identifier_id: UUID) -> bool: ...

    async def add_payer(self, patient_id: UUID, payer: Payer) -> Payer: ...

    async def update_payer(self, patient_id: UUID, payer: Payer) -> Payer | None: ...

    async def remove_payer(self, patient_id: UUID, payer_id: UUID) -> bool: ...


class MrnCounter(Protocol):
    """Issues the next sequence number of a facility on this node (never reused)."""

    async def next(self, unit_id: UUID, *, code: str | None, uid: str) -> tuple[str, int]:
        """Return ``(site prefix, sequence)``; creates the site on first use."""
        ...


class MergeStore(Protocol):
    """Row snapshots, reference moves and merge records (the exact undo of a merge)."""

    async def snapshot(self, patient_id: UUID) -> dict[str, Any]: ...

    async def restore(
        self, patient_id: UUID, snapshot: Mapping[str, Any], columns: Sequence[str]
    ) -> None: ...

    async def set_status(self, patient_id: UUID, status: str, merged_into: UUID | None) -> None: ...

    async def move_references(
        self, references: Sequence[PatientReference], source: UUID, target: UUID
    ) -> dict[str, list[str]]:
        """Re-point every row of every reference; return the moved row ids per reference."""
        ...

    async def move_back(self, moved: Mapping[str, list[str]], source: UUID, target: UUID) -> int:
        """Move the listed rows (still at ``source``) back to ``target``; return how many."""
        ...

    async def refresh_keys(self, patient_id: UUID) -> None: ...

    async def add(self, record: MergeRecord) -> None: ...

    async def get(self, merge_id: UUID) -> MergeRecord | None: ...

    async def save(self, record: MergeRecord) -> None: ...


class DuplicatePairStore(Protocol):
    async def upsert(self, pairs: Sequence[DuplicatePair]) -> int:
        """Insert new pairs, refresh the score of open ones; reviewed pairs stay as they are."""
        ...

    async def list_open(
        self, scope: Scope, *, after: UUID | None, limit: int
    ) -> list[DuplicatePair]: ...

    async def get(self, pair_id: UUID) -> DuplicatePair | None: ...

    async def set_status(
        self, patient_a: UUID, patient_b: UUID, status: str, note: str | None
    ) -> None: ...
