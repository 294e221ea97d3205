"""FHIR MedicationRequest create: one medication line written through ``write_prescription``.

The prescribing use case does everything ``/api/v1/prescriptions`` does: the permission
(``prescriptions:write``) at the patient's facility, the encounter check, the formulary
and route checks, the safety engine, the override, the audit and the change log. This
module only maps FHIR in and out:

- the medication must resolve to exactly one active formulary product: ``Medication/<id>``
  (a formulary product), a coding in ``CodeSystem/formulary``, or an ATC code
  (``http://www.whocc.no/atc``) held by one product given by the dosage's route. RxNorm,
  SNOMED CT and other codings do not resolve: 422 naming the medication element;
- a contraindicated line answers 409 with the blocking alerts and stores nothing (the
  refusal is audited by the use case); ``X-Afiya-Override-Reason: <reason>`` prescribes
  anyway, and the override (who, when, why, which rules) is stored and audited;
- the requester is the signed-in prescriber; ``authoredOn`` is the time of writing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from afiya.adapters.db.repositories.prescribing_knowledge import CachedKnowledgeBuilder
from afiya.adapters.fhir import prescribing_in as mapping
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import issue
from afiya.adapters.fhir.engine.prescribing_maps import (
    ATC_SYSTEM,
    FORMULARY_SYSTEM,
    medication_id,
    medication_request,
)
from afiya.adapters.fhir.engine.registry import Resource, WriteResult
from afiya.domain.prescribing import use_cases
from afiya.domain.prescribing.orders import LineKind, MedicationRequest, blocking
from afiya.domain.prescribing.ports import FormularyEntry
from afiya.domain.shared.errors import DomainError, FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message

OVERRIDE_HEADER = "x-afiya-override-reason"
"""Prescribing a contraindicated line on purpose: the header carries the reason (audited)."""

DOCUMENTATION = (
    "One per medication line of a prescription (id = line id; groupIdentifier = "
    "the prescription). Every version is served: an amended version is stopped. "
    "dosageInstruction: dose (UCUM), route (Afiya code and SNOMED CT), frequency per "
    "day, duration, as needed, instructions. Create prescribes one line through the "
    "prescribing use case (safety checks, audit): the medication must resolve to one "
    "formulary product (Medication/<id>, a CodeSystem/formulary code, or an ATC code "
    "held by one product of the dosage's route), else 422; RxNorm/SNOMED medication "
    "codes do not resolve. A contraindicated line answers 409 with the alerts unless "
    "X-Afiya-Override-Reason: <reason> is sent (stored and audited). Kept: status "
    "draft|active, intent order, subject, encounter, one dosage (doseQuantity, "
    "route, timing.repeat frequency/period/periodUnit h|d|wk, boundsDuration d|wk, "
    "asNeeded, patientInstruction or text), the first note; requester is the "
    "signed-in prescriber; authoredOn is the time of writing. Not kept (listed in "
    "X-Afiya-Not-Stored): identifier, category, reasonCode, performer, "
    "dispenseRequest, substitution, priorPrescription, the medication's other "
    "codings and everything else. Refused (422): another status or intent, "
    "doNotPerform, several dosages or doses, a dose range. Conditional create: "
    "If-None-Exist with patient (and code, status)."
)
"""What the CapabilityStatement says of MedicationRequest (reads in ``prescribing``)."""

_KNOWLEDGE = CachedKnowledgeBuilder()
"""The knowledge base builder of a context built without one (the routes pass the one
the ``/api/v1`` prescribing routes share, kept in the container)."""

# Where the use case's field errors sit in the MedicationRequest.
_PATHS = {
    "product_code": None,  # the medication element the request used
    "route": f"{mapping.D}.route",
    "dose": f"{mapping.D}.doseAndRate[0].doseQuantity",
    "frequency_per_day": f"{mapping.D}.timing.repeat",
    "duration_days": f"{mapping.D}.timing.repeat.boundsDuration",
}


class Contraindicated(DomainError):
    """409: the safety engine blocks the line; nothing is stored. The issues carry the
    blocking alerts (rule id and message) for the prescriber."""

    code = "contraindicated"

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        super().__init__(Message(N_("The medication is contraindicated for this patient.")))
        self.status = 409
        self.issues = issues


def _refused(fields: mapping.RequestFields) -> ValidationFailed:
    return ValidationFailed(fields.errors)


def _unresolved(named: mapping.MedicationNamed, msgid: str, **params: object) -> ValidationFailed:
    return ValidationFailed([FieldError(named.path, Message(msgid, params), "unknown_product")])


async def resolve(ctx: FhirContext, fields: mapping.RequestFields) -> FormularyEntry:
    """The one active formulary product the request names (see the module docstring)."""
    named = fields.medication
    catalog = ctx.uow.prescribing
    if named.product_id is not None:
        for entry in await catalog.search_products(None, 10_000):
            if entry.active and medication_id(entry.product.code) == named.product_id:
                return entry
        raise _unresolved(
            named, N_("Medication/{id} is not in the formulary."), id=named.product_id
        )
    candidates: dict[str, FormularyEntry] = {}
    for system, code in named.codings:
        if system == FORMULARY_SYSTEM:
            found = [
                e for e in await catalog.search_products(code, 10_000) if e.product.code == code
            ]
            candidates |= {e.product.code: e for e in found if e.active}
    if not candidates:
        for system, code in named.codings:
            if system == ATC_SYSTEM:
                found = await catalog.search_products(code, 10_000)
                candidates |= {
                    e.product.code: e for e in found if e.active and e.product.atc == code
                }
        if fields.route and len(candidates) > 1:
            candidates = {k: e for k, e in candidates.items() if fields.route in e.product.routes}
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    if not candidates:
        raise _unresolved(
            named,
            N_(
                "Afiya cannot resolve this medication: code it with ATC ({atc}) or the "
                "Afiya formulary ({formulary}), or reference Medication/<id>."
            ),
            atc=ATC_SYSTEM,
            formulary=FORMULARY_SYSTEM,
        )
    raise _unresolved(
        named,
        N_("Several formulary products match ({codes}): name one of them."),
        codes=", ".join(sorted(candidates)),
    )


def _authored_kept(authored_on: str | None, written_at: datetime) -> bool:
    """Whether the given ``authoredOn`` is the day of writing (UTC), which Afiya records."""
    if not authored_on:
        return True
    day = written_at.astimezone(UTC).date().isoformat()
    if len(authored_on) <= len(day):
        return authored_on == day[: len(authored_on)]
    try:
        moment = datetime.fromisoformat(authored_on.replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date().isoformat() == day


def _located(exc: ValidationFailed, fields: mapping.RequestFields) -> ValidationFailed:
    """The use case's errors located by FHIR path (``lines.0.route`` -> the route)."""
    located = []
    for e in exc.errors:
        name = e.field.rsplit(".", 1)[-1]
        if e.field.startswith("lines."):
            path = _PATHS.get(name) or fields.medication.path
        elif name == "encounter_id":
            path = f"{mapping.R}.encounter"
        elif name == "status":
            path = f"{mapping.R}.status"
        else:
            path = mapping.R
        located.append(FieldError(path, e.message, e.code))
    return ValidationFailed(located, exc.message, code=exc.code)


