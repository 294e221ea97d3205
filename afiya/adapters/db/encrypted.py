"""Registry of encrypted columns, for key rotation and tests of raw rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models import Base
from afiya.domain.platform.crypto import FieldCipher


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    table: str
    column: str


ENCRYPTED_COLUMNS: list[EncryptedColumn] = [
    EncryptedColumn("app_user", "phone_enc"),
    EncryptedColumn("callback_request", "phone_enc"),
    EncryptedColumn("dhis2_connection", "secret_enc"),
    EncryptedColumn("fhir_subscription", "headers_enc"),
    EncryptedColumn("patient", "nni_enc"),
    EncryptedColumn("patient", "nss_enc"),
    EncryptedColumn("patient_phone", "number_enc"),
    EncryptedColumn("patient_identifier", "value_enc"),
    EncryptedColumn("patient_contact", "phone_enc"),
    EncryptedColumn("patient_payer", "policy_number_enc"),
    EncryptedColumn("clinical_note", "anamnesis_enc"),
    EncryptedColumn("clinical_note", "examination_enc"),
    EncryptedColumn("clinical_note", "assessment_enc"),
    EncryptedColumn("clinical_note", "plan_enc"),
]
"""Modules add their encrypted columns here (patients: NNI, NSS, phones...)."""


async def rewrap_all(session: AsyncSession, cipher: FieldCipher, batch: int = 500) -> int:
    """Re-wrap every stored data key under the current master key; returns rows changed.

    Only the small wrapped key changes; values are not decrypted, so no row context is
    needed and the work is cheap even for a million patients.
    """
    changed = 0
    for spec in ENCRYPTED_COLUMNS:
        table = Base.metadata.tables[spec.table]
        column = table.c[spec.column]
        last = None
        while True:
            stmt = select(table.c.id, column).where(column.is_not(None)).order_by(table.c.id)
            if last is not None:
                stmt = stmt.where(table.c.id > last)
            rows = (await session.execute(stmt.limit(batch))).all()
            if not rows:
                break
            for row_id, blob in rows:
                new = cipher.rewrap(bytes(blob))
                if new != blob:
                    await session.execute(
                        update(table).where(table.c.id == row_id).values({spec.column: new})
                    )
                    changed += 1
            last = rows[-1][0]
    return changed
