"""Use cases of prescribing (dispensing: :mod:`afiya.domain.prescribing.dispensing`; the
formulary and local rules: :mod:`afiya.domain.prescribing.formulary_cases`).

Access: a prescription's scope is its patient's registering facility path. Writing and
amending need ``prescriptions:write``, dispensing and rejecting ``dispensing:write``,
overriding a refused dispensing ``dispensing:override`` (pharmacists and physicians),
reading ``clinical:read``; each use case authorises at the patient's path and records an
audit event carrying the patient id, for reads as for writes.

Safety: the engine runs on every medication line when a prescription is written or
amended and again when a line is dispensed, against the record as it is at that moment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.clinical.ports import ClinicalPatient, ClinicalRepository
from afiya.domain.clinical.use_cases.access import check_encounter_of, load_patient
from afiya.domain.prescribing import orders as rules
from afiya.domain.prescribing.model import Product
from afiya.domain.prescribing.orders import (
    Dispensing,
    DispensingStatus,
    LineKind,
    OrderLine,
    OrderStatus,
    Prescription,
)
from afiya.domain.prescribing.ports import (
    KnowledgeBuilder,
    PrescribingRepository,
)
from afiya.domain.prescribing.record import (
    PatientFacts,
    SafetyRecord,
    build_context,
    medication_fact,
    order_draft,
)
from afiya.domain.prescribing.safety.alerts import Alert
from afiya.domain.prescribing.safety.engine import check
from afiya.domain.prescribing.safety.knowledge_base import KnowledgeBase
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7


class PrescriptionNotFound(NotFound):
    code = "prescription_not_found"
    default_message = N_("This prescription was not found.")


class DispensingNotFound(NotFound):
    code = "dispensing_not_found"
    default_message = N_("This dispensing was not found.")


@dataclass(frozen=True, slots=True)
class NewLine:
    """A line as the prescriber writes it; ``override_reason`` answers its
    contraindicated alerts, if any."""

    kind: LineKind
    medication: rules.MedicationRequest | None = None
    lab: rules.LabRequest | None = None
    imaging: rules.ImagingRequest | None = None
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class NewPrescription:
    patient_id: UUID
    lines: tuple[NewLine, ...]
    status: OrderStatus = OrderStatus.ACTIVE
    encounter_id: UUID | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PrescribingOutcome:
    """Either the stored prescription, or the lines that need an override first
    (``prescription`` is then None and nothing was stored)."""

    prescription: Prescription | None
    lines: tuple[OrderLine, ...]
    needs_override: tuple[int, ...] = ()

    @property
    def refused(self) -> bool:
        return bool(self.needs_override)


@dataclass(frozen=True, slots=True)
class DispensingOutcome:
    dispensing: Dispensing

    @property
    def refused(self) -> bool:
        return self.dispensing.status is DispensingStatus.REFUSED


def audit_record(
    action: str, resource: str, resource_id: UUID | None, patient_id: UUID, **details: Any
) -> AuditRecord:
    return AuditRecord(
        action, resource, str(resource_id) if resource_id else None, patient_id, details=details
    )


def _facts(patient: ClinicalPatient) -> PatientFacts:
    return PatientFacts(patient.sex, patient.birth_date, patient.birth_year)


def blocking_rule_ids(alerts: Sequence[Alert]) -> list[str]:
    return [a.rule_id for a in rules.blocking(alerts)]


async def current_knowledge(
    prescribing: PrescribingRepository, knowledge: KnowledgeBuilder
) -> KnowledgeBase:
    """The national release merged with the local rules in force."""
    return knowledge.build(await prescribing.local_rules())


def evaluate(
    lines: Sequence[OrderLine],
    patient: ClinicalPatient,
    record: SafetyRecord,
    products: Mapping[str, Product],
    kb: KnowledgeBase,
    *,
    as_of: datetime,
    exclude_series: UUID | None,
) -> tuple[OrderLine, ...]:
    """Each medication line with the alerts the engine raises for it now. The other
    medication lines of the same prescription count as taken together with it."""
    facts = _facts(patient)
    meds = [
        (line, products[line.medication.product_code])
        for line in lines
        if line.medication is not None and line.medication.product_code in products
    ]
    result = []
    for line in lines:
        if line.medication is None or line.medication.product_code not in products:
            result.append(line)
            continue
        product = products[line.medication.product_code]
        companions = [
            medication_fact(other.medication, p)
            for other, p in meds
            if other.id != line.id and other.medication is not None
        ]
        context = build_context(
            facts,
            record,
            products,
            as_of=as_of,
            exclude_series=exclude_series,
            companions=companions,
        )
        alerts = check(order_draft(line.medication, product), context, kb)
        result.append(replace(line, alerts=tuple(alerts), product_name=product.name))
    return tuple(result)


async def products_for(
    prescribing: PrescribingRepository, record: SafetyRecord, lines: Sequence[OrderLine]
) -> dict[str, Product]:
    codes = {m.request.product_code for m in record.medications}
    codes |= {line.medication.product_code for line in lines if line.medication is not None}
    return await prescribing.products(codes)


def _lines(new: Sequence[NewLine]) -> tuple[OrderLine, ...]:
    return tuple(
        OrderLine(uuid7(), n, line.kind, line.medication, line.lab, line.imaging)
        for n, line in enumerate(new)
    )


async def _write(
    patient: ClinicalPatient,
    new: NewPrescription,
    *,
    series_id: UUID,
    version: int,
    previous: Prescription | None,
    amendment_reason: str | None,
    renewal_of: UUID | None,
    principal: Principal,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    clock: Clock,
) -> PrescribingOutcome:
    lines = _lines(new.lines)
    record = await prescribing.safety_record(patient.id)
    products = await products_for(prescribing, record, lines)
    routes = {code: p.routes for code, p in products.items()}
    errors = rules.check_lines(lines, routes)
    if new.status not in (OrderStatus.DRAFT, OrderStatus.ACTIVE):
        errors.append(
            FieldError(
                "status",
                Message(N_("A new prescription is a draft or active.")),
                "invalid_status",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    kb = await current_knowledge(prescribing, knowledge)
    now = clock.now()
    checked = evaluate(
        lines,
        patient,
        record,
        products,
        kb,
        as_of=now,
        exclude_series=previous.series_id if previous else None,
    )
    reasons = {n: line.override_reason for n, line in enumerate(new.lines)}
    decided, missing = rules.decide_overrides(checked, reasons, by=principal.user_id, at=now)
    if missing:
        return PrescribingOutcome(None, decided, missing)
    prescription = Prescription(
        id=uuid7(),
        series_id=series_id,
        version=version,
        patient_id=patient.id,
        unit_path=patient.unit_path,
        prescriber_id=principal.user_id,
        status=new.status,
        written_at=now,
        lines=decided,
        knowledge_version=kb.release.version,
        encounter_id=new.encounter_id,
        note=rules.reason_or_none(new.note),
        previous_id=previous.id if previous else None,
        amendment_reason=amendment_reason,
        renewal_of=renewal_of,
    )
    if previous is not None:
        await prescribing.supersede(previous.id)
    await prescribing.add_prescription(prescription)
    return PrescribingOutcome(prescription, decided)


def _override_details(outcome: PrescribingOutcome) -> dict[str, Any]:
    overridden = [
        {
            "line": line.position,
            "rules": blocking_rule_ids(line.alerts),
            "reason": line.override.reason,
        }
        for line in outcome.lines
        if line.override is not None
    ]
    return {"overrides": overridden} if overridden else {}


async def write_prescription(
    new: NewPrescription,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    audit: AuditLog,
    clock: Clock,
) -> PrescribingOutcome:
    """Write a prescription and check every medication line against the record.

    Business rules:
    - the lines must be well formed (:func:`~afiya.domain.prescribing.orders.check_lines`);
    - a line with a ``contraindicated`` alert needs the prescriber's override reason:
      without one nothing is stored and the outcome lists the lines to override (the
      refusal is audited with the rule ids); with one the override is stored on the line
      and audited;
    - warnings and information are stored with the line and returned.
    """
    patient = await load_patient(
        new.patient_id, principal, Permission.PRESCRIPTIONS_WRITE, clinical, write=True
    )
    await check_encounter_of(new.encounter_id, patient.id, clinical)
    outcome = await _write(
        patient,
        new,
        series_id=uuid7(),
        version=1,
        previous=None,
        amendment_reason=None,
        renewal_of=None,
        principal=principal,
        prescribing=prescribing,
        knowledge=knowledge,
        clock=clock,
    )
    await _audit_outcome(outcome, "prescribing.prescription.create", patient.id, audit)
    return outcome


async def _audit_outcome(
    outcome: PrescribingOutcome, action: str, patient_id: UUID, audit: AuditLog
) -> None:
    if outcome.prescription is None:
        await audit.record(
            audit_record(
                "prescribing.prescription.contraindicated",
                "prescription",
                None,
                patient_id,
                lines=[
                    {"line": line.position, "rules": blocking_rule_ids(line.alerts)}
                    for line in outcome.lines
                    if line.position in outcome.needs_override
                ],
            )
        )
        return
    await audit.record(
        audit_record(
            action,
            "prescription",
            outcome.prescription.id,
            patient_id,
            **_override_details(outcome),
        )
    )


async def _load(
    prescription_id: UUID,
    principal: Principal,
    permission: Permission,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    *,
    write: bool,
) -> tuple[Prescription, ClinicalPatient]:
    found = await prescribing.prescription(prescription_id)
    if found is None:
        raise PrescriptionNotFound()
    patient = await load_patient(found.patient_id, principal, permission, clinical, write=write)
    return found, patient


async def amend_prescription(
    prescription_id: UUID,
    new: NewPrescription,
    *,
    reason: str,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    audit: AuditLog,
    clock: Clock,
) -> PrescribingOutcome:
    """Write a new version of a draft or active prescription, with a reason. The lines
    are checked as for a new prescription (its own old lines excluded); the old version
    stays, no longer current, with what was dispensed against it."""
    previous, patient = await _load(
        prescription_id,
        principal,
        Permission.PRESCRIPTIONS_WRITE,
        clinical,
        prescribing,
        write=True,
    )
    rules.check_can_amend(previous)
    text = rules.reason_or_none(reason)
    if text is None:
        raise ValidationFailed(
            [FieldError("reason", Message(N_("Give the reason for the amendment.")), "required")]
        )
    await check_encounter_of(new.encounter_id, patient.id, clinical)
    outcome = await _write(
        patient,
        replace(new, patient_id=patient.id),
        series_id=previous.series_id,
        version=previous.version + 1,
        previous=previous,
        amendment_reason=text,
        renewal_of=previous.renewal_of,
        principal=principal,
        prescribing=prescribing,
        knowledge=knowledge,
        clock=clock,
    )
    await _audit_outcome(outcome, "prescribing.prescription.amend", patient.id, audit)
    return outcome


async def renew_prescription(
    prescription_id: UUID,
    *,
    override_reasons: Mapping[int, str | None],
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    audit: AuditLog,
    clock: Clock,
) -> PrescribingOutcome:
    """Write a new active prescription with the same lines as an active, completed or
    stopped one (a chronic treatment's monthly renewal). It is checked afresh: an alert
    overridden last month must be overridden again."""
    source, patient = await _load(
        prescription_id,
        principal,
        Permission.PRESCRIPTIONS_WRITE,
        clinical,
        prescribing,
        write=True,
    )
    if source.status not in (OrderStatus.ACTIVE, OrderStatus.COMPLETED, OrderStatus.STOPPED):
        raise rules.PrescriptionNotEditable(
            Message(N_("Only an active, completed or stopped prescription can be renewed."))
        )
    new = NewPrescription(
        patient_id=patient.id,
        lines=tuple(
            NewLine(
                line.kind,
                line.medication,
                line.lab,
                line.imaging,
                override_reasons.get(line.position),
            )
            for line in source.lines
        ),
        encounter_id=None,
        note=source.note,
    )
    outcome = await _write(
        patient,
        new,
        series_id=uuid7(),
        version=1,
        previous=None,
        amendment_reason=None,
        renewal_of=source.id,
        principal=principal,
        prescribing=prescribing,
        knowledge=knowledge,
        clock=clock,
    )
    await _audit_outcome(outcome, "prescribing.prescription.renew", patient.id, audit)
    return outcome


async def stop_prescription(
    prescription_id: UUID,
    *,
    reason: str,
    cancel: bool,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    audit: AuditLog,
    clock: Clock,
) -> Prescription:
    """Stop an active prescription (``stopped``), or cancel a draft or an active one with
    nothing dispensed (``cancelled``, written by mistake). A reason is required."""
    found, patient = await _load(
        prescription_id,
        principal,
        Permission.PRESCRIPTIONS_WRITE,
        clinical,
        prescribing,
        write=True,
    )
    text = rules.reason_or_none(reason)
    if text is None:
        raise ValidationFailed(
            [FieldError("reason", Message(N_("Give the reason for stopping.")), "required")]
        )
    if cancel:
        dispensed = any(
            d.status is DispensingStatus.DISPENSED for d in await prescribing.dispensings(found.id)
        )
        rules.check_can_cancel(found, dispensed)
        status = OrderStatus.CANCELLED
    else:
        rules.check_can_stop(found)
        status = OrderStatus.STOPPED
    ended = replace(
        found, status=status, ended_at=clock.now(), ended_by=principal.user_id, end_reason=text
    )
    await prescribing.save_status(ended)
    await audit.record(
        audit_record(
            f"prescribing.prescription.{status.value}", "prescription", found.id, patient.id
        )
    )
    return ended


async def read_prescription(
    prescription_id: UUID,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    audit: AuditLog,
) -> tuple[Prescription, list[Dispensing]]:
    """A prescription version with its lines, stored alerts and dispensings. Audited."""
    found, patient = await _load(
        prescription_id, principal, Permission.CLINICAL_READ, clinical, prescribing, write=False
    )
    dispensings = await prescribing.dispensings(found.id)
    await audit.record(
        audit_record("prescribing.prescription.read", "prescription", found.id, patient.id)
    )
    return found, dispensings


async def list_prescriptions(
    patient_id: UUID,
    *,
    current_only: bool,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    audit: AuditLog,
) -> list[Prescription]:
    """A patient's prescriptions, newest first (current versions only by default)."""
    patient = await load_patient(
        patient_id, principal, Permission.CLINICAL_READ, clinical, write=False
    )
    found = await prescribing.patient_prescriptions(patient.id, current_only=current_only)
    await audit.record(
        audit_record("prescribing.prescription.list", "prescription", None, patient.id)
    )
    return found


async def check_prescription(
    prescription_id: UUID,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    audit: AuditLog,
    clock: Clock,
) -> tuple[Prescription, tuple[OrderLine, ...]]:
    """Re-evaluate every medication line against the record as it is now (the stored
    alerts are those of the time of writing). Nothing is stored; audited."""
    found, patient = await _load(
        prescription_id, principal, Permission.CLINICAL_READ, clinical, prescribing, write=False
    )
    record = await prescribing.safety_record(patient.id)
    products = await products_for(prescribing, record, found.lines)
    kb = await current_knowledge(prescribing, knowledge)
    lines = evaluate(
        found.lines,
        patient,
        record,
        products,
        kb,
        as_of=clock.now(),
        exclude_series=found.series_id,
    )
    await audit.record(
        audit_record("prescribing.prescription.check", "prescription", found.id, patient.id)
    )
    return found, lines
