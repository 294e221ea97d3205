"""Patient ⇄ FHIR Patient.

Kept from a FHIR Patient: NNI, NSS and other identifiers (by system), the first name in
Latin script and the first in Arabic script, phone numbers, gender, birth date (a year
alone is a partial date), the first address (state → region, district, city → commune,
lines → locality), the preferred language, contacts (name, relationship, phone) and the
managing organization (the registering facility). Everything else is reported back as
not stored (:func:`not_stored`), never dropped silently. Payers map to Coverage later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from afiya.adapters.fhir.common import (
    BCP47,
    BIRTH_YEAR_ESTIMATED,
    IDENTIFIER_SYSTEM,
    LANGUAGE_EXTENSION,
    MRN_SYSTEM,
    NNI_SYSTEM,
    NSS_SYSTEM,
    V2_0203,
    meta,
    prune,
    reference,
    reference_id,
)
from afiya.domain.patients.model import Address, EmergencyContact, Identifier, Patient, Phone

KEPT = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "identifier",
        "active",
        "name",
        "telecom",
        "gender",
        "birthDate",
        "address",
        "communication",
        "contact",
        "managingOrganization",
        "text",  # narrative: regenerated from the stored data, not kept
    }
)
_ARABIC = re.compile(r"[\u0600-\u06FF]")


def _type(code: str) -> dict[str, Any]:
    return {"coding": [{"system": V2_0203, "code": code}]}


def to_fhir(patient: Patient) -> dict[str, Any]:
    """The stored patient as a FHIR Patient (validates with the R4B model)."""
    p = patient
    identifiers: list[dict[str, Any]] = [
        {
            "use": "usual",
            "type": _type("MR"),
            "system": MRN_SYSTEM,
            "value": p.mrn,
            "assigner": reference("Organization", p.unit_id),
        }
    ]
    if p.nni:
        identifiers.append(
            {"use": "official", "type": _type("NI"), "system": NNI_SYSTEM, "value": p.nni}
        )
    if p.nss:
        identifiers.append({"type": _type("SB"), "system": NSS_SYSTEM, "value": p.nss})
    for other in p.identifiers:
        system = (
            other.issuer
            if other.type == "other" and other.issuer and ":" in other.issuer
            else IDENTIFIER_SYSTEM + other.type
        )
        identifiers.append({"system": system, "value": other.value})
    names: list[dict[str, Any]] = [
        {
            "use": "official",
            "text": f"{p.given_names} {p.family_name}".strip(),
            "family": p.family_name,
            "given": p.given_names.split(),
        }
    ]
    if p.given_names_ar or p.family_name_ar:
        names.append(
            {
                "extension": [{"url": LANGUAGE_EXTENSION, "valueCode": "ar"}],
                "use": "official",
                "text": f"{p.given_names_ar or ''} {p.family_name_ar or ''}".strip(),
                "family": p.family_name_ar,
                "given": (p.given_names_ar or "").split(),
            }
        )
    birth: dict[str, Any] = {}
    if p.birth_date is not None:
        birth["birthDate"] = p.birth_date.isoformat()
    elif p.birth_year is not None:
        birth["birthDate"] = f"{p.birth_year:04d}"
        if p.birth_year_estimated:
            birth["_birthDate"] = {
                "extension": [{"url": BIRTH_YEAR_ESTIMATED, "valueBoolean": True}]
            }
    a = p.address
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(p.id),
        "meta": meta(p.version, p.updated_at),
        "identifier": identifiers,
        "active": p.status.value == "active",
        "name": names,
        "telecom": [
            {"system": "phone", "value": ph.number, "use": "mobile", "rank": i + 1}
            for i, ph in enumerate(p.phones)
        ],
        "gender": p.sex,
        **birth,
        "address": [
            {
                "use": "home",
                "line": [a.locality] if a.locality else [],
                "city": a.commune,
                "district": a.district,
                "state": a.region,
            }
        ],
        "communication": [
            {"language": {"coding": [{"system": BCP47, "code": p.language}]}, "preferred": True}
        ]
        if p.language
        else [],
        "contact": [
            {
                "relationship": [{"text": c.relationship}] if c.relationship else [],
                "name": {"text": c.name},
                "telecom": [{"system": "phone", "value": c.phone}] if c.phone else [],
            }
            for c in p.contacts
        ],
        "managingOrganization": reference("Organization", p.unit_id),
    }
    if p.merged_into_id is not None:
        resource["link"] = [
            {"other": reference("Patient", p.merged_into_id), "type": "replaced-by"}
        ]
    return prune(resource)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class PatientFields:
    """What a FHIR Patient says, in the registry's terms (before domain validation)."""

    values: dict[str, Any]
    identifiers: tuple[Identifier, ...] = ()
    unit_id: UUID | None = None
    not_stored: tuple[str, ...] = field(default=())


def _name_parts(name: Mapping[str, Any]) -> tuple[str, str]:
    given = " ".join(str(g) for g in name.get("given") or [])
    family = str(name.get("family") or "")
    if not given and not family and name.get("text"):
        words = str(name["text"]).split()
        given, family = " ".join(words[:-1]), words[-1] if words else ""
    return given.strip(), family.strip()


def _is_arabic(name: Mapping[str, Any]) -> bool:
    for ext in name.get("extension") or []:
        if ext.get("url") == LANGUAGE_EXTENSION and str(ext.get("valueCode", "")).startswith("ar"):
            return True
    given, family = _name_parts(name)
    return bool(_ARABIC.search(given + family))


