"""Org units, practitioners, agenda and audit events as FHIR resources (read-only maps).

- Every org unit is an ``Organization`` (``partOf`` its parent); facilities,
  departments and wards are also ``Location`` s (same id), managed by their facility.
- A user holding a clinical role is a ``Practitioner``; each of their unit assignments
  is a ``PractitionerRole`` (id = the assignment's id) with their roles as codes.
- Appointments, schedules and audit events map as documented on each function.
"""

from __future__ import annotations

import hashlib
from typing import Any

from afiya.adapters.db.repositories.fhir import Practitioner, StoredAppointment, StoredSchedule
from afiya.adapters.fhir.common import (
    APPOINTMENT_TYPE_SYSTEM,
    AUDIT_ACTION_SYSTEM,
    ORGUNIT_CODE_SYSTEM,
    ORGUNIT_UID_SYSTEM,
    ROLE_SYSTEM,
    SLOT_KEY_SYSTEM,
    UNIT_KIND_SYSTEM,
    instant,
    meta,
    prune,
    reference,
)
from afiya.domain.agenda.slots import Slot
from afiya.domain.audit.model import AuditEvent, Outcome
from afiya.domain.orgunits.model import OrgUnit, UnitKind

LOCATION_KINDS = (UnitKind.FACILITY.value, UnitKind.DEPARTMENT.value, UnitKind.WARD.value)
CLINICAL_ROLES = frozenset(
    {"doctor", "nurse", "midwife", "pharmacist", "lab_technician", "imaging_technician"}
)
_SNOMED_ROLE = {  # practitioner role codes (http://terminology.hl7.org/CodeSystem/practitioner-role)
    "doctor": "doctor",
    "nurse": "nurse",
    "pharmacist": "pharmacist",
    "midwife": "nurse",
    "lab_technician": "researcher",
    "imaging_technician": "researcher",
}
_APPOINTMENT_STATUS = {
    "booked": "booked",
    "confirmed": "booked",
    "arrived": "arrived",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "rescheduled": "cancelled",
    "no_show": "noshow",
}


def _unit_identifiers(unit: OrgUnit) -> list[dict[str, Any]]:
    out = [{"system": ORGUNIT_UID_SYSTEM, "value": unit.uid}]
    if unit.code:
        out.append({"system": ORGUNIT_CODE_SYSTEM, "value": unit.code})
    return out


def organization(unit: OrgUnit) -> dict[str, Any]:
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "Organization",
            "id": str(unit.id),
            "meta": meta(unit.version, unit.updated_at),
            "identifier": _unit_identifiers(unit),
            "active": unit.closed_date is None,
            "type": [{"coding": [{"system": UNIT_KIND_SYSTEM, "code": unit.kind.value}]}],
            "name": unit.name,
            "alias": [unit.short_name] if unit.short_name else [],
            "partOf": reference("Organization", unit.parent_id) if unit.parent_id else None,
        }
    )


def location(unit: OrgUnit, facility_id: object | None) -> dict[str, Any]:
    """A facility, department or ward; ``facility_id`` manages it (itself for a facility)."""
    part_of = None
    if unit.parent_id and unit.kind is not UnitKind.FACILITY:
        part_of = reference("Location", unit.parent_id)
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "Location",
            "id": str(unit.id),
            "meta": meta(unit.version, unit.updated_at),
            "identifier": _unit_identifiers(unit),
            "status": "inactive" if unit.closed_date else "active",
            "name": unit.name,
            "alias": [unit.short_name] if unit.short_name else [],
            "mode": "instance",
            "type": [{"coding": [{"system": UNIT_KIND_SYSTEM, "code": unit.kind.value}]}],
            "managingOrganization": reference("Organization", facility_id or unit.id),
            "partOf": part_of,
        }
    )


def _role_codes(roles: frozenset[str]) -> list[dict[str, Any]]:
    return [
        {
            "coding": [
                {"system": ROLE_SYSTEM, "code": role},
                {
                    "system": "http://terminology.hl7.org/CodeSystem/practitioner-role",
                    "code": _SNOMED_ROLE[role],
                },
            ],
            "text": role,
        }
        for role in sorted(roles & CLINICAL_ROLES)
    ]


def practitioner(p: Practitioner) -> dict[str, Any]:
    """Name and role only: no username, phone or credentials leave through FHIR."""
    words = p.full_name.split()
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "Practitioner",
            "id": str(p.id),
            "meta": meta(p.version, p.updated_at),
            "active": p.active,
            "name": [
                {
                    "use": "official",
                    "text": p.full_name,
                    "family": words[-1] if words else None,
                    "given": words[:-1],
                }
            ],
            "qualification": [{"code": code} for code in _role_codes(p.roles)],
        }
    )


def practitioner_roles(p: Practitioner) -> list[dict[str, Any]]:
    return [
        prune(
            {
                "resourceType": "PractitionerRole",
                "id": str(assignment_id),
                "meta": meta(p.version, p.updated_at),
                "active": p.active,
                "practitioner": reference("Practitioner", p.id, p.full_name),
                "organization": reference("Organization", unit_id),
                "location": [reference("Location", unit_id)],
                "code": _role_codes(p.roles),
            }
        )
        for assignment_id, unit_id, _ in p.assignments
    ]


