"""Bulk load of patients (a legacy registry, a benchmark): PostgreSQL COPY or driver executemany.

The CPU part (encryption of NNI and phones, blind indexes, match keys, completeness) runs
in a pool of worker processes, one batch per task, while this process writes the batches
already encoded: PostgreSQL ``COPY`` through asyncpg, else the driver's ``executemany`` with
SQLAlchemy's own value conversion. MRNs come from a range of each facility's counter
reserved per window of patients. Memory is bounded by the window.

This path is for an initial load on the node that owns the facilities: it writes neither
the change log nor audit events per patient (one audit event per load, by the caller),
and expects new ids (a re-run with the same ids fails on the primary key, atomically per
call, rather than creating copies).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import datetime
from itertools import islice
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from afiya.adapters.db.models.patients import (
    PatientMatchKeyRow,
    PatientMrnSiteRow,
    PatientPhoneRow,
    PatientRow,
)
from afiya.adapters.db.repositories.patient_merges import SqlMrnCounter
from afiya.adapters.db.repositories.patient_queries import NNI, NSS, PHONE, key_hash
from afiya.domain.patients.matching import PersonTraits
from afiya.domain.patients.model import Patient
from afiya.domain.patients.mrn import format_mrn
from afiya.domain.patients.use_cases import index_keys
from afiya.domain.patients.validation import completeness
from afiya.domain.platform.crypto import BlindIndex, FieldCipher
from afiya.domain.shared.ids import uuid7

_TABLES: tuple[Table, ...] = tuple(
    cast(Table, m.__table__) for m in (PatientRow, PatientPhoneRow, PatientMatchKeyRow)
)
_COLUMNS = [[c.name for c in t.columns] for t in _TABLES]
_SEXES = ("female", "male", "other", "unknown")
WINDOW = 50_000  # patients whose MRNs are reserved together and in flight at once
SQLITE_CACHE_KIB = 512 * 1024  # page cache during a load on SQLite
MIN_PARALLEL = 20_000  # below this, encode in this process (a pool costs ~1 s to start)


Encoded = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def bind_processors(dialect: Any) -> list[list[tuple[int, Any]]] | None:
    """Per table, SQLAlchemy's value conversions for ``dialect`` (None: COPY takes Python
    values as they are)."""
    if dialect.name == "postgresql":
        return None
    out = []
    for table in _TABLES:
        found = [(i, c.type._cached_bind_processor(dialect)) for i, c in enumerate(table.columns)]
        out.append([(i, f) for i, f in found if f is not None])
    return out


def _convert(rows: list[tuple[Any, ...]], binds: list[tuple[int, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        values = list(row)
        for i, process in binds:
            if values[i] is not None:
                values[i] = process(values[i])
        out.append(tuple(values))
    return out


def encode_batch(
    patients: Sequence[Patient],
    cipher: FieldCipher,
    index: BlindIndex,
    node: str,
    now: datetime,
    binds: list[list[tuple[int, Any]]] | None = None,
) -> Encoded:
    """Rows of ``patient``, ``patient_phone`` and ``patient_match_key``, as tuples in
    table column order, converted by ``binds`` (pure CPU: runs in a worker process)."""
    sync = (now, now, None, node, 1, None)  # Syncable: see _sync_columns
    people: list[tuple[Any, ...]] = []
    phones: list[tuple[Any, ...]] = []
    keys: list[tuple[Any, ...]] = []
    for p in patients:
        nni_bidx = index.digest(p.nni, NNI) if p.nni else None
        digests = [index.digest(ph.number, PHONE) for ph in p.phones]
        a = p.address
        values = {
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
            "nni_bidx": nni_bidx,
            "nss_enc": cipher.encrypt(p.nss, f"patient:{p.id}:nss") if p.nss else None,
            "nss_bidx": index.digest(p.nss, NSS) if p.nss else None,
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
        values.update(zip(_SYNC, sync, strict=True))
        people.append(tuple(values[c] for c in _COLUMNS[0]))
        for rank, (phone, digest) in enumerate(zip(p.phones, digests, strict=True)):
            row_id = uuid7()
            row = {
                "id": row_id,
                "patient_id": p.id,
                "number_enc": cipher.encrypt(phone.number, f"patient_phone:{row_id}:number"),
                "number_bidx": digest,
                "shared": phone.shared,
                "label": phone.label,
                "rank": rank,
            }
            row.update(zip(_SYNC, sync, strict=True))
            phones.append(tuple(row[c] for c in _COLUMNS[1]))
        # Same traits as SqlPatientRepository.traits_of, from the digests computed above.
        traits = PersonTraits(
            given_names=p.given_names or p.given_names_ar or "",
            family_name=p.family_name or p.family_name_ar or "",
            sex=p.sex if p.sex in _SEXES else None,
            birth_date=p.birth_date,
            birth_year=p.birth_year,
            birth_year_estimated=p.birth_year_estimated,
            phone_key=digests[0].hex() if digests else None,
            phone_shared=bool(p.phones and p.phones[0].shared),
            national_id_key=nni_bidx.hex() if nni_bidx else None,
            region=p.address.region,
            district=p.address.district,
        )
        hashes = {key_hash(k) for k in index_keys(traits, frozenset(d.hex() for d in digests))}
        keys.extend((h, p.id) for h in sorted(hashes))
    if binds is None:
        return people, phones, keys
    return _convert(people, binds[0]), _convert(phones, binds[1]), _convert(keys, binds[2])


_SYNC = ("created_at", "updated_at", "created_by", "origin_node", "version", "deleted_at")
_CODEC: tuple[Any, ...] | None = None


def _init_worker(
    cipher: FieldCipher, index: BlindIndex, node: str, now: datetime, dialect_class: type
) -> None:
    global _CODEC
    _CODEC = (cipher, index, node, now, bind_processors(dialect_class()))


def _encode_in_worker(patients: Sequence[Patient]) -> Encoded:
    assert _CODEC is not None
    return encode_batch(patients, *_CODEC)


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


def _batches(items: Iterable[Patient], size: int) -> Iterator[list[Patient]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class _Writer:
    """Writes encoded batches on the session's own connection (same transaction)."""

    def __init__(self, raw: Any, dialect: Any) -> None:
        self._raw = raw
        self._copy = dialect.name == "postgresql"
        self._sql = [  # table column order, the driver's paramstyle (qmark)
            str(insert(t).compile(dialect=dialect, column_keys=cols))
            for t, cols in zip(_TABLES, _COLUMNS, strict=True)
        ]

    async def write(self, encoded: Encoded) -> None:
        """Rows already converted for the driver (see :func:`bind_processors`)."""
        for i, (table, rows) in enumerate(zip(_TABLES, encoded, strict=True)):
            if not rows:
                continue
            if self._copy:
                await self._raw.copy_records_to_table(table.name, records=rows, columns=_COLUMNS[i])
            else:
                await self._raw.executemany(self._sql[i], rows)


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
    workers: int | None = None,
) -> int:
    """Insert patients (MRNs issued here from ``sites``: unit id → (code, uid)); return count.

    ``workers`` processes encode (default: one per CPU, or none for a load under
    ``MIN_PARALLEL`` patients; 0 encodes in this process). The caller commits: one
    transaction per call.
    """
    connection = await session.connection()
    raw: Any = (await connection.get_raw_connection()).driver_connection
    writer = _Writer(raw, connection.dialect)
    loop = asyncio.get_running_loop()
    pool: Executor | None = None
    total = 0
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # index pages of a large load must stay in memory (default: 2 MiB)
        cache = (await raw.execute_fetchall("PRAGMA cache_size"))[0][0]
        await raw.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB:d}")
    rebuild = not sqlite and await _empty_keys(session)
    if rebuild:  # initial load: build the match-key indexes once, sorted, at the end
        for ddl in _key_index_ddl(drop=True):
            await session.execute(ddl)
    try:
        for window in _batches(patients, WINDOW):
            by_unit: dict[UUID, list[int]] = {}
            for i, p in enumerate(window):
                by_unit.setdefault(p.unit_id, []).append(i)
            for unit_id, positions in by_unit.items():
                code, uid = sites[unit_id]
                prefix, first = await _reserve(session, node, unit_id, code, uid, len(positions))
                for offset, i in enumerate(positions):
                    window[i] = dataclasses.replace(
                        window[i], mrn=format_mrn(prefix, first + offset)
                    )
            if workers is None:
                wanted = os.cpu_count() or 1 if total or len(window) >= MIN_PARALLEL else 0
            else:
                wanted = workers
            if pool is None and wanted > 0:
                pool = _pool((cipher, index, node, now, type(connection.dialect)), wanted)
            chunks = list(_batches(window, batch))
            if pool is None:
                for chunk in chunks:
                    binds = bind_processors(connection.dialect)
                    await writer.write(encode_batch(chunk, cipher, index, node, now, binds))
            else:
                futures = [loop.run_in_executor(pool, _encode_in_worker, c) for c in chunks]
                for future in futures:  # in order; workers run ahead while this one writes
                    await writer.write(await future)
            total += len(window)
        if rebuild:
            for ddl in _key_index_ddl(drop=False):
                await session.execute(ddl)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if sqlite:
            await raw.execute(f"PRAGMA cache_size = {int(cache):d}")
    return total


async def _empty_keys(session: AsyncSession) -> bool:
    found = await session.execute(select(PatientMatchKeyRow.patient_id).limit(1))
    return found.first() is None


def _key_index_ddl(*, drop: bool) -> list[Any]:
    """The match-key table's primary key and index, as declared in the model (so the
    schema is the migrations' one again after the load; DDL is transactional here)."""
    table = _TABLES[2]
    pk, indexes = table.primary_key, sorted(table.indexes, key=lambda i: str(i.name))
    if drop:
        return [DropIndex(i) for i in indexes] + [DropConstraint(pk)]
    return [AddConstraint(pk)] + [CreateIndex(i) for i in indexes]


def _pool(initargs: tuple[Any, ...], workers: int) -> Executor | None:
    try:
        pickle.dumps(initargs)
    except Exception:  # a cipher or dialect that cannot travel: encode here
        return None
    import multiprocessing

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_init_worker,
        initargs=initargs,
    )
