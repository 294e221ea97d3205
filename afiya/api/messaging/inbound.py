"""Inbound SMS keywords and gateway delivery reports, acted on in the caller's transaction.

Both run inside the webhook's unit of work and first record the callback's replay key
(``sms_callback_seen``) in that same transaction: a provider's retry, or an attacker's
replay, of a callback already processed changes nothing, and a callback whose
processing failed (rolled back) is processed again on the provider's retry.

**Keywords** (:func:`afiya.domain.messaging.keywords.parse_inbound`): the sender's
number finds the patients reachable at it through the phone blind index. ``RDV`` answers
with the next appointment; ``OUI``/``NON`` confirm or cancel it through the agenda use
cases as the patient (their rules apply: not after the start); ``STOP``/``START``
withdraw or give SMS consent for every patient at that number (a family phone);
anything else gets the help text. When several patients share the phone, the one with
the soonest upcoming appointment is meant. A number that matches no patient gets no
answer (nothing about the facility's patients is revealed, and no SMS is paid for).

The answer is not sent here: a ``messaging.send_reply`` job is put in the outbox and
sent after commit; it carries ids (patient, appointment, which of the patient's
numbers), never the text or the number.

**Delivery reports** merge into the reminder's delivery-log row
(:func:`~afiya.domain.messaging.model.merge_delivery_status`); a reminder that turns
failed, rejected or expired adds a ``reminder_failed`` item to the staff feed of the
appointment's facility.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from afiya.adapters.db.uow import UnitOfWork
from afiya.domain.agenda import use_cases
from afiya.domain.agenda.appointments import Action, Actor, ActorKind
from afiya.domain.audit.model import AuditRecord
from afiya.domain.messaging.keywords import InboundIntent, parse_inbound
from afiya.domain.messaging.model import DeliveryReport, DeliveryStatus, InboundSms
from afiya.domain.messaging.templates import TemplateKey
from afiya.domain.patients.rules import normalize_phone
from afiya.domain.platform.jobs import JobRequest
from afiya.domain.shared.errors import DomainError

REPLY_JOB = "messaging.send_reply"
_FAILED = {DeliveryStatus.FAILED.value, DeliveryStatus.REJECTED.value, DeliveryStatus.EXPIRED.value}


@dataclass(frozen=True, slots=True)
class InboundOutcome:
    """What an inbound SMS did (for the webhook's log and the tests)."""

    duplicate: bool
    intent: InboundIntent | None = None
    patient_id: str | None = None
    appointment_id: str | None = None
    reply: TemplateKey | None = None


def _language_of(text: str, fallback: str | None) -> str:
    """Answer in Arabic to a message written in Arabic, else in the patient's language."""
    if any(unicodedata.name(ch, "").startswith("ARABIC") for ch in text):
        return "ar"
    return fallback if fallback in ("fr", "ar", "en") else "fr"


async def handle_inbound_sms(sms: InboundSms, *, uow: UnitOfWork, now: datetime) -> InboundOutcome:
    """Act on one inbound SMS once (see the module docstring for the rules)."""
    if not await uow.messaging.first_seen(sms.replay_key, now=now):
        return InboundOutcome(duplicate=True)
    parsed = parse_inbound(sms.body)
    candidates = sorted(await uow.patients.find_by_phone(sms.from_number))
    if not candidates:
        return InboundOutcome(duplicate=False, intent=parsed.intent)
    upcoming = []
    for candidate in candidates:
        found = await uow.messaging.next_appointment(str(candidate), now=now)
        if found is not None:
            upcoming.append(found)
    upcoming.sort(key=lambda a: (a.starts_at, a.id))
    appointment = upcoming[0] if upcoming else None
    patient_id = UUID(appointment.patient_id) if appointment else candidates[0]
    patient = await uow.patients.get(patient_id)
    if patient is None:
        return InboundOutcome(duplicate=False, intent=parsed.intent)

    reply: TemplateKey
    intent = parsed.intent
    if intent in (InboundIntent.OPT_OUT, InboundIntent.OPT_IN):
        consent = intent is InboundIntent.OPT_IN
        changed = await uow.messaging.set_sms_consent(candidates, consent)
        for changed_id in changed:
            await uow.audit.record(
                AuditRecord(
                    "patient.sms_consent",
                    "patient",
                    str(changed_id),
                    patient_id=changed_id,
                    details={"consent": consent, "channel": "sms"},
                )
            )
        reply = TemplateKey.OPT_IN_CONFIRMATION if consent else TemplateKey.OPT_OUT_CONFIRMATION
    elif intent in (InboundIntent.CONFIRM, InboundIntent.DECLINE, InboundIntent.APPOINTMENT_INFO):
        if appointment is None:
            reply = TemplateKey.NO_UPCOMING_APPOINTMENT
        elif intent is InboundIntent.APPOINTMENT_INFO:
            reply = TemplateKey.APPOINTMENT_DETAILS
            await uow.audit.record(
                AuditRecord(
                    "appointment.read",
                    "appointment",
                    appointment.id,
                    patient_id=patient_id,
                    details={"channel": "sms"},
                )
            )
        else:
            action = Action.CONFIRM if intent is InboundIntent.CONFIRM else Action.CANCEL
            try:
                await use_cases.take_step(
                    appointment.id,
                    action,
                    actor=Actor(ActorKind.PATIENT, str(patient_id)),
                    principal=None,
                    store=uow.agenda,
                    audit=uow.audit,
                    now=now,
                    reason="sms",
                )
            except DomainError:
                reply = TemplateKey.HELP
            else:
                reply = (
                    TemplateKey.APPOINTMENT_CONFIRMED
                    if action is Action.CONFIRM
                    else TemplateKey.APPOINTMENT_CANCELLED
                )
    else:
        reply = TemplateKey.HELP

    sender = normalize_phone(sms.from_number) or sms.from_number
    phone_index = next(
        (i for i, p in enumerate(patient.phones) if p.number == sender),
        0,
    )
    appointment_id = appointment.id if appointment else None
    await uow.jobs.schedule(
        JobRequest(
            REPLY_JOB,
            {
                "patient_id": str(patient_id),
                "template": reply.value,
                "language": _language_of(sms.body, patient.language),
                "phone_index": phone_index,
                "appointment_id": appointment_id,
                "reply_key": f"reply:{sms.replay_key}",
            },
            f"reply:{sms.replay_key}",
        )
    )
    return InboundOutcome(
        duplicate=False,
        intent=intent,
        patient_id=str(patient_id),
        appointment_id=appointment_id,
        reply=reply,
    )


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    duplicate: bool
    known: bool = False
    status: str | None = None


async def handle_delivery_report(
    report: DeliveryReport, *, uow: UnitOfWork, now: datetime
) -> DeliveryOutcome:
    """Merge one delivery report into the reminder log, once."""
    if not await uow.messaging.first_seen(report.replay_key, now=now):
        return DeliveryOutcome(duplicate=True)
    update = await uow.messaging.apply_delivery_report(report, now=now)
    if update is None:
        return DeliveryOutcome(duplicate=False, known=False)
    patient_id = UUID(update.patient_id)
    await uow.audit.record(
        AuditRecord(
            "appointment.reminder_report",
            "appointment",
            update.appointment_id,
            patient_id=patient_id,
            details={"status": update.status, "provider_status": report.provider_status},
        )
    )
    if update.status in _FAILED and update.previous not in _FAILED:
        unit_path = await uow.messaging.appointment_unit_path(update.appointment_id) or "/"
        await uow.messaging.add_feed_item(
            kind="reminder_failed",
            unit_path=unit_path,
            patient_id=patient_id,
            resource_type="appointment",
            resource_id=update.appointment_id,
            details={
                "delivery_id": update.delivery_id,
                "provider": report.provider,
                "provider_status": report.provider_status,
            },
            now=now,
        )
    return DeliveryOutcome(duplicate=False, known=True, status=update.status)
