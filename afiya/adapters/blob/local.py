"""Blob store on a local directory (the embedded default)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

from afiya.domain.platform.blobs import StoredBlob


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in {"", ".", ".."} for p in parts):
        raise ValueError(f"invalid blob key {key!r}")
    return key


class LocalBlobStore:
    """Writes each object atomically (temporary file, fsync, rename) with a metadata sidecar."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def _put_sync(self, key: str, data: bytes, content_type: str) -> StoredBlob:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data).hexdigest()
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
        meta = {"content_type": content_type, "sha256": digest, "size": len(data)}
        path.with_name(path.name + ".meta.json").write_text(json.dumps(meta))
        return StoredBlob(key=key, size=len(data), sha256=digest, content_type=content_type)

    async def put(self, key: str, data: bytes, content_type: str) -> StoredBlob:
        return await asyncio.to_thread(self._put_sync, key, data, content_type)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise KeyError(key) from exc

    async def exists(self, key: str) -> bool:
        return self._path(key).exists()

    async def delete(self, key: str) -> None:
        path = self._path(key)
        for candidate in (path, path.with_name(path.name + ".meta.json")):
            candidate.unlink(missing_ok=True)

    async def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise PermissionError(f"blob directory {self.root} is not writable")
