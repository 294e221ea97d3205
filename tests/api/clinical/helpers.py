"""Shared helpers of the clinical record API tests: a patient at CH-TZ, its wards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.patients.helpers import facility_id, person, register

ARABIC_GIVEN = "فاطمة"
ARABIC_FAMILY = "بنت أحمد"


def ago(**delta: float) -> str:
    """An ISO time ``delta`` before now (clinical times may not lie in the future)."""
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def unit_ids(client: Any, headers: dict[str, str]) -> dict[str, str]:
    """Org-unit ids by demo code (``CH-TZ``, department ``CH-TZ-S1``, ward ``CH-TZ-S1-W1``)."""
    response = await client.get("/api/v1/org-units/", params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    return {u["code"]: u["id"] for u in response.json()["items"] if u.get("code")}


async def new_patient(client: Any, auth: Any, **overrides: Any) -> dict[str, Any]:
    """A patient registered by the receptionist of CH-TZ (Arabic name given)."""
    clerk = await auth("demo.receptionist")
    unit = await facility_id(client, clerk, "CH-TZ")
    body = person(
        unit,
        given_names="Fatimetou",
        family_name="Mint Ahmed",
        sex="female",
        birth_date="1990-05-01",
        birth_year=None,
        given_names_ar=ARABIC_GIVEN,
        family_name_ar=ARABIC_FAMILY,
        confirm_new_person=True,
        confirm_reason="Patiente de test",
    )
    body.update(overrides)
    return await register(client, clerk, body)


async def timeline(
    client: Any, headers: dict[str, str], patient_id: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/patients/{patient_id}/timeline", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
