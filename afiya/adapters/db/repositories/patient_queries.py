"""Read side of the patient repository: exact lookups through blind indexes, blocking-key
candidates ranked by shared keys, filtered listings and the registry scan."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, any_, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.patients import (
    PatientIdentifierRow,
    PatientMatchKeyRow,
    PatientPhoneRow,
    PatientRow,
)
from afiya.adapters.db.repositories.orgunits import like_prefix, scope_clause
from afiya.domain.access.policy import Scope
from afiya.domain.patients.matching import PersonTraits
from afiya.domain.patients.model import MatchProfile, PatientStatus
from afiya.domain.patients.mrn import parse_mrn
from afiya.domain.patients.ports import PatientFilter
from afiya.domain.patients.rules import normalize_nni, normalize_phone
from afiya.domain.patients.validation import normalize_identifier_value
from afiya.domain.platform.crypto import BlindIndex
from afiya.domain.shared.errors import ValidationFailed

NNI, NSS, PHONE = "patient.nni", "patient.nss", "patient.phone"
SCALARS = (
    "mrn",
    "unit_id",
    "unit_path",
    "given_names",
    "family_name",
    "given_names_ar",
    "family_name_ar",
    "sex",
    "birth_date",
    "birth_year",
    "birth_year_estimated",
    "language",
    "sms_consent",
)
ADDRESS = ("region", "district", "commune", "locality")
IN_CHUNK = 500
STRONG_KEYS = ("id:", "ph:")  # blocking keys that few people share
STRONG_WEIGHT = 4
POOL_FACTOR = 4  # candidates ranked on keys alone, per candidate wanted, before filtering


@lru_cache(maxsize=1 << 17)  # name and decade keys repeat across a registry
def key_hash(key: str) -> int:
    """A blocking key as a signed 64-bit integer: a compact, fast index entry."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def identifier_purpose(type_: str) -> str:
    return f"patient.identifier:{type_}"


def _chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_PROFILE_COLUMNS = (
    PatientRow.id,
    PatientRow.unit_path,
    PatientRow.given_names,
    PatientRow.family_name,
    PatientRow.given_names_ar,
    PatientRow.family_name_ar,
    PatientRow.sex,
    PatientRow.birth_date,
    PatientRow.birth_year,
    PatientRow.birth_year_estimated,
    PatientRow.nni_bidx,
    PatientRow.region,
    PatientRow.district,
)


