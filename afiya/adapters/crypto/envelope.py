"""AES-256-GCM envelope encryption of fields, with a key ring kept outside the database.

Layout of a ciphertext (bytes)::

    0x01 | len(kid) | kid | wrap_nonce(12) | wrapped_dek(32+16) | nonce(12) | ct+tag

Each value gets its own random 256-bit data key (DEK), wrapped by the ring's current
master key (KEK). The value is encrypted with the row-binding ``context`` as associated
data, so a ciphertext moved to another row or column fails authentication. Rotating the
master key only re-wraps DEKs: the data part is untouched and no context is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from afiya.domain.platform.crypto import DecryptionError

_VERSION = 1
_WRAP_AAD = b"afiya-dek|"
MAX_VALUES_PER_DATA_KEY = 1_000_000  # encrypt_many: far below the 2**32 nonce bound


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Master keys by id; ``current`` encrypts, all decrypt. Plus the blind-index key."""

    keys: dict[str, bytes]
    current: str
    blind_index_key: bytes

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError("the current key id is not in the ring")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise ValueError(f"key {kid!r} is not 32 bytes (AES-256)")
            if not kid or len(kid.encode()) > 64 or ":" in kid:
                raise ValueError(f"bad key id {kid!r}")
        if len(self.blind_index_key) < 32:
            raise ValueError("the blind-index key must hold at least 32 bytes")

    @classmethod
    def parse(cls, spec: str, blind_index_key_b64: str) -> KeyRing:
        """``kid:base64key,kid2:base64key`` — the first is current."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in spec.split(","):
            kid, _, b64 = item.strip().partition(":")
            keys[kid] = base64.b64decode(b64)
            order.append(kid)
        return cls(
            keys=keys, current=order[0], blind_index_key=base64.b64decode(blind_index_key_b64)
        )

    @classmethod
    def load_file(cls, path: Path) -> KeyRing:
        data = json.loads(path.read_text())
        return cls(
            keys={kid: base64.b64decode(v) for kid, v in data["keys"].items()},
            current=data["current"],
            blind_index_key=base64.b64decode(data["blind_index_key"]),
        )

    def save_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "current": self.current,
            "keys": {kid: base64.b64encode(k).decode() for kid, k in self.keys.items()},
            "blind_index_key": base64.b64encode(self.blind_index_key).decode(),
        }
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(body, handle, indent=2)
        tmp.replace(path)

    @classmethod
    def generate(cls, kid: str = "k1") -> KeyRing:
        return cls(
            keys={kid: AESGCM.generate_key(bit_length=256)},
            current=kid,
            blind_index_key=secrets.token_bytes(32),
        )

    def with_new_current(self, kid: str) -> KeyRing:
        """A ring with a fresh current key; the old keys stay for decryption."""
        if kid in self.keys:
            raise ValueError(f"key id {kid!r} already exists")
        keys = dict(self.keys)
        keys[kid] = AESGCM.generate_key(bit_length=256)
        return KeyRing(keys=keys, current=kid, blind_index_key=self.blind_index_key)


class AesGcmFieldCipher:
    """:class:`afiya.domain.platform.crypto.FieldCipher` with per-value data keys."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._keks = {kid: AESGCM(key) for kid, key in ring.keys.items()}

    def __reduce__(self) -> tuple[type[AesGcmFieldCipher], tuple[KeyRing]]:
        # AES objects do not pickle; a worker process rebuilds the cipher from the ring.
        return (AesGcmFieldCipher, (self._ring,))

    def _split(self, blob: bytes) -> tuple[str, bytes, bytes, bytes, bytes]:
        try:
            if blob[0] != _VERSION:
                raise DecryptionError("unknown ciphertext version")
            kid_len = blob[1]
            kid = blob[2 : 2 + kid_len].decode()
            rest = blob[2 + kid_len :]
            return kid, rest[:12], rest[12:60], rest[60:72], rest[72:]
        except (IndexError, UnicodeDecodeError) as exc:
            raise DecryptionError("malformed ciphertext") from exc

    def _unwrap(self, kid: str, wrap_nonce: bytes, wrapped: bytes) -> bytes:
        kek = self._keks.get(kid)
        if kek is None:
            raise DecryptionError(f"unknown key id {kid!r}")
        try:
            return kek.decrypt(wrap_nonce, wrapped, _WRAP_AAD + kid.encode())
        except InvalidTag as exc:
            raise DecryptionError("data key does not unwrap") from exc

    def _wrap(self, dek: bytes) -> bytes:
        kid = self._ring.current
        nonce = os.urandom(12)
        wrapped = self._keks[kid].encrypt(nonce, dek, _WRAP_AAD + kid.encode())
        kid_bytes = kid.encode()
        return bytes([_VERSION, len(kid_bytes)]) + kid_bytes + nonce + wrapped

    def encrypt(self, plaintext: str, context: str) -> bytes:
        dek = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        body = AESGCM(dek).encrypt(nonce, plaintext.encode(), context.encode())
        return self._wrap(dek) + nonce + body

    def encrypt_many(self, items: Sequence[tuple[str, str]]) -> list[bytes]:
        # One data key per call, wrapped once; a random 96-bit nonce per value keeps
        # AES-GCM safe far beyond a batch (NIST SP 800-38D: 2**32 messages per key).
        if len(items) > MAX_VALUES_PER_DATA_KEY:
            raise ValueError(f"at most {MAX_VALUES_PER_DATA_KEY} values per data key")
        dek = AESGCM.generate_key(bit_length=256)
        aead, header, urandom = AESGCM(dek), self._wrap(dek), os.urandom
        out = []
        for plaintext, context in items:
            nonce = urandom(12)
            out.append(header + nonce + aead.encrypt(nonce, plaintext.encode(), context.encode()))
        return out

    def decrypt(self, ciphertext: bytes, context: str) -> str:
        kid, wrap_nonce, wrapped, nonce, body = self._split(ciphertext)
        dek = self._unwrap(kid, wrap_nonce, wrapped)
        try:
            return AESGCM(dek).decrypt(nonce, body, context.encode()).decode()
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not belong to this row and field") from exc

    def rewrap(self, ciphertext: bytes) -> bytes:
        kid, wrap_nonce, wrapped, nonce, body = self._split(ciphertext)
        if kid == self._ring.current:
            return ciphertext
        dek = self._unwrap(kid, wrap_nonce, wrapped)
        return self._wrap(dek) + nonce + body

    def key_id_of(self, ciphertext: bytes) -> str:
        return self._split(ciphertext)[0]


class HmacBlindIndex:
    """HMAC-SHA256 of a normalised value, keyed separately from the encryption keys."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, value: str, purpose: str) -> bytes:
        message = purpose.encode() + b"\x00" + value.strip().casefold().encode()
        return hmac.digest(self._key, message, hashlib.sha256)


def load_key_ring(spec: str, blind_index_key_b64: str, key_file: Path, *, create: bool) -> KeyRing:
    """Keys from settings first, else the key file (created in development)."""
    if spec:
        if not blind_index_key_b64:
            raise ValueError("AFIYA_BLIND_INDEX_KEY is required with AFIYA_ENCRYPTION_KEYS")
        return KeyRing.parse(spec, blind_index_key_b64)
    if key_file.exists():
        return KeyRing.load_file(key_file)
    if not create:
        raise FileNotFoundError(f"no encryption key file at {key_file}")
    ring = KeyRing.generate()
    ring.save_file(key_file)
    return ring
