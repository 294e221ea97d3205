"""What every FHIR mapper shares: system URIs, meta, validation with fhir.resources.

``fhir.resources`` 8 publishes R4B (4.3.0) models, not 4.0.1 ones; for the resources
Afiya maps, R4B and R4 have the same wire shape (ADR 0109), so R4B models validate what
``/fhir/R4`` accepts and produces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

BASE_URI = "https://afiya.health/fhir"
"""Project base URI: naming systems and extensions Afiya defines live under it."""

NNI_SYSTEM = f"{BASE_URI}/sid/nni"  # numéro national d'identification (Mauritania: 10 digits)
NSS_SYSTEM = f"{BASE_URI}/sid/nss"  # social-security number (CNAM)
MRN_SYSTEM = f"{BASE_URI}/sid/mrn"  # Afiya medical record number (facility site + sequence)
IDENTIFIER_SYSTEM = f"{BASE_URI}/sid/identifier/"  # + Afiya identifier type (passport...)
ORGUNIT_UID_SYSTEM = f"{BASE_URI}/sid/org-unit-uid"  # DHIS2-compatible 11-character uid
ORGUNIT_CODE_SYSTEM = f"{BASE_URI}/sid/org-unit-code"
USERNAME_SYSTEM = f"{BASE_URI}/sid/username"
ROLE_SYSTEM = f"{BASE_URI}/CodeSystem/role"
UNIT_KIND_SYSTEM = f"{BASE_URI}/CodeSystem/org-unit-kind"
APPOINTMENT_TYPE_SYSTEM = f"{BASE_URI}/sid/appointment-type"
SLOT_KEY_SYSTEM = f"{BASE_URI}/sid/slot-key"  # what /api/v1 booking takes back
AUDIT_ACTION_SYSTEM = f"{BASE_URI}/CodeSystem/audit-action"
BIRTH_YEAR_ESTIMATED = f"{BASE_URI}/StructureDefinition/birth-year-estimated"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
LANGUAGE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/language"
BCP47 = "urn:ietf:bcp:47"

FHIR_JSON = "application/fhir+json"


def instant(moment: datetime | None) -> str | None:
    """A FHIR instant (UTC, millisecond precision, ``Z``)."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def meta(version: int, updated_at: datetime | None) -> dict[str, Any]:
    out: dict[str, Any] = {"versionId": str(version)}
    if updated_at is not None:
        out["lastUpdated"] = instant(updated_at)
    return out


def reference(resource_type: str, ident: object, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"reference": f"{resource_type}/{ident}"}
    if display:
        out["display"] = display
    return out


def prune(value: Any) -> Any:
    """Drop ``None``, empty strings, lists and objects (FHIR forbids empty elements)."""
    if isinstance(value, dict):
        cleaned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        cleaned_list = [prune(v) for v in value]
        return [v for v in cleaned_list if v not in (None, "", [], {})]
    return value


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a resource was refused: a FHIRPath-like location and a message."""

    path: str
    message: str
    code: str = "invalid"  # OperationOutcome issue code


class InvalidResource(Exception):
    """The body is not a valid FHIR resource of the expected type."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


def _path(resource_type: str, location: tuple[Any, ...]) -> str:
    text = resource_type
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}"
    return text


_ISSUE_OF = {"missing": "required", "extra_forbidden": "structure"}


def validate(body: Any, expected: str | None = None) -> dict[str, Any]:
    """Check ``body`` with the R4B model of its ``resourceType``; return it as a dict.

    Raises :class:`InvalidResource` listing every failing path (from pydantic's error
    locations) — or the missing/unexpected ``resourceType``.
    """
    if not isinstance(body, Mapping):
        raise InvalidResource([Problem("$", "the body is not a JSON object", "structure")])
    kind = body.get("resourceType")
    if not isinstance(kind, str) or (expected is not None and kind != expected):
        wanted = expected or "a resource type"
        raise InvalidResource(
            [Problem("resourceType", f"expected {wanted}, got {kind!r}", "invalid")]
        )
    try:
        model = get_fhir_model_class(kind)
    except KeyError:
        problem = Problem("resourceType", f"unknown type {kind}", "not-supported")
        raise InvalidResource([problem]) from None
    try:
        model.model_validate(dict(body))
    except ValidationError as exc:
        problems = [
            Problem(_path(kind, tuple(e["loc"])), e["msg"], _ISSUE_OF.get(e["type"], "value"))
            for e in exc.errors()
        ]
        raise InvalidResource(problems) from None
    except (ValueError, TypeError) as exc:
        raise InvalidResource([Problem(kind, str(exc), "value")]) from None
    return dict(body)


def reference_id(value: Any, resource_type: str) -> str | None:
    """The id of ``{"reference": "Type/id"}`` (absolute URLs too), else None."""
    if not isinstance(value, Mapping):
        return None
    ref = value.get("reference")
    if not isinstance(ref, str):
        return None
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == resource_type:
        return parts[-1]
    return None
