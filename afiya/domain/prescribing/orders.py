"""Prescriptions (order sets) and dispensings: entities and the pure rules of the workflow.

A prescription groups medication requests, laboratory tests (LOINC) and imaging studies
written together for one patient, as on a paper *ordonnance*. Its states:

``draft`` → ``active`` → ``completed`` (every medication line decided at the pharmacy) or
``stopped`` (by a prescriber, with a reason); a draft or an active prescription with
nothing dispensed may be ``cancelled``. An amendment is a new version of the same series
(the old version stays, with its alerts and dispensings); a renewal is a new series that
points at the prescription it renews.

Safety: every medication line is checked by the engine when written and again when
dispensed. A line with a ``contraindicated`` alert is accepted only with an explicit
override (who, when, why); at the pharmacy the same holds for the dispensing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from afiya.domain.prescribing.safety.alerts import Alert, Severity
from afiya.domain.shared.errors import Conflict, FieldError
from afiya.domain.shared.i18n import N_, Message

MAX_LINES = 30
MAX_REASON = 1000
_LOINC = re.compile(r"^(\d{1,7})-(\d)$")


class OrderStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"


class LineKind(StrEnum):
    MEDICATION = "medication"
    LAB = "lab"
    IMAGING = "imaging"


class DispensingStatus(StrEnum):
    DISPENSED = "dispensed"
    REFUSED = "refused"  # the safety engine found a contraindication, nobody overrode it
    REJECTED = "rejected"  # the pharmacist declined the line


class Modality(StrEnum):
    XRAY = "XR"
    ULTRASOUND = "US"
    CT = "CT"
    MRI = "MR"
    MAMMOGRAPHY = "MG"
    ECG = "ECG"


@dataclass(frozen=True, slots=True)
class MedicationRequest:
    """What the prescriber asks for: a formulary product and how to take it."""

    product_code: str
    dose: Decimal | None = None
    dose_unit: str | None = None
    route: str | None = None
    frequency_per_day: Decimal | None = None
    duration_days: Decimal | None = None
    as_needed: bool = False
    instructions: str | None = None


@dataclass(frozen=True, slots=True)
class LabRequest:
    loinc: str
    name: str


@dataclass(frozen=True, slots=True)
class ImagingRequest:
    modality: Modality
    body_site: str


@dataclass(frozen=True, slots=True)
class Override:
    """An accountable person's decision to go ahead despite contraindicated alerts."""

    reason: str
    by: UUID
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderLine:
    id: UUID
    position: int
    kind: LineKind
    medication: MedicationRequest | None = None
    lab: LabRequest | None = None
    imaging: ImagingRequest | None = None
    product_name: str | None = None
    alerts: tuple[Alert, ...] = ()
    override: Override | None = None


@dataclass(frozen=True, slots=True)
class Prescription:
    id: UUID
    series_id: UUID
    version: int
    patient_id: UUID
    unit_path: str  # the patient's facility path: the scope
    prescriber_id: UUID
    status: OrderStatus
    written_at: datetime
    lines: tuple[OrderLine, ...]
    knowledge_version: str
    encounter_id: UUID | None = None
    note: str | None = None
    previous_id: UUID | None = None
    amendment_reason: str | None = None
    renewal_of: UUID | None = None
    is_current: bool = True
    ended_at: datetime | None = None
    ended_by: UUID | None = None
    end_reason: str | None = None

    def line(self, line_id: UUID) -> OrderLine | None:
        return next((line for line in self.lines if line.id == line_id), None)

    @property
    def medication_lines(self) -> tuple[OrderLine, ...]:
        return tuple(line for line in self.lines if line.kind is LineKind.MEDICATION)


@dataclass(frozen=True, slots=True)
class Dispensing:
    id: UUID
    prescription_id: UUID
    line_id: UUID
    patient_id: UUID
    unit_path: str
    status: DispensingStatus
    at: datetime
    dispenser_id: UUID
    product_code: str
    knowledge_version: str
    quantity: Decimal | None = None
    quantity_unit: str | None = None
    alerts: tuple[Alert, ...] = ()
    reason: str | None = None
    override_of: UUID | None = None
    override_by: UUID | None = None


# -- errors ---------------------------------------------------------------------------------


class PrescriptionNotEditable(Conflict):
    code = "prescription_not_editable"
    default_message = N_("This prescription can no longer be changed in this way.")


class LineNotDispensable(Conflict):
    code = "line_not_dispensable"
    default_message = N_("This line cannot be dispensed.")


def _error(field: str, error_code: str, msgid: str, **params: object) -> FieldError:
    return FieldError(field, Message(msgid, params), error_code)


# -- rules ----------------------------------------------------------------------------------