def appointment(stored: StoredAppointment) -> dict[str, Any]:
    """Status mapped to FHIR's (confirmed → booked, completed → fulfilled, no_show →
    noshow, rescheduled → cancelled with the new booking in ``basedOn``-free comment)."""
    a = stored.appointment
    participants = [
        {"actor": reference("Patient", a.patient_id), "required": "required", "status": "accepted"},
        {
            "actor": reference("Practitioner", a.practitioner_id),
            "required": "required",
            "status": "accepted",
        },
        {
            "actor": reference("Location", a.service_id),
            "required": "required",
            "status": "accepted",
        },
    ]
    comment = a.note or None
    if a.rescheduled_to_id:
        comment = (
            f"{comment + ' — ' if comment else ''}rescheduled to Appointment/{a.rescheduled_to_id}"
        )
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "Appointment",
            "id": a.id,
            "meta": meta(stored.version, stored.updated_at),
            "status": _APPOINTMENT_STATUS.get(a.status.value, "booked"),
            "appointmentType": {
                "coding": [{"system": APPOINTMENT_TYPE_SYSTEM, "code": a.appointment_type_id}]
            },
            "start": instant(a.starts_at),
            "end": instant(a.ends_at),
            "minutesDuration": int((a.ends_at - a.starts_at).total_seconds() // 60),
            "created": instant(a.booked_at),
            "comment": comment,
            "participant": participants,
        }
    )


def schedule(s: StoredSchedule) -> dict[str, Any]:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    sessions = ", ".join(
        f"{days[int(x['weekday'])]} {x['start']}-{x['end']}" for x in s.sessions if "weekday" in x
    )
    owner = "Practitioner" if s.owner_kind == "practitioner" else "Device"
    actors = [reference("Location", s.service_id)]
    if owner == "Practitioner":
        actors.insert(0, reference("Practitioner", s.owner_id))
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "Schedule",
            "id": str(s.id),
            "meta": meta(s.version, s.updated_at),
            "active": True,
            "serviceType": [
                {"coding": [{"system": APPOINTMENT_TYPE_SYSTEM, "code": str(t)}]}
                for t in s.appointment_type_ids
            ],
            "actor": actors,
            "planningHorizon": {
                "start": f"{s.valid_from.isoformat()}T00:00:00Z",
                "end": f"{s.valid_until.isoformat()}T23:59:59Z" if s.valid_until else None,
            },
            "comment": f"every {s.every_weeks} week(s): {sessions} (facility local time)",
        }
    )


def slot(found: Slot, schedule_id: object) -> dict[str, Any]:
    """A free start computed from the schedule (id: a digest of Afiya's slot key; slots
    are not stored, so they are searched, not read)."""
    ident = hashlib.sha256(found.key.encode()).hexdigest()[:32]
    return {
        "resourceType": "Slot",
        "id": ident,
        "identifier": [{"system": SLOT_KEY_SYSTEM, "value": found.key}],
        "serviceType": [
            {"coding": [{"system": APPOINTMENT_TYPE_SYSTEM, "code": found.appointment_type_id}]}
        ],
        "schedule": reference("Schedule", schedule_id),
        "status": "free",
        "start": instant(found.starts_at),
        "end": instant(found.ends_at),
    }


_OUTCOME = {Outcome.SUCCESS: "0", Outcome.DENIED: "4", Outcome.FAILURE: "8"}


def audit_event(event: AuditEvent) -> dict[str, Any]:
    """An Afiya audit event: who (user, roles), what (action, resource), when, where
    (node, IP), why (purpose of use) and outcome; ``entity`` points at the patient."""
    r, c = event.record, event.context
    verb = r.action.rsplit(".", 1)[-1]
    action = {"create": "C", "read": "R", "update": "U", "delete": "D"}.get(verb, "E")
    entities = []
    if r.patient_id is not None:
        entities.append({"what": reference("Patient", r.patient_id), "type": {"code": "1"}})
    if r.resource_id and r.resource_type != "patient":
        entities.append({"what": {"display": f"{r.resource_type}/{r.resource_id}"}})
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "AuditEvent",
            "id": str(event.id),
            "type": {"system": AUDIT_ACTION_SYSTEM, "code": r.action},
            "action": action,
            "recorded": instant(event.occurred_at),
            "outcome": _OUTCOME.get(r.outcome, "8"),
            "purposeOfEvent": [{"text": c.purpose}] if c.purpose else [],
            "agent": [
                {
                    "who": reference("Practitioner", c.user_id, c.username)
                    if c.user_id
                    else {"display": c.username or "system"},
                    "requestor": True,
                    "role": [{"text": role} for role in (c.roles or "").split(",") if role],
                    "network": {"address": c.ip, "type": "2"} if c.ip else None,
                }
            ],
            "source": {"observer": {"display": c.node}},
            "entity": entities,
        }
    )
