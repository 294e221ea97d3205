"""Shared helpers of the prescribing API tests: a patient with a record at CH-TZ."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from afiya.adapters.db.models import AuditEventRow
from tests.api.clinical.helpers import new_patient

__all__ = [
    "allergy",
    "audit_actions",
    "dispense",
    "medication",
    "new_patient",
    "prescribe",
    "problem",
]


def medication(product: str, **fields: Any) -> dict[str, Any]:
    return {"kind": "medication", "medication": {"product_code": product, **fields}}


async def problem(
    client: Any, headers: dict[str, str], patient_id: str, kind: str, code: str
) -> None:
    response = await client.post(
        f"/api/v1/patients/{patient_id}/problems",
        headers=headers,
        json={"kind": kind, "code": code},
    )
    assert response.status_code in (200, 201), response.text


async def allergy(
    client: Any,
    headers: dict[str, str],
    patient_id: str,
    *,
    system: str = "ingredient",
    code: str,
    verification: str = "confirmed",
    criticality: str = "high",
) -> None:
    response = await client.post(
        f"/api/v1/patients/{patient_id}/allergies",
        headers=headers,
        json={
            "type": "allergy",
            "category": "medication",
            "substance": {"system": system, "code": code, "display": code},
            "criticality": criticality,
            "verification": verification,
        },
    )
    assert response.status_code in (200, 201), response.text


async def prescribe(
    client: Any, headers: dict[str, str], patient_id: str, *lines: dict[str, Any], **body: Any
) -> Any:
    return await client.post(
        "/api/v1/prescriptions",
        headers=headers,
        json={"patient_id": patient_id, "lines": list(lines), **body},
    )


async def dispense(client: Any, headers: dict[str, str], line_id: str, quantity: int = 1) -> Any:
    return await client.post(
        "/api/v1/dispensings/",
        headers=headers,
        json={"line_id": line_id, "quantity": quantity, "quantity_unit": "unit"},
    )


async def audit_actions(container: Any, patient_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The audit events of a patient, in order (action, details)."""
    import uuid

    async with container.uow.sessions() as session:
        rows = (
            await session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.patient_id == uuid.UUID(patient_id))
                .order_by(AuditEventRow.seq)
            )
        ).all()
    return [(r.action, r.details or {}) for r in rows]
