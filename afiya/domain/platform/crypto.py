"""Field encryption ports: AES-256-GCM envelopes and a keyed blind index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class FieldCipher(Protocol):
    """Encrypts one field value, bound to its row by associated data.

    ``context`` names the row and field (``"patient:<id>:nni"``): a ciphertext copied to
    another row or field fails to decrypt.
    """

    def encrypt(self, plaintext: str, context: str) -> bytes: ...

    def encrypt_many(self, items: Sequence[tuple[str, str]]) -> list[bytes]:
        """``encrypt`` of each ``(plaintext, context)``, for bulk loads: the values may
        share one data key (each keeps its own nonce and associated data), so the result
        decrypts and rewraps value by value like any other ciphertext."""
        ...

    def decrypt(self, ciphertext: bytes, context: str) -> str: ...

    def rewrap(self, ciphertext: bytes) -> bytes:
        """Re-encrypt the data key under the current master key (rotation)."""
        ...

    def key_id_of(self, ciphertext: bytes) -> str: ...


class BlindIndex(Protocol):
    """A keyed, deterministic digest for exact lookups of encrypted values."""

    def digest(self, value: str, purpose: str) -> bytes: ...


class DecryptionError(Exception):
    """The ciphertext is corrupt, belongs to another row, or its key is unknown."""
