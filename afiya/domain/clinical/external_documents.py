"""Documents received from outside: a lab's PDF report, a scanned referral letter.

The file goes to the blob store (a *binary*), its description to the clinical record (an
*external document*, linked to the patient and optionally an encounter). A binary may be
uploaded first and claimed by a document afterwards (the FHIR way: ``Binary`` then a
``DocumentReference`` pointing at it); once claimed it belongs to the document's
patient. Codes (type, category, event, facility type, practice setting, format) are kept
as given, system, code and display, so another system gets back what it sent.

Rules (pure): only PDF, JPEG, PNG, TIFF and plain text are accepted, their first bytes
must be those of the declared type, and a file may not exceed the configured size.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from afiya.domain.clinical.ports import StoredImage
from afiya.domain.shared.errors import DomainError, FieldError
from afiya.domain.shared.i18n import N_, Message

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""The size limit when the settings do not give one (``AFIYA_DOCUMENT_MAX_BYTES``)."""

ALLOWED_CONTENT_TYPES = frozenset(
    {"application/pdf", "image/jpeg", "image/png", "image/tiff", "text/plain"}
)
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
}


class DocumentStatus(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"
    ENTERED_IN_ERROR = "entered-in-error"


class UnsupportedContentType(DomainError):
    code = "unsupported_content_type"
    default_message = N_("Documents are accepted as PDF, JPEG, PNG, TIFF or plain text.")


class DocumentTooLarge(DomainError):
    code = "document_too_large"
    default_message = N_("The document is larger than the limit of {limit} bytes.")


@dataclass(frozen=True, slots=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Concept:
    """A coded concept as received: its codings and its text."""

    codings: tuple[Coding, ...] = ()
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Identifier:
    system: str | None
    value: str
    master: bool = False  # the document's own identifier (FHIR masterIdentifier)


@dataclass(frozen=True, slots=True)
class DocumentCodes:
    """What the sender coded about the document, kept as sent."""

    type: Concept | None = None
    categories: tuple[Concept, ...] = ()
    events: tuple[Concept, ...] = ()
    facility_type: Concept | None = None
    practice_setting: Concept | None = None
    format: Coding | None = None


@dataclass(frozen=True, slots=True)
class StoredBinary:
    """A file in the blob store; ``patient_id`` is None until a document claims it
    (or it was uploaded for a named patient)."""

    id: UUID
    content_type: str
    size: int
    sha1: str  # base64 of the SHA-1 digest (what FHIR's Attachment.hash holds)
    sha256: str
    blob_key: str
    created_by: UUID | None
    patient_id: UUID | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExternalDocument:
    id: UUID
    patient_id: UUID
    binary_id: UUID | None  # None until filed with inline content
    status: DocumentStatus
    date: datetime | None  # when the document was made/filed (DocumentReference.date)
    codes: DocumentCodes = field(default_factory=DocumentCodes)
    doc_status: str | None = None  # preliminary, final, amended, entered-in-error
    description: str | None = None
    title: str | None = None
    language: str | None = None
    creation: datetime | None = None  # when the content itself was made
    encounter_id: UUID | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    identifiers: tuple[Identifier, ...] = ()
    version: int = 1
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as received, and what the sender says about it (checked when given)."""

    content_type: str
    data: bytes
    declared_size: int | None = None
    declared_sha1: str | None = None


def base_type(content_type: str) -> str:
    """``text/plain; charset=utf-8`` → ``text/plain``."""
    return content_type.split(";", 1)[0].strip().lower()


def sha1_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode("ascii")


def check_content_type(content_type: str) -> None:
    """Raises :class:`UnsupportedContentType` outside the allow-list."""
    if base_type(content_type) not in ALLOWED_CONTENT_TYPES:
        raise UnsupportedContentType(details={"content_type": content_type})


def check_size(size: int, limit: int) -> None:
    """Raises :class:`DocumentTooLarge` above ``limit`` bytes."""
    if size > limit:
        raise DocumentTooLarge(
            Message(DocumentTooLarge.default_message, {"limit": limit}),
            details={"size": size, "limit": limit},
        )


def content_errors(upload: Upload, field_prefix: str = "") -> list[FieldError]:
    """The file's bytes must be those of its declared type (a renamed file is refused),
    and a declared size or SHA-1 must match the bytes."""
    errors: list[FieldError] = []
    kind = base_type(upload.content_type)
    if not upload.data:
        errors.append(
            FieldError(f"{field_prefix}data", Message(N_("The document is empty.")), "empty")
        )
        return errors
    magic = _MAGIC.get(kind)
    mismatch = magic is not None and not upload.data.startswith(magic)
    if kind == "text/plain":
        try:
            upload.data.decode("utf-8")
        except UnicodeDecodeError:
            mismatch = True
    if mismatch:
        errors.append(
            FieldError(
                f"{field_prefix}content_type",
                Message(N_("The content is not a {content_type} file."), {"content_type": kind}),
                "content_mismatch",
            )
        )
    if upload.declared_size is not None and upload.declared_size != len(upload.data):
        errors.append(
            FieldError(
                f"{field_prefix}size",
                Message(
                    N_("The declared size ({declared}) is not the size of the content ({size})."),
                    {"declared": upload.declared_size, "size": len(upload.data)},
                ),
                "size_mismatch",
            )
        )
    if upload.declared_sha1 is not None and upload.declared_sha1 != sha1_base64(upload.data):
        errors.append(
            FieldError(
                f"{field_prefix}hash",
                Message(N_("The declared SHA-1 hash does not match the content.")),
                "hash_mismatch",
            )
        )
    return errors


class ExternalDocumentRepository(Protocol):
    """Binaries and external documents (``uow.clinical_documents``)."""

    async def add_binary(self, binary: StoredBinary) -> None: ...

    async def binary(self, binary_id: UUID) -> StoredBinary | None: ...

    async def claim_binary(self, binary_id: UUID, patient_id: UUID) -> None:
        """Mark the binary as the patient's (its document was filed)."""
        ...

    async def document_of_binary(self, binary_id: UUID) -> UUID | None: ...

    async def add_document(self, document: ExternalDocument) -> None: ...

    async def document(self, document_id: UUID) -> ExternalDocument | None: ...

    async def patient_documents(self, patient_id: UUID) -> Sequence[ExternalDocument]: ...

    async def imaging_file(self, file_id: UUID) -> StoredImage | None:
        """A file of an imaging report by its own id (to serve it as a Binary)."""
        ...
