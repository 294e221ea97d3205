"""Bulk load of patients (a legacy registry, a benchmark): PostgreSQL COPY or driver executemany.

The CPU part (encryption of NNI and phones, blind indexes, match keys, completeness) runs
in a pool of worker processes, one batch per task, while this process writes the batches
already encoded: PostgreSQL ``COPY`` through asyncpg (workers hand over CSV text, which
costs the writer nothing to receive), else the driver's ``executemany`` with SQLAlchemy's
own value conversion. Into an empty registry on PostgreSQL, indexes and constraints are
dropped and built once at the end (the tables stay locked until the load commits). MRNs
come from a range of each facility's counter reserved per window of patients. Memory is
bounded by the window.

This path is for an initial load on the node that owns the facilities: it writes neither
the change log nor audit events per patient (one audit event per load, by the caller),
and expects new ids (a re-run with the same ids fails on the primary key, atomically per
call, rather than creating copies).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import date, datetime
from itertools import islice
from operator import itemgetter
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, UniqueConstraint, insert, literal, select, text, update
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
_ROW = [itemgetter(*cols) for cols in _COLUMNS]  # a row dict → tuple in column order
_SYNC = ("created_at", "updated_at", "created_by", "origin_node", "version", "deleted_at")
_SEXES = ("female", "male", "other", "unknown")
WINDOW = 50_000  # patients whose MRNs are reserved together and in flight at once
SQLITE_CACHE_KIB = 512 * 1024  # page cache during a load on SQLite
INDEX_BUILD_MEMORY = "256MB"  # sort memory for the index builds at the end of a load
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
    sync = dict(zip(_SYNC, (now, now, None, node, 1, None), strict=True))  # Syncable
    people_row, phone_row = _ROW[0], _ROW[1]
    people: list[tuple[Any, ...]] = []
    phones: list[tuple[Any, ...]] = []
    keys: list[tuple[Any, ...]] = []
    phone_ids = [[uuid7() for _ in p.phones] for p in patients]
    plain: list[tuple[str, str]] = []  # every secret of the batch, sealed in one call
    for p, ids in zip(patients, phone_ids, strict=True):
        if p.nni:
            plain.append((p.nni, f"patient:{p.id}:nni"))
        if p.nss:
            plain.append((p.nss, f"patient:{p.id}:nss"))
        plain.extend(
            (ph.number, f"patient_phone:{row_id}:number")
            for ph, row_id in zip(p.phones, ids, strict=True)
        )
    sealed = iter(cipher.encrypt_many(plain))
    for p, ids in zip(patients, phone_ids, strict=True):
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
            "nni_enc": next(sealed) if p.nni else None,
            "nni_bidx": nni_bidx,
            "nss_enc": next(sealed) if p.nss else None,
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
            **sync,
        }
        people.append(people_row(values))
        for rank, (phone, digest, row_id) in enumerate(zip(p.phones, digests, ids, strict=True)):
            row = {
                "id": row_id,
                "patient_id": p.id,
                "number_enc": next(sealed),
                "number_bidx": digest,
                "shared": phone.shared,
                "label": phone.label,
                "rank": rank,
                **sync,
            }
            phones.append(phone_row(row))
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


_CODEC: tuple[Any, ...] | None = None


def _csv_field(value: Any) -> str:
    """One value in PostgreSQL's CSV COPY format (unquoted empty is NULL)."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return '"' + value.replace('"', '""') + '"'
    if kind is bool:
        return "t" if value else "f"
    if kind is bytes:
        return "\\x" + value.hex()
    if kind is datetime or kind is date:
        return str(value.isoformat())
    return str(value)  # UUID, int


def csv_rows(rows: list[tuple[Any, ...]]) -> bytes:
    """Rows as CSV for ``COPY ... (FORMAT csv)``: one bytes object crosses from a worker
    process, instead of millions of Python objects to unpickle in the writer."""
    field = _csv_field
    return "".join([",".join([field(v) for v in row]) + "\n" for row in rows]).encode()


def _init_worker(
    cipher: FieldCipher, index: BlindIndex, node: str, now: datetime, dialect_class: type
) -> None:
    global _CODEC
    _CODEC = (cipher, index, node, now, bind_processors(dialect_class()))


