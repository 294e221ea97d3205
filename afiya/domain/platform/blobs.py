"""Blob storage for scans, images and generated PDFs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str
    size: int
    sha256: str
    content_type: str


class BlobStore(Protocol):
    """Stores immutable objects by key (``<module>/<yyyy>/<mm>/<uuid7>.<ext>``)."""

    async def put(self, key: str, data: bytes, content_type: str) -> StoredBlob: ...

    async def get(self, key: str) -> bytes:
        """Raise ``KeyError`` when the key does not exist."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None: ...

    async def check(self) -> None:
        """Raise when the store is unreachable (readiness probe)."""
        ...
