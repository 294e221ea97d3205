"""Shared helpers of the FHIR API tests: requests, example payloads, validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from afiya.adapters.fhir.common import NNI_SYSTEM
from tests.conftest import SHARED

EXAMPLES = SHARED / "fixtures" / "fhir-r4-examples"
FHIR = "/fhir/R4"


def example(name: str) -> dict[str, Any]:
    """An official HL7 R4 example, read from ../shared (never copied into the repo)."""
    return json.loads(Path(EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """Fail unless ``resource`` validates with its fhir.resources (R4B) model."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    if resource["resourceType"] == "Bundle":
        for entry in resource.get("entry", []):
            if "resource" in entry:
                valid(entry["resource"])
    return resource


def person(unit_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Ould Ahmed", "given": ["Mohamed"]}],
        "gender": "male",
        "birthDate": "1981-03-02",
        "telecom": [{"system": "phone", "value": "+222 36 12 34 56"}],
        "address": [{"state": "Nouakchott-Ouest", "district": "Tevragh Zeina"}],
        "communication": [{"language": {"coding": [{"code": "ar"}]}, "preferred": True}],
    }
    if unit_id:
        body["managingOrganization"] = {"reference": f"Organization/{unit_id}"}
    body.update(overrides)
    return body


def nni(value: str) -> list[dict[str, Any]]:
    return [{"system": NNI_SYSTEM, "value": value}]


async def post(client: Any, headers: dict[str, str], path: str, body: Any, **extra: str) -> Any:
    return await client.post(
        FHIR + path,
        headers=headers | {"Content-Type": "application/fhir+json"} | extra,
        content=json.dumps(body),
    )


async def put(client: Any, headers: dict[str, str], path: str, body: Any, **extra: str) -> Any:
    return await client.put(
        FHIR + path,
        headers=headers | {"Content-Type": "application/fhir+json"} | extra,
        content=json.dumps(body),
    )


async def get(client: Any, headers: dict[str, str], path: str, **params: Any) -> Any:
    return await client.get(FHIR + path, headers=headers, params=params)


def outcome_paths(response: Any) -> list[str]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return [e for i in body["issue"] for e in i.get("expression", [])]