def _encode_in_worker(patients: Sequence[Patient]) -> Encoded | tuple[bytes, bytes, bytes]:
    assert _CODEC is not None
    encoded = encode_batch(patients, *_CODEC)
    if _CODEC[4] is None:  # PostgreSQL: COPY text
        people, phones, keys = encoded
        return csv_rows(people), csv_rows(phones), csv_rows(keys)
    return encoded


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

    async def write(self, encoded: Encoded | tuple[bytes, bytes, bytes]) -> None:
        """Rows already converted for the driver (see :func:`bind_processors`), or CSV
        from a worker (see :func:`csv_rows`)."""
        for i, (table, rows) in enumerate(zip(_TABLES, encoded, strict=True)):
            if not rows:
                continue
            if isinstance(rows, bytes):
                await self._raw.copy_to_table(
                    table.name, source=io.BytesIO(rows), columns=_COLUMNS[i], format="csv"
                )
            elif self._copy:
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
    window_size: int = WINDOW,
) -> int:
    """Insert patients (MRNs issued here from ``sites``: unit id → (code, uid)); return count.

    ``workers`` processes encode (default: one per CPU, or none for a load under
    ``MIN_PARALLEL`` patients; 0 encodes in this process); ``window_size`` patients have
    their MRNs reserved together and are in flight at once. The caller commits: one
    transaction per call.
    """
    connection = await session.connection()
    raw: Any = (await connection.get_raw_connection()).driver_connection
    writer = _Writer(raw, connection.dialect)
    loop = asyncio.get_running_loop()
    pool: Executor | None = None
    in_flight: list[asyncio.Future[Any]] = []  # the previous window's encoded batches
    total = 0
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # index pages of a large load must stay in memory (default: 2 MiB)
        cache = (await raw.execute_fetchall("PRAGMA cache_size"))[0][0]
        await raw.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB:d}")
    rebuild = not sqlite and await _empty_registry(session)
    if rebuild:  # initial load: indexes and constraints once, sorted, at the end
        for ddl in _deferred_ddl(drop=True):
            await session.execute(ddl)
    try:
        for window in _batches(patients, window_size):
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
                # Pipelined: this window encodes in the workers while the previous one is
                # written here, so neither side waits for the other between windows.
                submitted = [loop.run_in_executor(pool, _encode_in_worker, c) for c in chunks]
                for future in in_flight:  # in order
                    await writer.write(await future)
                in_flight = submitted
            total += len(window)
        for future in in_flight:
            await writer.write(await future)
        if rebuild:
            await session.execute(text(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'"))
            for ddl in _deferred_ddl(drop=False):
                await session.execute(ddl)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if sqlite:
            await raw.execute(f"PRAGMA cache_size = {int(cache):d}")
    return total


async def _empty_registry(session: AsyncSession) -> bool:
    for model in (PatientRow, PatientMatchKeyRow):
        found = await session.execute(select(literal(1)).select_from(model).limit(1))
        if found.first() is not None:
            return False
    return True


def _name(item: Any) -> str:
    return str(item.name)


def _deferred_ddl(*, drop: bool) -> list[Any]:
    """What an initial load builds once at the end, sorted, as ``pg_restore`` does:
    secondary indexes, unique and foreign-key constraints of the three tables and the
    key table's primary key, as declared in the models (so the schema is the
    migrations' one again after the load; DDL is transactional here). The patient and
    phone primary keys stay: other tables reference them, and UUIDv7 ids append."""
    out: list[Any] = []
    for table in _TABLES:
        fks = sorted(table.foreign_key_constraints, key=_name)
        uniques = sorted(
            (c for c in table.constraints if isinstance(c, UniqueConstraint)), key=_name
        )
        uniques += [table.primary_key] if table is _TABLES[2] else []
        indexes = sorted(table.indexes, key=_name)
        if drop:
            out += [DropConstraint(c) for c in fks] + [DropIndex(i) for i in indexes]
            out += [DropConstraint(c) for c in uniques]
        else:
            out += [AddConstraint(c) for c in uniques] + [CreateIndex(i) for i in indexes]
            out += [AddConstraint(c) for c in fks]
    return out


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
