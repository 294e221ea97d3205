"""The CapabilityStatement, generated from the registry the routes are built from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from afiya import __version__
from afiya.adapters.fhir.engine.includes import MAX_INCLUDED, includes_of, revincludes_of
from afiya.adapters.fhir.engine.registry import REGISTRY
from afiya.domain.fhir.search import COMMON_PARAMS

OPERATION_DEFINITIONS = {
    "everything": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
}
_STARTED = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def capability_statement(base: str) -> dict[str, Any]:
    resources = []
    for name in sorted(REGISTRY):
        kind = REGISTRY[name]
        params = [
            {"name": p, "type": t.value, "documentation": kind.param_docs.get(p, p)}
            for p, t in {**COMMON_PARAMS, **kind.search_spec.params}.items()
        ]
        entry: dict[str, Any] = {
            "type": name,
            "documentation": kind.documentation,
            "interaction": [{"code": code} for code in kind.interactions],
            "versioning": "versioned",  # every resource carries meta.versionId
            "readHistory": kind.vread is not None,
            "updateCreate": False,
            "conditionalCreate": kind.conditional_create,
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchParam": params,
        }
        if found := includes_of(name):
            entry["searchInclude"] = sorted(p.name for p in found)
        if found := revincludes_of(name):
            entry["searchRevInclude"] = sorted(p.name for p in found)
        if kind.operations:
            entry["operation"] = [
                {"name": op, "definition": OPERATION_DEFINITIONS[op]} for op in kind.operations
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": _STARTED,
        "publisher": "Afiya",
        "kind": "instance",
        "software": {"name": "Afiya", "version": __version__},
        "implementation": {"description": "Afiya FHIR R4 API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "JSON only. Search: repeated parameters AND, commas OR; _count (max "
                    "100) with next links, _offset, _sort, _summary=count, _lastUpdated; "
                    "_include and _revinclude for the pairs listed per type (best effort: "
                    "what the caller may not read is left out; at most "
                    f"{MAX_INCLUDED} included resources); unknown parameters answer 400 "
                    "unless Prefer: handling=lenient."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "Bearer access token from /api/v1/auth/login; the same roles, "
                        "permissions and facility scope as /api/v1; every access audited."
                    ),
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
            }
        ],
    }