class PatientQueries:
    """Mixin of :class:`~afiya.adapters.db.repositories.patients.SqlPatientRepository`."""

    _session: AsyncSession
    _index: BlindIndex

    def _among(self, column: Any, values: Sequence[Any]) -> Any:
        """``column IN values``; on PostgreSQL ``= ANY(array)``: one statement text
        whatever the count, so the driver's prepared-statement cache keeps it."""
        if self._session.get_bind().dialect.name == "postgresql":
            return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return column.in_(values)

    def _bidx(self, value: str, purpose: str) -> bytes:
        return self._index.digest(value, purpose)

    # -- exact lookups ------------------------------------------------------------------
    async def _ids(self, stmt: Any) -> list[UUID]:
        return list((await self._session.execute(stmt)).scalars())

    def _active_ids(self) -> Any:
        return select(PatientRow.id).where(
            PatientRow.deleted_at.is_(None), PatientRow.status == PatientStatus.ACTIVE.value
        )

    async def find_by_nni(self, nni: str) -> list[UUID]:
        value = normalize_nni(nni) or nni.strip()
        return await self._ids(
            self._active_ids().where(PatientRow.nni_bidx == self._bidx(value, NNI))
        )

    async def find_by_mrn(self, mrn: str) -> list[UUID]:
        try:
            text = str(parse_mrn(mrn))
        except ValidationFailed:
            text = mrn.strip().upper()
        return await self._ids(self._active_ids().where(PatientRow.mrn == text))

    async def find_by_phone(self, number: str) -> list[UUID]:
        value = normalize_phone(number) or number.strip()
        owners = select(PatientPhoneRow.patient_id).where(
            PatientPhoneRow.number_bidx == self._bidx(value, PHONE),
            PatientPhoneRow.deleted_at.is_(None),
        )
        return await self._ids(self._active_ids().where(PatientRow.id.in_(owners)))

    async def find_by_identifier(self, type_: str, value: str) -> list[UUID]:
        if type_ == "nni":
            return await self.find_by_nni(value)
        if type_ == "nss":
            digits = "".join(c for c in value if c.isdigit())
            return await self._ids(
                self._active_ids().where(PatientRow.nss_bidx == self._bidx(digits, NSS))
            )
        if type_ == "mrn":
            return await self.find_by_mrn(value)
        digest = self._bidx(normalize_identifier_value(value), identifier_purpose(type_))
        owners = select(PatientIdentifierRow.patient_id).where(
            PatientIdentifierRow.value_bidx == digest, PatientIdentifierRow.deleted_at.is_(None)
        )
        return await self._ids(self._active_ids().where(PatientRow.id.in_(owners)))

    # -- candidates and profiles --------------------------------------------------------
    def _filtered(self, stmt: Any, scope: Scope | None, where: PatientFilter) -> Any:
        stmt = stmt.where(
            PatientRow.deleted_at.is_(None), PatientRow.status == PatientStatus.ACTIVE.value
        )
        if scope is not None:
            stmt = stmt.where(scope_clause(PatientRow.unit_path, scope))
        if where.unit_path is not None:
            stmt = stmt.where(PatientRow.unit_path.like(like_prefix(where.unit_path), escape="\\"))
        if where.sex is not None:
            stmt = stmt.where(PatientRow.sex == where.sex)
        if where.birth_year_from is not None:
            stmt = stmt.where(PatientRow.birth_year >= where.birth_year_from)
        if where.birth_year_to is not None:
            stmt = stmt.where(PatientRow.birth_year <= where.birth_year_to)
        return stmt

    async def _profiles_from(self, stmt: Any, *order: str) -> list[MatchProfile]:
        """Profiles of the patients ``stmt`` selects (``_PROFILE_COLUMNS`` first, then any
        ``order`` columns), with every live phone key, in one query; ``stmt`` order kept."""
        sub = stmt.subquery()
        phone = PatientPhoneRow
        joined = sub.outerjoin(phone, (phone.patient_id == sub.c.id) & phone.deleted_at.is_(None))
        query = (
            select(*(sub.c[c.key] for c in _PROFILE_COLUMNS), phone.number_bidx, phone.shared)
            .select_from(joined)
            .order_by(*(sub.c[o].desc() for o in order), sub.c.id, phone.rank, phone.id)
        )
        rows: list[Any] = []
        phones: dict[UUID, list[tuple[bytes, bool]]] = {}
        for r in (await self._session.execute(query)).all():
            own = phones.get(r[0])
            if own is None:
                own = phones[r[0]] = []
                rows.append(r[:-2])
            if r[-2] is not None:
                own.append((bytes(r[-2]), bool(r[-1])))
        out = []
        for r in rows:
            (
                pid,
                path,
                given,
                family,
                given_ar,
                family_ar,
                sex,
                born,
                year,
                est,
                nni,
                region,
                district,
            ) = r
            own = phones.get(pid, [])
            traits = PersonTraits(
                given_names=given or given_ar or "",
                family_name=family or family_ar or "",
                sex=sex if sex in ("female", "male", "other", "unknown") else None,
                birth_date=born,
                birth_year=year,
                birth_year_estimated=bool(est),
                phone_key=own[0][0].hex() if own else None,
                phone_shared=bool(own and own[0][1]),
                national_id_key=bytes(nni).hex() if nni else None,
                region=region,
                district=district,
            )
            out.append(MatchProfile(pid, path, traits, frozenset(d.hex() for d, _ in own)))
        return out

    async def candidates(
        self,
        keys: Iterable[str],
        *,
        scope: Scope | None,
        where: PatientFilter = PatientFilter(),
        exclude: UUID | None = None,
        limit: int = 200,
    ) -> list[MatchProfile]:
        """Patients sharing the most blocking keys first: a true duplicate shares many
        (names, decade, phone...), a namesake few, so a common name cannot push the real
        duplicate out of the ``limit``. Filters apply before the ranking."""
        keys = set(keys)
        hashes = sorted({key_hash(k) for k in keys})
        if not hashes:
            return []
        # Same NNI or same phone outweighs a name or a decade: among a million records
        # many namesakes share the name keys, few share a phone.
        strong = sorted({key_hash(k) for k in keys if k.startswith(STRONG_KEYS)})
        key = PatientMatchKeyRow
        weight = case((key.key_hash.in_(strong), STRONG_WEIGHT), else_=1)
        shared = (func.sum(weight) if strong else func.count()).label("shared")
        hits = select(key.patient_id, shared).where(key.key_hash.in_(hashes))
        if exclude is not None:
            hits = hits.where(key.patient_id != exclude)
        hits = hits.group_by(key.patient_id).order_by(shared.desc(), key.patient_id)
        # Rank on the key index alone (an index-only scan), then filter the best few: a
        # join before the ranking would read every namesake's row. When the filters
        # leave too few of a full pool, rank again after filtering (exact, slower).
        pool = limit * POOL_FACTOR
        top = hits.limit(pool).cte("top")
        pooled = select(func.count()).select_from(top).scalar_subquery()
        fast = self._filtered(
            select(PatientRow.id, pooled).join(top, top.c.patient_id == PatientRow.id),
            scope,
            where,
        ).order_by(top.c.shared.desc(), PatientRow.id)
        rows = (await self._session.execute(fast.limit(limit))).all()
        best = [r[0] for r in rows]
        if len(best) < limit and (not rows or rows[0][1] == pool):  # none: pool unknown
            exact = self._filtered(
                hits.join(PatientRow, PatientRow.id == key.patient_id), scope, where
            )
            best = [r[0] for r in (await self._session.execute(exact.limit(limit))).all()]
        order = {pid: i for i, pid in enumerate(best)}
        return sorted(await self.profiles(best), key=lambda p: order[p.patient_id])

    async def profiles(self, patient_ids: Sequence[UUID]) -> list[MatchProfile]:
        out: list[MatchProfile] = []
        for chunk in _chunks(list(patient_ids)):
            stmt = self._filtered(
                select(*_PROFILE_COLUMNS).where(self._among(PatientRow.id, chunk)),
                None,
                PatientFilter(),
            )
            out += await self._profiles_from(stmt)
        return out

    async def list_ids(
        self, scope: Scope, where: PatientFilter, *, after: UUID | None, limit: int
    ) -> list[UUID]:
        stmt = self._filtered(select(PatientRow.id), scope, where)
        if after is not None:
            stmt = stmt.where(PatientRow.id < after)
        return await self._ids(stmt.order_by(PatientRow.id.desc()).limit(limit))

    async def scan_profiles(self, *, after: UUID | None, limit: int) -> list[MatchProfile]:
        stmt = self._filtered(select(*_PROFILE_COLUMNS), None, PatientFilter())
        if after is not None:
            stmt = stmt.where(PatientRow.id > after)
        return await self._profiles_from(stmt.order_by(PatientRow.id).limit(limit))
