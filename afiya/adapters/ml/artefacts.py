"""Model artefacts as bytes: metadata, adapter state and the LightGBM model, checksummed.

Layout: ``AFIYA-ML`` (8 bytes), format version (1 byte), header length (4 bytes, big
endian), header (UTF-8 JSON: metadata, state, SHA-256 of the model text), model text
(LightGBM's own text format, which is stable across its versions and readable in a
review). The blob store and the model registry keep these bytes as they are.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import lightgbm as lgb

from afiya.domain.pbf_intelligence.errors import InvalidModelArtefact
from afiya.domain.pbf_intelligence.model import ModelMetadata
from afiya.domain.shared.i18n import N_, Message

MAGIC = b"AFIYA-ML"
FORMAT_VERSION = 1
_HEADER = struct.Struct(">8sBI")


def pack(metadata: ModelMetadata, state: Mapping[str, Any], booster: lgb.Booster) -> bytes:
    """Serialise a trained model with its metadata and adapter state."""
    model_text = booster.model_to_string().encode("utf-8")
    header = {
        "metadata": {
            "kind": metadata.kind,
            "version": metadata.version,
            "training_first_period": metadata.training_first_period,
            "training_last_period": metadata.training_last_period,
            "features": list(metadata.features),
            "metrics": dict(metadata.metrics),
            "created_at": metadata.created_at.isoformat(),
            "library": metadata.library,
            "parameters": dict(metadata.parameters),
        },
        "state": dict(state),
        "model_sha256": hashlib.sha256(model_text).hexdigest(),
    }
    body = json.dumps(header, sort_keys=True, allow_nan=False).encode("utf-8")
    return _HEADER.pack(MAGIC, FORMAT_VERSION, len(body)) + body + model_text


def unpack(blob: bytes, *, kind: str) -> tuple[ModelMetadata, dict[str, Any], lgb.Booster]:
    """Read back what :func:`pack` wrote, checking format, kind and checksum.

    Raises:
        InvalidModelArtefact: not an Afiya model, another format version, another kind of
            model, or damaged bytes.
    """
    if len(blob) < _HEADER.size:
        raise _invalid(N_("The stored model is truncated."))
    magic, version, length = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise _invalid(N_("The stored data is not an Afiya model."))
    if version != FORMAT_VERSION:
        raise InvalidModelArtefact(
            Message(
                N_("The stored model uses format {version}; this version reads format {expected}."),
                {"version": version, "expected": FORMAT_VERSION},
            )
        )
    end = _HEADER.size + length
    try:
        header = json.loads(blob[_HEADER.size : end].decode("utf-8"))
        model_text = blob[end:]
        meta = header["metadata"]
        checksum_ok = hashlib.sha256(model_text).hexdigest() == header["model_sha256"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise _invalid(N_("The stored model is damaged.")) from exc
    if not checksum_ok:
        raise _invalid(N_("The stored model is damaged."))
    if meta.get("kind") != kind:
        raise InvalidModelArtefact(
            Message(
                N_("The stored model is a {found} model, not a {expected} model."),
                {"found": meta.get("kind"), "expected": kind},
            )
        )
    metadata = ModelMetadata(
        kind=meta["kind"],
        version=meta["version"],
        training_first_period=meta["training_first_period"],
        training_last_period=meta["training_last_period"],
        features=tuple(meta["features"]),
        metrics=dict(meta["metrics"]),
        created_at=datetime.fromisoformat(meta["created_at"]),
        library=meta["library"],
        parameters=dict(meta["parameters"]),
    )
    booster = lgb.Booster(model_str=model_text.decode("utf-8"))
    return metadata, header["state"], booster


def _invalid(msgid: str) -> InvalidModelArtefact:
    return InvalidModelArtefact(Message(msgid))