def from_fhir(resource: Mapping[str, Any]) -> PatientFields:
    """Registry fields from a validated FHIR Patient; lists what Afiya does not keep."""
    dropped = [f"Patient.{k}" for k in resource if k not in KEPT and not k.startswith("_")]
    for key, value in resource.items():  # primitive extensions: only Afiya's own is kept
        urls = (
            {e.get("url") for e in (value or {}).get("extension") or []}
            if key[:1] == "_"
            else set()
        )
        if key[:1] == "_" and not (key == "_birthDate" and urls <= {BIRTH_YEAR_ESTIMATED}):
            dropped.append(f"Patient.{key}")
    values: dict[str, Any] = {
        "nni": None,
        "nss": None,
        "given_names": "",
        "family_name": "",
        "given_names_ar": None,
        "family_name_ar": None,
    }
    identifiers: list[Identifier] = []
    for i, ident in enumerate(resource.get("identifier") or []):
        system, value = ident.get("system"), ident.get("value")
        if not value:
            dropped.append(f"Patient.identifier[{i}]")
        elif system == NNI_SYSTEM:
            values["nni"] = value
        elif system == NSS_SYSTEM:
            values["nss"] = value
        elif system == MRN_SYSTEM:
            continue  # issued by Afiya, never taken from a client
        elif system and system.startswith(IDENTIFIER_SYSTEM):
            identifiers.append(Identifier(system[len(IDENTIFIER_SYSTEM) :], value))
        else:
            identifiers.append(Identifier("other", value, (system or None) and system[:100]))
    latin = arabic = None
    for i, name in enumerate(resource.get("name") or []):
        if _is_arabic(name):
            if arabic is None:
                arabic = name
                continue
        elif latin is None:
            latin = name
            continue
        dropped.append(f"Patient.name[{i}]")
    if latin is not None:
        values["given_names"], values["family_name"] = _name_parts(latin)
    if arabic is not None:
        values["given_names_ar"], values["family_name_ar"] = _name_parts(arabic)
        if latin is None:
            values["given_names"], values["family_name"] = _name_parts(arabic)
    phones: list[Phone] = []
    for i, telecom in enumerate(resource.get("telecom") or []):
        if telecom.get("system") in ("phone", "sms") and telecom.get("value"):
            phones.append(Phone(str(telecom["value"])))
        else:
            dropped.append(f"Patient.telecom[{i}]")
    values["phones"] = tuple(phones)
    values["sex"] = resource.get("gender") or ""
    values.update(_birth(resource))
    addresses = resource.get("address") or []
    if addresses:
        a = addresses[0]
        lines = ", ".join(str(x) for x in a.get("line") or [])
        values["address"] = Address(a.get("state"), a.get("district"), a.get("city"), lines or None)
        dropped += [f"Patient.address[{i}]" for i in range(1, len(addresses))]
    else:
        values["address"] = Address()
    values["language"] = _language(resource.get("communication") or [])
    contacts = []
    for c in resource.get("contact") or []:
        name = c.get("name") or {}
        given, family = _name_parts(name)
        text = name.get("text") or f"{given} {family}".strip()
        relationship = next(
            (
                r.get("text") or (r.get("coding") or [{}])[0].get("code")
                for r in c.get("relationship") or []
            ),
            None,
        )
        phone = next(
            (t.get("value") for t in c.get("telecom") or [] if t.get("system") == "phone"), None
        )
        if text:
            contacts.append(EmergencyContact(text, relationship, phone))
    values["contacts"] = tuple(contacts)
    unit = reference_id(resource.get("managingOrganization"), "Organization")
    unit_id = None
    if unit is not None:
        try:
            unit_id = UUID(unit)
        except ValueError:
            unit_id = UUID(int=0)  # refused later as an unknown facility
    return PatientFields(values, tuple(identifiers), unit_id, tuple(dropped))


def _birth(resource: Mapping[str, Any]) -> dict[str, Any]:
    text = resource.get("birthDate")
    estimated = any(
        e.get("url") == BIRTH_YEAR_ESTIMATED and e.get("valueBoolean")
        for e in (resource.get("_birthDate") or {}).get("extension") or []
    )
    if not text:
        return {"birth_date": None, "birth_year": None, "birth_year_estimated": False}
    if len(text) == 10:
        return {
            "birth_date": date.fromisoformat(text),
            "birth_year": None,
            "birth_year_estimated": False,
        }
    return {"birth_date": None, "birth_year": int(text[:4]), "birth_year_estimated": estimated}


def _language(communication: list[Any]) -> str | None:
    ordered = sorted(communication, key=lambda c: not c.get("preferred"))
    for item in ordered:
        for coding in (item.get("language") or {}).get("coding") or []:
            if coding.get("code"):
                return str(coding["code"]).split("-")[0].lower()
    return None


FIELD_PATHS = {
    "given_names": "Patient.name[0].given",
    "family_name": "Patient.name[0].family",
    "given_names_ar": "Patient.name[1].given",
    "family_name_ar": "Patient.name[1].family",
    "sex": "Patient.gender",
    "birth_date": "Patient.birthDate",
    "birth_year": "Patient.birthDate",
    "nni": "Patient.identifier",
    "nss": "Patient.identifier",
    "language": "Patient.communication",
    "unit_id": "Patient.managingOrganization",
    "sms_consent": "Patient.telecom",
    "confirm_reason": "Patient",
}


def fhir_path(field_name: str) -> str:
    """The FHIR element a registry field error points at (``phones.1.number`` → telecom)."""
    head, _, rest = field_name.partition(".")
    if head == "phones":
        index = rest.split(".")[0]
        return f"Patient.telecom[{index}].value" if index.isdigit() else "Patient.telecom"
    if head == "contacts":
        return "Patient.contact"
    if head == "identifiers":
        return "Patient.identifier"
    if head == "address":
        return "Patient.address[0]"
    return FIELD_PATHS.get(head, f"Patient.{head}")
