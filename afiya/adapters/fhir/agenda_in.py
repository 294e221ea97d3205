"""FHIR Appointment -> what Afiya's booking use case takes. Pure mapping: no database.

Kept: the Patient and Practitioner participants (Afiya's patient and clinician), an
optional Location participant (the service or facility of the appointment type, checked
by the engine), the appointment type (``serviceType`` or ``appointmentType`` coded in
``sid/appointment-type``), ``start`` (``end`` and ``minutesDuration`` must agree with the
type's duration), status ``booked`` and ``comment``. Refused (422 naming the element):
another status (the agenda books; it keeps no proposals or requests), a participant that
is not a Patient, Practitioner or Location, a missing patient, practitioner, type or start.
Everything else is listed as not stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from afiya.adapters.fhir.common import APPOINTMENT_TYPE_SYSTEM
from afiya.domain.shared.errors import FieldError
from afiya.domain.shared.i18n import N_, Message

R = "Appointment"
MAX_NOTE = 1000
KEPT = frozenset(
    {
        "resourceType",
        "id",
        "meta",
        "status",
        "serviceType",
        "appointmentType",
        "start",
        "end",
        "minutesDuration",
        "comment",
        "participant",
    }
)
_PARTICIPANT_KEPT = frozenset({"actor", "required", "status"})


@dataclass(slots=True)
class BookingFields:
    patient_id: str | None = None
    practitioner_id: str | None = None
    location_id: str | None = None
    location_path: str = f"{R}.participant"
    type_id: str | None = None
    type_path: str = f"{R}.serviceType"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    minutes: int | None = None
    note: str = ""
    not_stored: list[str] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)

    def refuse(self, path: str, msgid: str, code: str = "invalid", **params: object) -> None:
        self.errors.append(FieldError(path, Message(msgid, params), code))


def _id(text: str) -> str | None:
    try:
        return str(UUID(text))
    except ValueError:
        return None


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _participants(resource: Mapping[str, Any], out: BookingFields) -> None:
    for n, p in enumerate(resource.get("participant") or []):
        where = f"{R}.participant[{n}]"
        for key in p:
            if key not in _PARTICIPANT_KEPT:
                out.not_stored.append(f"{where}.{key}")
        if p.get("status") not in (None, "accepted"):
            out.not_stored.append(f"{where}.status")  # a booking is accepted by all
        if p.get("required") not in (None, "required"):
            out.not_stored.append(f"{where}.required")  # every participant is required
        ref = str((p.get("actor") or {}).get("reference") or "")
        parts = ref.rstrip("/").split("/")
        kind, ident = (parts[-2], _id(parts[-1])) if len(parts) >= 2 else ("", None)
        if not ref:
            out.refuse(
                f"{where}.actor",
                N_("Each participant names its actor: Afiya books a known practitioner."),
                "required",
            )
        elif kind not in ("Patient", "Practitioner", "Location") or ident is None:
            out.refuse(
                f"{where}.actor",
                N_("Afiya books a Patient with a Practitioner at a Location, not {value}."),
                value=ref,
            )
        elif kind == "Patient":
            if out.patient_id is not None:
                out.refuse(f"{where}.actor", N_("An appointment has one patient."))
            out.patient_id = ident
        elif kind == "Practitioner":
            if out.practitioner_id is not None:
                out.refuse(f"{where}.actor", N_("An appointment has one practitioner."))
            out.practitioner_id = ident
        else:
            out.location_id, out.location_path = ident, f"{where}.actor"
    for name, value in (("Patient", out.patient_id), ("Practitioner", out.practitioner_id)):
        if value is None and not any(e.field.startswith(f"{R}.participant") for e in out.errors):
            out.refuse(
                f"{R}.participant",
                N_("The appointment needs a {type} participant."),
                "required",
                type=name,
            )


def _type(resource: Mapping[str, Any], out: BookingFields) -> None:
    found: dict[str, str] = {}
    concepts = [
        (f"{R}.serviceType[{n}]", c) for n, c in enumerate(resource.get("serviceType") or [])
    ]
    if "appointmentType" in resource:
        concepts.append((f"{R}.appointmentType", resource["appointmentType"]))
    for path, concept in concepts:
        ours = False
        for c in concept.get("coding") or []:
            if c.get("system") == APPOINTMENT_TYPE_SYSTEM and c.get("code"):
                found.setdefault(str(c["code"]), path)
                ours = True
        if not ours:
            out.not_stored.append(path)
    if len(found) > 1:
        out.refuse(f"{R}.serviceType", N_("Name one appointment type, not several."))
    elif not found:
        out.refuse(
            f"{R}.serviceType",
            N_("Name the Afiya appointment type: serviceType coded in {system}."),
            "required",
            system=APPOINTMENT_TYPE_SYSTEM,
        )
    else:
        code, path = next(iter(found.items()))
        out.type_id, out.type_path = _id(code), path
        if out.type_id is None:
            out.refuse(path, N_("This type of appointment is not offered here."))


def from_fhir(resource: Mapping[str, Any]) -> BookingFields:
    """Map a (validated) Appointment; ``errors`` lists what Afiya refuses."""
    out = BookingFields()
    status = resource.get("status")
    if status != "booked":
        out.refuse(
            f"{R}.status",
            N_("Afiya books appointments (status booked); it keeps no {value} appointments."),
            value=status,
        )
    _participants(resource, out)
    _type(resource, out)
    out.starts_at = _instant(resource.get("start"))
    if out.starts_at is None:
        out.refuse(f"{R}.start", N_("Give the start of the appointment."), "required")
    out.ends_at = _instant(resource.get("end"))
    out.minutes = resource.get("minutesDuration")
    comment = str(resource.get("comment") or "")
    if len(comment) > MAX_NOTE:
        out.refuse(f"{R}.comment", N_("At most {max} characters."), max=MAX_NOTE)
    out.note = comment
    out.not_stored += [f"{R}.{key}" for key in resource if key not in KEPT]
    return out
