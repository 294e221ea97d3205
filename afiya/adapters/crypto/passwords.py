"""argon2id password hashing with OWASP's recommended parameters."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
OWASP_MEMORY_KIB = 19_456
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1


class Argon2PasswordHasher:
    def __init__(
        self,
        time_cost: int = OWASP_TIME_COST,
        memory_cost: int = OWASP_MEMORY_KIB,
        parallelism: int = OWASP_PARALLELISM,
    ) -> None:
        self._hasher = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        self._dummy = self._hasher.hash("afiya-timing-equaliser")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    def verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: str, password: str) -> bool:
        # argon2 releases the GIL: in a thread, a login neither blocks the event loop
        # for ~20 ms nor stops the second core from verifying another password.
        return await asyncio.to_thread(self.verify_sync, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def dummy_verify(self) -> None:
        await self.verify(self._dummy, "not-the-password")
