"""Bulk load of patients (a legacy registry, a benchmark): Core executemany or PostgreSQL COPY.

Rows are built in memory a batch at a time (bounded memory): encrypted NNI and phones with
their blind indexes, MRNs from a reserved range of the facility's counter, and match keys.
This path is for an initial load on the node that owns the facilities: it writes neither
the change log nor audit events per patient (one audit event per load, by the caller),
and expects new ids (a re-run with the same ids fails on the primary key, atomically per
batch, rather than creating copies).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.patients import (
    PatientMatchKeyRow,
    PatientMrnSiteRow,
    PatientPhoneRow,
    PatientRow,
)
from afiya.adapters.db.repositories.patient_merges import SqlMrnCounter
from afiya.adapters.db.repositories.patient_queries import NNI, PHONE, key_hash
from afiya.adapters.db.repositories.patients import SqlPatientRepository
from afiya.domain.patients.model import Patient
from afiya.domain.patients.mrn import format_mrn
from afiya.domain.patients.use_cases import index_keys
from afiya.domain.patients.validation import completeness
from afiya.domain.platform.crypto import BlindIndex, FieldCipher
from afiya.domain.shared.ids import uuid7

_PATIENT_COLUMNS = [c.name for c in PatientRow.__table__.columns]
_PHONE_COLUMNS = [c.name for c in PatientPhoneRow.__table__.columns]


async def _reserve(
    session: AsyncSession, node: str, unit_id: UUID, code: str | None, uid: str, n: int
) -> tuple[str, int]:
    """Take ``n`` numbers of the facility's counter at once; return the prefix and the first."""
    prefix, first = await SqlMrnCounter(session, node).next(unit_id, code=code, uid=uid)
    if n > 1:
        site = PatientMrnSiteRow
        await session.execute(
            update(site)
            .where(site.unit_id == unit_id, site.node == node)
            .values(last_seq=site.last_seq + (n - 1))
        )
    return prefix, first


def _rows(
    patients: Sequence[Patient],
    cipher: FieldCipher,
    index: BlindIndex,
    repo: SqlPatientRepository,
    node: str,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[int, UUID]]]:
    sync = {
        "created_at": now,
        "updated_at": now,
        "created_by": None,
        "origin_node": node,
        "version": 1,
        "deleted_at": None,
    }
    people: list[dict[str, Any]] = []
    phones: list[dict[str, Any]] = []
    keys: list[tuple[int, UUID]] = []
    for p in patients:
        a = p.address
        people.append(
            {
                "id": p.id,
                "mrn": p.mrn,
                "unit_id": p.unit_id,
                "unit_path": p.unit_path,
                "given_names": p.given_names,
                "family_name": p.family_name,
                "given_names_ar": p.given_names_ar,
                "family_name_ar": p.family_name_ar,
                "sex": p.sex,
                "birth_date": p.birth_date,
                "birth_year": p.birth_year,
                "birth_year_estimated": p.birth_year_estimated,
                "nni_enc": cipher.encrypt(p.nni, f"patient:{p.id}:nni") if p.nni else None,
                "nni_bidx": index.digest(p.nni, NNI) if p.nni else None,
                "nss_enc": None,
                "nss_bidx": None,
                "region": a.region,
                "district": a.district,
                "commune": a.commune,
                "locality": a.locality,
                "language": p.language,
                "sms_consent": p.sms_consent,
                "status": "active",
                "merged_into_id": None,
                "completeness": completeness(p).score,
            }
            | sync
        )
        for rank, phone in enumerate(p.phones):
            row_id = uuid7()
            phones.append(
                {
                    "id": row_id,
                    "patient_id": p.id,
                    "number_enc": cipher.encrypt(phone.number, f"patient_phone:{row_id}:number"),
                    "number_bidx": index.digest(phone.number, PHONE),
                    "shared": phone.shared,
                    "label": phone.label,
                    "rank": rank,
                }
                | sync
            )
        hashes = {key_hash(k) for k in index_keys(repo.traits_of(p), repo.phone_keys_of(p))}
        keys.extend((h, p.id) for h in hashes)
    return people, phones, keys


async def bulk_load_patients(
    session: AsyncSession,
    patients: Iterable[Patient],
    *,
    cipher: FieldCipher,
    index: BlindIndex,
    node: str,
    now: datetime,
    sites: dict[UUID, tuple[str | None, str]],
    batch: int = 5000,
) -> int:
    """Insert patients (MRNs issued here from ``sites``: unit id → (code, uid)); return count.

    Uses PostgreSQL ``COPY`` through asyncpg when available, else Core ``executemany``.
    The caller commits (one transaction per call; call it per chunk for very large loads).
    """
    import dataclasses

    repo = SqlPatientRepository(session, cipher, index)
    connection = await session.connection()
    copy = connection.dialect.name == "postgresql"
    total = 0
    chunk: list[Patient] = []

    async def flush(items: list[Patient]) -> None:
        by_unit: dict[UUID, list[int]] = {}
        for i, p in enumerate(items):
            by_unit.setdefault(p.unit_id, []).append(i)
        for unit_id, positions in by_unit.items():
            code, uid = sites[unit_id]
            prefix, first = await _reserve(session, node, unit_id, code, uid, len(positions))
            for offset, i in enumerate(positions):
                items[i] = dataclasses.replace(items[i], mrn=format_mrn(prefix, first + offset))
        people, phones, keys = _rows(items, cipher, index, repo, node, now)
        if copy:
            raw: Any = (await connection.get_raw_connection()).driver_connection
            await raw.copy_records_to_table(
                "patient",
                records=[tuple(r[c] for c in _PATIENT_COLUMNS) for r in people],
                columns=_PATIENT_COLUMNS,
            )
            if phones:
                await raw.copy_records_to_table(
                    "patient_phone",
                    records=[tuple(r[c] for c in _PHONE_COLUMNS) for r in phones],
                    columns=_PHONE_COLUMNS,
                )
            await raw.copy_records_to_table(
                "patient_match_key", records=keys, columns=["key_hash", "patient_id"]
            )
        else:
            await session.execute(insert(PatientRow.__table__), people)  # type: ignore[arg-type]
            if phones:
                await session.execute(insert(PatientPhoneRow.__table__), phones)  # type: ignore[arg-type]
            await session.execute(
                insert(PatientMatchKeyRow.__table__),  # type: ignore[arg-type]
                [{"key_hash": h, "patient_id": pid} for h, pid in keys],
            )

    for patient in patients:
        chunk.append(patient)
        if len(chunk) >= batch:
            await flush(chunk)
            total += len(chunk)
            chunk = []
    if chunk:
        await flush(chunk)
        total += len(chunk)
    return total
