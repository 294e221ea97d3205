"""SQL repository of documents received from other systems (``uow.clinical_documents``).

Codes and identifiers are stored as JSON exactly as received (system, code, display);
a binary is claimed by an UPDATE through the ORM, so the change log records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.clinical import ImagingFileRow
from afiya.adapters.db.models.clinical_documents import BinaryRow, ExternalDocumentRow
from afiya.adapters.db.repositories.clinical_rows import stored_image_of
from afiya.domain.clinical.external_documents import (
    Coding,
    Concept,
    DocumentCodes,
    DocumentStatus,
    ExternalDocument,
    Identifier,
    StoredBinary,
)
from afiya.domain.clinical.ports import StoredImage


def _coding_json(c: Coding) -> dict[str, Any]:
    return {"system": c.system, "code": c.code, "display": c.display}


def _concept_json(c: Concept | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"codings": [_coding_json(x) for x in c.codings], "text": c.text}


def _coding(data: Any) -> Coding | None:
    if not data:
        return None
    return Coding(data.get("system"), data.get("code"), data.get("display"))


def _concept(data: Any) -> Concept | None:
    if not data:
        return None
    codings = tuple(c for c in (_coding(x) for x in data.get("codings", [])) if c is not None)
    return Concept(codings, data.get("text"))


def codes_json(codes: DocumentCodes) -> dict[str, Any]:
    return {
        "type": _concept_json(codes.type),
        "categories": [_concept_json(c) for c in codes.categories],
        "events": [_concept_json(c) for c in codes.events],
        "facility_type": _concept_json(codes.facility_type),
        "practice_setting": _concept_json(codes.practice_setting),
        "format": _coding_json(codes.format) if codes.format else None,
    }


def codes_of(data: dict[str, Any]) -> DocumentCodes:
    return DocumentCodes(
        type=_concept(data.get("type")),
        categories=tuple(c for c in map(_concept, data.get("categories", [])) if c),
        events=tuple(c for c in map(_concept, data.get("events", [])) if c),
        facility_type=_concept(data.get("facility_type")),
        practice_setting=_concept(data.get("practice_setting")),
        format=_coding(data.get("format")),
    )


class SqlExternalDocumentRepository:
    """:class:`~afiya.domain.clinical.external_documents.ExternalDocumentRepository`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_binary(self, binary: StoredBinary) -> None:
        self._session.add(
            BinaryRow(
                id=binary.id,
                patient_id=binary.patient_id,
                content_type=binary.content_type,
                size=binary.size,
                sha1=binary.sha1,
                sha256=binary.sha256,
                blob_key=binary.blob_key,
            )
        )
        await self._session.flush()

    async def binary(self, binary_id: UUID) -> StoredBinary | None:
        r = await self._session.get(BinaryRow, binary_id)
        if r is None or r.deleted_at is not None:
            return None
        return StoredBinary(
            id=r.id,
            content_type=r.content_type,
            size=r.size,
            sha1=r.sha1,
            sha256=r.sha256,
            blob_key=r.blob_key,
            created_by=r.created_by,
            patient_id=r.patient_id,
            created_at=r.created_at,
        )

    async def claim_binary(self, binary_id: UUID, patient_id: UUID) -> None:
        row = await self._session.get(BinaryRow, binary_id)
        if row is not None and row.patient_id != patient_id:
            row.patient_id = patient_id
            await self._session.flush()

    async def document_of_binary(self, binary_id: UUID) -> UUID | None:
        found = await self._session.execute(
            select(ExternalDocumentRow.id).where(
                ExternalDocumentRow.binary_id == binary_id,
                ExternalDocumentRow.deleted_at.is_(None),
            )
        )
        return found.scalar_one_or_none()

    async def add_document(self, document: ExternalDocument) -> None:
        assert document.binary_id is not None
        assert document.date is not None
        self._session.add(
            ExternalDocumentRow(
                id=document.id,
                patient_id=document.patient_id,
                encounter_id=document.encounter_id,
                binary_id=document.binary_id,
                status=document.status.value,
                doc_status=document.doc_status,
                occurred_at=document.date,
                description=document.description,
                title=document.title,
                language=document.language,
                creation=document.creation,
                period_start=document.period_start,
                period_end=document.period_end,
                codes=codes_json(document.codes),
                identifiers=[
                    {"system": i.system, "value": i.value, "master": i.master}
                    for i in document.identifiers
                ],
            )
        )
        await self._session.flush()

    @staticmethod
    def _document(r: ExternalDocumentRow) -> ExternalDocument:
        return ExternalDocument(
            id=r.id,
            patient_id=r.patient_id,
            binary_id=r.binary_id,
            status=DocumentStatus(r.status),
            date=r.occurred_at,
            codes=codes_of(r.codes or {}),
            doc_status=r.doc_status,
            description=r.description,
            title=r.title,
            language=r.language,
            creation=r.creation,
            encounter_id=r.encounter_id,
            period_start=r.period_start,
            period_end=r.period_end,
            identifiers=tuple(
                Identifier(i.get("system"), i["value"], bool(i.get("master")))
                for i in (r.identifiers or [])
            ),
            version=r.version,
            updated_at=r.updated_at,
        )

    async def document(self, document_id: UUID) -> ExternalDocument | None:
        r = await self._session.get(ExternalDocumentRow, document_id)
        if r is None or r.deleted_at is not None:
            return None
        return self._document(r)

    async def patient_documents(self, patient_id: UUID) -> Sequence[ExternalDocument]:
        rows = await self._session.execute(
            select(ExternalDocumentRow)
            .where(
                ExternalDocumentRow.patient_id == patient_id,
                ExternalDocumentRow.deleted_at.is_(None),
            )
            .order_by(ExternalDocumentRow.occurred_at.desc(), ExternalDocumentRow.id.desc())
        )
        return [self._document(r) for r in rows.scalars().all()]

    async def imaging_file(self, file_id: UUID) -> StoredImage | None:
        r = await self._session.get(ImagingFileRow, file_id)
        if r is None or r.deleted_at is not None:
            return None
        return stored_image_of(r)
