"""SQL repositories of users and refresh tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.base import session_now
from afiya.adapters.db.models.identity import RefreshTokenRow, UserRow, UserUnitRow
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.db.repositories.orgunits import scope_clause
from afiya.domain.access.policy import Scope
from afiya.domain.identity.model import RefreshToken, User
from afiya.domain.platform.crypto import BlindIndex, FieldCipher

PHONE_PURPOSE = "user.phone"


class SqlUserRepository:
    """Users with their unit assignments. The staff phone is stored encrypted."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher, index: BlindIndex) -> None:
        self._session = session
        self._cipher = cipher
        self._index = index

    async def _assignments(self, user_ids: Sequence[UUID]) -> dict[UUID, list[tuple[UUID, str]]]:
        rows = await self._session.execute(
            select(UserUnitRow.user_id, OrgUnitRow.id, OrgUnitRow.path)
            .join(OrgUnitRow, OrgUnitRow.id == UserUnitRow.unit_id)
            .where(UserUnitRow.user_id.in_(list(user_ids)), UserUnitRow.deleted_at.is_(None))
            .order_by(OrgUnitRow.path)
        )
        found: dict[UUID, list[tuple[UUID, str]]] = {}
        for user_id, unit_id, path in rows:
            found.setdefault(user_id, []).append((unit_id, path))
        return found

    async def _hydrate(self, rows: Sequence[UserRow]) -> list[User]:
        assignments = await self._assignments([r.id for r in rows]) if rows else {}
        users = []
        for row in rows:
            units = assignments.get(row.id, [])
            users.append(
                User(
                    id=row.id,
                    username=row.username,
                    full_name=row.full_name,
                    password_hash=row.password_hash,
                    roles=frozenset(r for r in row.roles.split(",") if r),
                    unit_ids=tuple(u for u, _ in units),
                    unit_paths=tuple(p for _, p in units),
                    active=row.active,
                    language=row.language,
                    failed_attempts=row.failed_attempts,
                    last_failed_at=row.last_failed_at,
                    locked_until=row.locked_until,
                    version=row.version,
                )
            )
        return users

    async def _one(self, *where: object) -> User | None:
        rows = (
            (
                await self._session.execute(
                    select(UserRow).where(UserRow.deleted_at.is_(None), *where)
                )
            )
            .scalars()
            .all()
        )  # type: ignore[arg-type]
        users = await self._hydrate(rows)
        return users[0] if users else None

    async def get(self, user_id: UUID) -> User | None:
        return await self._one(UserRow.id == user_id)

    async def get_by_username(self, username: str) -> User | None:
        return await self._one(UserRow.username == username)

    async def find_by_phone(self, phone: str) -> User | None:
        """Exact lookup through the blind index: the phone is never decrypted to search."""
        return await self._one(UserRow.phone_bidx == self._index.digest(phone, PHONE_PURPOSE))

    async def phone_of(self, user_id: UUID) -> str | None:
        row = await self._session.get(UserRow, user_id)
        if row is None or row.phone_enc is None:
            return None
        return self._cipher.decrypt(row.phone_enc, f"app_user:{row.id}:phone")

    async def set_phone(self, user_id: UUID, phone: str | None) -> None:
        row = await self._session.get(UserRow, user_id)
        if row is None:
            raise LookupError(user_id)
        if phone is None:
            row.phone_enc = row.phone_bidx = None
        else:
            row.phone_enc = self._cipher.encrypt(phone, f"app_user:{row.id}:phone")
            row.phone_bidx = self._index.digest(phone, PHONE_PURPOSE)
        await self._session.flush()

    async def list(self, scope: Scope, *, after: str | None, limit: int) -> list[User]:
        in_scope = (
            select(UserUnitRow.user_id)
            .join(OrgUnitRow, OrgUnitRow.id == UserUnitRow.unit_id)
            .where(scope_clause(OrgUnitRow.path, scope))
        )  # type: ignore[arg-type]
        stmt = select(UserRow).where(UserRow.deleted_at.is_(None), UserRow.id.in_(in_scope))
        if after:
            stmt = stmt.where(UserRow.username > after)
        rows = (
            (await self._session.execute(stmt.order_by(UserRow.username).limit(limit)))
            .scalars()
            .all()
        )
        return await self._hydrate(rows)

    async def add(self, user: User, *, phone: str | None = None) -> None:
        self._session.add(
            UserRow(
                id=user.id,
                username=user.username,
                full_name=user.full_name,
                password_hash=user.password_hash,
                roles=",".join(sorted(user.roles)),
                active=user.active,
                language=user.language,
                failed_attempts=0,
            )
        )
        await self._session.flush()
        for unit_id in user.unit_ids:
            self._session.add(UserUnitRow(user_id=user.id, unit_id=unit_id))
        await self._session.flush()
        if phone:
            await self.set_phone(user.id, phone)

    async def record_failure(
        self, user_id: UUID, attempts: int, at: datetime, locked_until: datetime | None
    ) -> None:
        row = await self._session.get(UserRow, user_id)
        if row is not None:
            row.failed_attempts = attempts
            row.last_failed_at = at
            row.locked_until = locked_until
            await self._session.flush()

    async def record_success(self, user_id: UUID, password_hash: str | None) -> None:
        row = await self._session.get(UserRow, user_id)
        if row is None:
            return
        # Only touch the row (and the change log) when something really changes.
        if row.failed_attempts or row.locked_until or row.last_failed_at:
            row.failed_attempts = 0
            row.locked_until = None
            row.last_failed_at = None
        if password_hash:
            row.password_hash = password_hash
        await self._session.flush()

    async def update(self, user: User) -> User:
        row = await self._session.get(UserRow, user.id)
        if row is None or row.deleted_at is not None:
            raise LookupError(user.id)
        row.full_name = user.full_name
        row.roles = ",".join(sorted(user.roles))
        row.active = user.active
        row.language = user.language
        row.password_hash = user.password_hash
        row.failed_attempts = user.failed_attempts
        row.locked_until = user.locked_until
        assignments = {
            a.unit_id: a
            for a in (
                await self._session.execute(
                    select(UserUnitRow).where(UserUnitRow.user_id == user.id)
                )
            ).scalars()
        }
        now = session_now(self._session)
        for unit_id, assignment in assignments.items():
            wanted = unit_id in user.unit_ids
            if wanted and assignment.deleted_at is not None:
                assignment.deleted_at = None
            elif not wanted and assignment.deleted_at is None:
                assignment.deleted_at = now  # soft delete: the history stays in the change log
        for unit_id in user.unit_ids:
            if unit_id not in assignments:
                self._session.add(UserUnitRow(user_id=user.id, unit_id=unit_id))
        await self._session.flush()
        stored = await self.get(user.id)
        assert stored is not None
        return stored

    async def unit_paths(self, unit_ids: Sequence[UUID]) -> tuple[str, ...]:
        rows = await self._session.execute(
            select(OrgUnitRow.path).where(OrgUnitRow.id.in_(list(unit_ids)))
        )
        return tuple(sorted(p for (p,) in rows))


class SqlRefreshTokenStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: RefreshToken) -> None:
        self._session.add(
            RefreshTokenRow(
                id=token.id,
                user_id=token.user_id,
                family_id=token.family_id,
                token_hash=token.token_hash,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
            )
        )
        await self._session.flush()

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        row = (
            await self._session.execute(
                select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        return RefreshToken(
            id=row.id,
            user_id=row.user_id,
            family_id=row.family_id,
            token_hash=row.token_hash,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
            revoked_at=row.revoked_at,
        )

    async def mark_used(self, token_id: UUID, at: datetime) -> bool:
        # Conditional update: of two concurrent refreshes with one token, one wins.
        result = await self._session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.id == token_id, RefreshTokenRow.used_at.is_(None))
            .values(used_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_family(self, family_id: UUID, at: datetime) -> None:
        await self._session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.family_id == family_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def revoke_user(self, user_id: UUID, at: datetime) -> None:
        await self._session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.user_id == user_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
