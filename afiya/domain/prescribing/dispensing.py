"""Use cases of dispensing: the pharmacist validates, rejects or overrides each line.

Access: dispensing and rejecting need ``dispensing:write``, overriding a refused
dispensing ``dispensing:override`` (pharmacists and physicians), reading
``clinical:read``; each use case authorises at the patient's path and records an audit
event carrying the patient id. The safety engine runs again at dispensing, against the
record as it is at that moment (it may have changed since the prescription).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal
from afiya.domain.audit.ports import AuditLog
from afiya.domain.clinical.ports import ClinicalPatient, ClinicalRepository
from afiya.domain.clinical.use_cases.access import load_patient
from afiya.domain.prescribing import orders as rules
from afiya.domain.prescribing.orders import (
    Dispensing,
    DispensingStatus,
    OrderLine,
    OrderStatus,
    Prescription,
)
from afiya.domain.prescribing.ports import (
    KnowledgeBuilder,
    PrescribingRepository,
)
from afiya.domain.prescribing.safety.alerts import Alert
from afiya.domain.prescribing.use_cases import (
    DispensingNotFound,
    DispensingOutcome,
    PrescriptionNotFound,
    audit_record,
    blocking_rule_ids,
    current_knowledge,
    evaluate,
    products_for,
)
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import Conflict, FieldError, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7


async def _dispensing_context(
    line_id: UUID,
    principal: Principal,
    permission: Permission,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
) -> tuple[Prescription, OrderLine, ClinicalPatient]:
    found = await prescribing.prescription_of_line(line_id)
    if found is None:
        raise PrescriptionNotFound()
    patient = await load_patient(found.patient_id, principal, permission, clinical, write=True)
    line = rules.check_dispensable(found, found.line(line_id))
    return found, line, patient


async def _alerts_now(
    prescription: Prescription,
    line: OrderLine,
    patient: ClinicalPatient,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    now: datetime,
) -> tuple[tuple[Alert, ...], str]:
    record = await prescribing.safety_record(patient.id)
    products = await products_for(prescribing, record, prescription.lines)
    kb = await current_knowledge(prescribing, knowledge)
    checked = evaluate(
        prescription.lines,
        patient,
        record,
        products,
        kb,
        as_of=now,
        exclude_series=prescription.series_id,
    )
    mine = next(c for c in checked if c.id == line.id)
    return mine.alerts, kb.release.version


async def _complete_if_done(prescription: Prescription, prescribing: PrescribingRepository) -> None:
    decided = {
        d.line_id
        for d in await prescribing.dispensings(prescription.id)
        if d.status in (DispensingStatus.DISPENSED, DispensingStatus.REJECTED)
    }
    if rules.is_complete(prescription, decided):
        await prescribing.save_status(replace(prescription, status=OrderStatus.COMPLETED))


def _quantity(quantity: Decimal | None, unit: str | None) -> list[FieldError]:
    if quantity is not None and quantity <= 0:
        return [FieldError("quantity", Message(N_("The quantity must be positive.")), "invalid")]
    if quantity is not None and not (unit or "").strip():
        return [FieldError("quantity_unit", Message(N_("Give the quantity's unit.")), "required")]
    return []


async def dispense_line(
    line_id: UUID,
    *,
    quantity: Decimal,
    quantity_unit: str,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    audit: AuditLog,
    clock: Clock,
) -> DispensingOutcome:
    """Validate a medication line at the pharmacy and record the quantity handed over.

    Business rules:
    - the line belongs to the current version of an active prescription;
    - the engine runs again on the record as it is now (it may have changed since the
      prescription was written);
    - a ``contraindicated`` alert refuses the dispensing: the refusal is stored (it shows
      on the timeline, with the alerts) and audited, and only an override by a
      pharmacist or a physician (:func:`override_dispensing`) lets it through — the
      prescriber's override at writing time does not, because it answered the record
      of that moment and the pharmacist must see what blocks now;
    - when every medication line is dispensed or rejected the prescription is completed.
    """
    errors = _quantity(quantity, quantity_unit)
    if errors:
        raise ValidationFailed(errors)
    prescription, line, patient = await _dispensing_context(
        line_id, principal, Permission.DISPENSING_WRITE, clinical, prescribing
    )
    now = clock.now()
    alerts, release = await _alerts_now(prescription, line, patient, prescribing, knowledge, now)
    refused = bool(rules.blocking(alerts))
    assert line.medication is not None
    dispensing = Dispensing(
        id=uuid7(),
        prescription_id=prescription.id,
        line_id=line.id,
        patient_id=patient.id,
        unit_path=patient.unit_path,
        status=DispensingStatus.REFUSED if refused else DispensingStatus.DISPENSED,
        at=now,
        dispenser_id=principal.user_id,
        product_code=line.medication.product_code,
        knowledge_version=release,
        quantity=quantity,
        quantity_unit=quantity_unit.strip(),
        alerts=alerts,
    )
    await prescribing.add_dispensing(dispensing)
    if refused:
        await audit.record(
            audit_record(
                "prescribing.dispensing.refused",
                "dispensing",
                dispensing.id,
                patient.id,
                line_id=str(line.id),
                rules=blocking_rule_ids(alerts),
            )
        )
    else:
        await audit.record(
            audit_record(
                "prescribing.dispensing.dispense",
                "dispensing",
                dispensing.id,
                patient.id,
                line_id=str(line.id),
                quantity=str(quantity),
                unit=quantity_unit,
            )
        )
        await _complete_if_done(prescription, prescribing)
    return DispensingOutcome(dispensing)


async def override_dispensing(
    dispensing_id: UUID,
    *,
    reason: str,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    audit: AuditLog,
    clock: Clock,
) -> DispensingOutcome:
    """Dispense a refused line despite its contraindication, with a reason.

    Business rules: only a refused dispensing can be overridden, once; the caller needs
    ``dispensing:override`` (pharmacists and physicians); the engine runs again and the
    alerts of that moment are stored with the override; the quantity is the one of the
    refused attempt. The override is a new dispensing row pointing at the refusal, so
    both stay on the timeline; both are audited.
    """
    refused = await prescribing.dispensing(dispensing_id)
    if refused is None:
        raise DispensingNotFound()
    text = rules.reason_or_none(reason)
    prescription, line, patient = await _dispensing_context(
        refused.line_id, principal, Permission.DISPENSING_OVERRIDE, clinical, prescribing
    )
    if refused.status is not DispensingStatus.REFUSED or await prescribing.overridden(refused.id):
        raise Conflict(
            Message(N_("Only a refused dispensing that was not overridden yet can be overridden.")),
            code="not_overridable",
        )
    if text is None:
        raise ValidationFailed(
            [FieldError("reason", Message(N_("Give the reason for the override.")), "required")]
        )
    now = clock.now()
    alerts, release = await _alerts_now(prescription, line, patient, prescribing, knowledge, now)
    dispensing = replace(
        refused,
        id=uuid7(),
        status=DispensingStatus.DISPENSED,
        at=now,
        knowledge_version=release,
        alerts=alerts,
        reason=text,
        override_of=refused.id,
        override_by=principal.user_id,
    )
    await prescribing.add_dispensing(dispensing)
    await audit.record(
        audit_record(
            "prescribing.dispensing.override",
            "dispensing",
            dispensing.id,
            patient.id,
            refused_id=str(refused.id),
            rules=blocking_rule_ids(alerts),
            reason=text,
        )
    )
    await _complete_if_done(prescription, prescribing)
    return DispensingOutcome(dispensing)


async def reject_line(
    line_id: UUID,
    *,
    reason: str,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    knowledge: KnowledgeBuilder,
    audit: AuditLog,
    clock: Clock,
) -> DispensingOutcome:
    """The pharmacist declines a line (out of stock, wrong product, to be discussed with
    the prescriber), with a reason. Stored, audited, on the timeline."""
    text = rules.reason_or_none(reason)
    if text is None:
        raise ValidationFailed(
            [FieldError("reason", Message(N_("Give the reason for the rejection.")), "required")]
        )
    prescription, line, patient = await _dispensing_context(
        line_id, principal, Permission.DISPENSING_WRITE, clinical, prescribing
    )
    now = clock.now()
    alerts, release = await _alerts_now(prescription, line, patient, prescribing, knowledge, now)
    assert line.medication is not None
    dispensing = Dispensing(
        id=uuid7(),
        prescription_id=prescription.id,
        line_id=line.id,
        patient_id=patient.id,
        unit_path=patient.unit_path,
        status=DispensingStatus.REJECTED,
        at=now,
        dispenser_id=principal.user_id,
        product_code=line.medication.product_code,
        knowledge_version=release,
        alerts=alerts,
        reason=text,
    )
    await prescribing.add_dispensing(dispensing)
    await audit.record(
        audit_record(
            "prescribing.dispensing.reject",
            "dispensing",
            dispensing.id,
            patient.id,
            line_id=str(line.id),
            reason=text,
        )
    )
    await _complete_if_done(prescription, prescribing)
    return DispensingOutcome(dispensing)


async def read_dispensing(
    dispensing_id: UUID,
    *,
    principal: Principal,
    clinical: ClinicalRepository,
    prescribing: PrescribingRepository,
    audit: AuditLog,
) -> Dispensing:
    found = await prescribing.dispensing(dispensing_id)
    if found is None:
        raise DispensingNotFound()
    await load_patient(found.patient_id, principal, Permission.CLINICAL_READ, clinical, write=False)
    await audit.record(
        audit_record("prescribing.dispensing.read", "dispensing", found.id, found.patient_id)
    )
    return found


# -- formulary and local rules --------------------------------------------------------------