def loinc_is_valid(code: str) -> bool:
    """A LOINC code with a correct mod-10 check digit (``2345-7``)."""
    match = _LOINC.match(code)
    if match is None:
        return False
    digits = match.group(1)
    total = 0
    for n, char in enumerate(reversed(digits)):
        value = int(char) * (2 if n % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10 == int(match.group(2))


def check_lines(
    lines: Sequence[OrderLine], product_routes: dict[str, tuple[str, ...]]
) -> list[FieldError]:
    """Every line is well formed: a known product given by one of its routes, a valid
    LOINC code, an imaging site; at least one line and at most ``MAX_LINES``.

    ``product_routes`` maps the known (active) products to their routes.
    """
    errors: list[FieldError] = []
    if not lines:
        errors.append(_error("lines", "required", N_("A prescription needs at least one line.")))
    if len(lines) > MAX_LINES:
        errors.append(
            _error(
                "lines",
                "too_many",
                N_("A prescription holds at most {max} lines."),
                max=MAX_LINES,
            )
        )
    for n, line in enumerate(lines):
        where = f"lines.{n}"
        if line.kind is LineKind.MEDICATION and line.medication is not None:
            med = line.medication
            routes = product_routes.get(med.product_code)
            if routes is None:
                errors.append(
                    _error(
                        f"{where}.product_code",
                        "unknown_product",
                        N_("Unknown product {code}."),
                        code=med.product_code,
                    )
                )
            elif med.route and med.route.strip().lower() not in routes:
                errors.append(
                    _error(
                        f"{where}.route",
                        "route_not_available",
                        N_("This product is given by: {routes}."),
                        routes=", ".join(routes),
                    )
                )
            if med.dose is not None and (med.dose <= 0 or not med.dose_unit):
                errors.append(
                    _error(
                        f"{where}.dose",
                        "invalid_dose",
                        N_("A dose must be positive and have a unit."),
                    )
                )
            if med.frequency_per_day is not None and med.frequency_per_day <= 0:
                errors.append(
                    _error(
                        f"{where}.frequency_per_day",
                        "invalid_frequency",
                        N_("The frequency must be positive."),
                    )
                )
            if med.duration_days is not None and med.duration_days <= 0:
                errors.append(
                    _error(
                        f"{where}.duration_days",
                        "invalid_duration",
                        N_("The duration must be positive."),
                    )
                )
        elif line.kind is LineKind.LAB and line.lab is not None:
            if not loinc_is_valid(line.lab.loinc):
                errors.append(
                    _error(
                        f"{where}.loinc",
                        "invalid_loinc",
                        N_("{code} is not a valid LOINC code."),
                        code=line.lab.loinc,
                    )
                )
        elif line.kind is LineKind.IMAGING and line.imaging is not None:
            if not line.imaging.body_site.strip():
                errors.append(_error(f"{where}.body_site", "required", N_("Name the body site.")))
        else:
            errors.append(
                _error(where, "invalid_line", N_("A line is a medication, a test or an imaging."))
            )
    return errors


def blocking(alerts: Sequence[Alert]) -> tuple[Alert, ...]:
    """The alerts that stop an order or a dispensing unless someone overrides them."""
    return tuple(a for a in alerts if a.severity is Severity.CONTRAINDICATED)


def reason_or_none(reason: str | None) -> str | None:
    text = (reason or "").strip()
    return text[:MAX_REASON] if text else None


def decide_overrides(
    lines: Sequence[OrderLine],
    reasons: dict[int, str | None],
    *,
    by: UUID,
    at: datetime,
) -> tuple[tuple[OrderLine, ...], tuple[int, ...]]:
    """Attach the prescriber's overrides to the lines that need one.

    Returns the lines (with their override) and the positions of lines whose
    contraindicated alerts have no override reason: the order cannot be saved while
    any remain. A reason given for a line without a contraindicated alert is ignored
    (nothing to override).
    """
    result = []
    missing = []
    for line in lines:
        if not blocking(line.alerts):
            result.append(replace(line, override=None))
            continue
        reason = reason_or_none(reasons.get(line.position))
        if reason is None:
            missing.append(line.position)
            result.append(line)
        else:
            result.append(replace(line, override=Override(reason, by, at)))
    return tuple(result), tuple(missing)


def check_can_amend(prescription: Prescription) -> None:
    if not prescription.is_current or prescription.status not in (
        OrderStatus.DRAFT,
        OrderStatus.ACTIVE,
    ):
        raise PrescriptionNotEditable(
            Message(
                N_("Only the current version of a draft or active prescription can be amended.")
            )
        )


def check_can_stop(prescription: Prescription) -> None:
    if not prescription.is_current or prescription.status is not OrderStatus.ACTIVE:
        raise PrescriptionNotEditable(Message(N_("Only an active prescription can be stopped.")))


def check_can_cancel(prescription: Prescription, dispensed: bool) -> None:
    if (
        not prescription.is_current
        or prescription.status not in (OrderStatus.DRAFT, OrderStatus.ACTIVE)
        or dispensed
    ):
        raise PrescriptionNotEditable(
            Message(
                N_(
                    "Only a draft or an active prescription with nothing dispensed "
                    "can be cancelled."
                )
            )
        )


def check_dispensable(prescription: Prescription, line: OrderLine | None) -> OrderLine:
    """A line can be decided at the pharmacy when it is a medication line of the current
    version of an active prescription."""
    if line is None or line.kind is not LineKind.MEDICATION or line.medication is None:
        raise LineNotDispensable(Message(N_("Only a medication line can be dispensed.")))
    if not prescription.is_current or prescription.status is not OrderStatus.ACTIVE:
        raise LineNotDispensable(
            Message(N_("The prescription is not active: it was amended, stopped or completed."))
        )
    return line


def is_complete(prescription: Prescription, decided_lines: set[UUID]) -> bool:
    """Every medication line has been dispensed or rejected (lab and imaging lines are
    done elsewhere), and there is at least one."""
    meds = prescription.medication_lines
    return bool(meds) and all(line.id in decided_lines for line in meds)