def _contraindicated(
    ctx: FhirContext, outcome: use_cases.PrescribingOutcome, path: str
) -> Contraindicated:
    text = Message(
        N_(
            "The medication is contraindicated for this patient: change it, or send "
            "X-Afiya-Override-Reason with the reason to prescribe it anyway."
        )
    ).render(ctx.translate)
    issues = [issue("error", "business-rule", text, [path])]
    for line in outcome.lines:
        if line.position in outcome.needs_override:
            for alert in blocking(line.alerts):
                issues.append(
                    issue(
                        "information",
                        "business-rule",
                        f"{alert.rule_id}: {alert.message.render(ctx.translate)}",
                        [path],
                    )
                )
    return Contraindicated(issues)


async def create_medication_request(ctx: FhirContext, resource: Resource) -> WriteResult:
    """Prescribe one medication line from a MedicationRequest (see the module docstring)."""
    fields = mapping.from_fhir(resource)
    if fields.requester_id is not None and fields.requester_id != ctx.principal.user_id:
        fields.errors.append(
            FieldError(
                f"{mapping.R}.requester",
                Message(
                    N_("The requester is the signed-in prescriber (Practitioner/{id})."),
                    {"id": ctx.principal.user_id},
                ),
                "invalid",
            )
        )
    try:  # every reason at once: the mapping's and the medication's
        entry = await resolve(ctx, fields)
    except ValidationFailed as exc:
        raise ValidationFailed([*fields.errors, *exc.errors]) from exc
    if fields.errors:
        raise _refused(fields)
    reason = ctx.headers.get(OVERRIDE_HEADER)
    line = use_cases.NewLine(
        LineKind.MEDICATION,
        MedicationRequest(
            product_code=entry.product.code,
            dose=fields.dose,
            dose_unit=fields.dose_unit,
            route=fields.route,
            frequency_per_day=fields.frequency_per_day,
            duration_days=fields.duration_days,
            as_needed=fields.as_needed,
            instructions=fields.instructions,
        ),
        override_reason=unquote(reason) if reason else None,
    )
    assert fields.patient_id is not None
    try:
        outcome = await use_cases.write_prescription(
            use_cases.NewPrescription(
                patient_id=fields.patient_id,
                lines=(line,),
                status=fields.status,
                encounter_id=fields.encounter_id,
                note=fields.note,
            ),
            principal=ctx.principal,
            clinical=ctx.uow.clinical,
            prescribing=ctx.uow.prescribing,
            knowledge=ctx.knowledge or _KNOWLEDGE,
            audit=ctx.uow.audit,
            clock=ctx.clock,
        )
    except ValidationFailed as exc:
        raise _located(exc, fields) from exc
    if outcome.prescription is None:
        raise _contraindicated(ctx, outcome, fields.medication.path)
    prescription = outcome.prescription
    not_stored = list(fields.not_stored)
    if any(c for c in fields.medication.codings if c[0] not in (ATC_SYSTEM, FORMULARY_SYSTEM)):
        not_stored.append(f"{fields.medication.path}.coding")  # kept as the formulary product
    if not _authored_kept(fields.authored_on, prescription.written_at):
        not_stored.append(f"{mapping.R}.authoredOn")  # Afiya records the time of writing
    return WriteResult(
        medication_request(prescription, prescription.lines[0]), True, tuple(not_stored)
    )
