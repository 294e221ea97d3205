"""Shared helpers of the patient API tests."""

from __future__ import annotations

from typing import Any


async def facility_id(client: Any, headers: dict[str, str], code: str) -> str:
    response = await client.get(
        "/api/v1/org-units/", params={"kind": "facility", "limit": 200}, headers=headers
    )
    return next(u["id"] for u in response.json()["items"] if u["code"] == code)


def person(unit_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "unit_id": unit_id,
        "given_names": "Mohamed",
        "family_name": "O. Ahmed",
        "sex": "male",
        "birth_year": 1981,
        "phones": [{"number": "36 12 34 56"}],
        "address": {"region": "Nouakchott-Ouest", "district": "Tevragh Zeina"},
        "language": "ar",
    }
    body.update(overrides)
    return body


async def register(client: Any, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/patients/", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
