"""Agenda jobs: send one appointment reminder through the SMS port, at most once.

``agenda.send_reminder`` is scheduled in the outbox when an appointment is booked (one
job per reminder, keyed by its idempotency key). When it runs it re-plans the reminder
with the domain rules at the current time, so consent, cancellation, rescheduling and
quiet hours are judged *now*: no consent or a cancelled appointment → a ``skipped`` log
row; inside quiet hours (a late worker) → a follow-up job at the end of quiet hours.

**Never twice.** Before calling the gateway the job inserts a delivery-log row
``attempting`` with the reminder's idempotency key (unique) and commits it in a
transaction of its own. A second run (ARQ re-delivery after the worker died between the
gateway's answer and the job's commit) finds that row and does not send again: the
reminder is then logged as ``unconfirmed`` for reconciliation by the gateway's delivery
report or an operator. We prefer at-most-once: a duplicate SMS costs money and confuses
patients, while a rare unconfirmed reminder is visible in the log. A temporary gateway
error (nothing was accepted) deletes the attempt row and retries with back-off.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from afiya.adapters.db.models.agenda import ReminderDeliveryRow
from afiya.adapters.queue.runner import Handler, JobContext
from afiya.adapters.sms.babel_formatting import BabelFormatter
from afiya.domain.agenda.reminders import plan_appointment_reminders
from afiya.domain.agenda.slots import facility_zone
from afiya.domain.agenda.use_cases import REMINDER_JOB
from afiya.domain.audit.model import AuditRecord
from afiya.domain.messaging.model import Language
from afiya.domain.messaging.ports import (
    OutboundSms,
    SmsGateway,
    SmsPermanentError,
    SmsTemporaryError,
)
from afiya.domain.messaging.reminders import ReminderStatus
from afiya.domain.messaging.templates import TemplateCatalog, TemplateKey, render_template
from afiya.domain.platform.jobs import JobRequest
from afiya.domain.shared.ids import uuid7

log = logging.getLogger("afiya.jobs")

#: SMS providers; third parties (and tests) register more.
_CATALOG = TemplateCatalog.defaults()
_FORMATTER = BabelFormatter()


def reminder_gateway(services: Any) -> SmsGateway:
    """The gateway named by ``AFIYA_SMS_GATEWAY`` (built once per process by bootstrap)."""
    return services.sms  # type: ignore[no-any-return]


def _language(value: str | None) -> Language:
    try:
        return Language(value or "fr")
    except ValueError:
        return Language.FR  # national languages are spoken, not written: French SMS


async def _log(ctx: JobContext, key: str, appointment: Any, channel: str, **values: Any) -> None:
    now = ctx.uow.clock.now()
    ctx.uow.session.add(
        ReminderDeliveryRow(
            id=uuid7(),
            idempotency_key=key,
            appointment_id=UUID(appointment.id),
            patient_id=UUID(appointment.patient_id),
            channel=channel,
            created_at=now,
            updated_at=now,
            **values,
        )
    )


def _attempt_row(now: datetime, key: str, appointment: Any, channel: str, language: str) -> Any:
    return ReminderDeliveryRow(
        id=uuid7(),
        idempotency_key=key,
        appointment_id=UUID(appointment.id),
        patient_id=UUID(appointment.patient_id),
        channel=channel,
        language=language,
        status="attempting",
        created_at=now,
        updated_at=now,
    )


async def _claim(ctx: JobContext, key: str, appointment: Any, channel: str, language: str) -> bool:
    """Commit an ``attempting`` row before sending; ``False`` if one exists.

    PostgreSQL: in a session of its own, so the job keeps its row lock (a duplicate
    delivery waits). SQLite: the job's transaction holds the only write lock, so the row
    is committed in it (the job is not marked done by this commit).
    """
    services = ctx.services
    now = services.clock.now()
    if ctx.uow.session.get_bind().dialect.name == "sqlite":
        ctx.uow.session.add(_attempt_row(now, key, appointment, channel, language))
        await ctx.uow.session.commit()
        return True  # the existence check ran under the same write lock
    async with services.sessions() as session:
        session.add(_attempt_row(now, key, appointment, channel, language))
        try:
            await session.commit()
        except IntegrityError:
            return False
    return True


async def _release(services: Any, key: str) -> None:
    async with services.sessions() as session:
        await session.execute(
            delete(ReminderDeliveryRow).where(ReminderDeliveryRow.idempotency_key == key)
        )
        await session.commit()


async def send_reminder(
    ctx: JobContext, appointment_id: str, idempotency_key: str, channel: str = "sms"
) -> None:
    """Send one reminder if it is still due; see the module docstring for the rules."""
    uow, services = ctx.uow, ctx.services
    existing = (
        await uow.session.execute(
            select(ReminderDeliveryRow).where(
                ReminderDeliveryRow.idempotency_key == idempotency_key
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.status == "attempting":  # a run died after calling the gateway
            existing.status = "unconfirmed"
            existing.updated_at = uow.clock.now()
            log.warning("reminder unconfirmed", extra={"job_id": str(ctx.job_id)})
        return
    appointment = await uow.agenda.get(appointment_id)
    if appointment is None:
        return
    patient = await uow.patients.get(UUID(appointment.patient_id))
    consent = bool(patient and patient.sms_consent and patient.phones)
    settings = await uow.agenda.reminder_settings(appointment.facility_id)
    now = uow.clock.now()
    plan = plan_appointment_reminders(appointment, settings, consents={channel: consent}, now=now)
    decision = next((p for p in plan if p.idempotency_key == idempotency_key), None)
    if decision is None or decision.status is ReminderStatus.SKIPPED:
        reason = decision.skip_reason.value if decision and decision.skip_reason else "superseded"
        await _log(ctx, idempotency_key, appointment, channel, status="skipped", error=reason)
        return
    if decision.status is ReminderStatus.SCHEDULED and decision.send_at is not None:
        await _defer(ctx, appointment_id, idempotency_key, channel, decision.send_at)
        return
    assert patient is not None
    language = _language(patient.language)
    info = await uow.agenda.facility(appointment.facility_id)
    zone_name = info.time_zone if info else settings.time_zone
    rendered = render_template(
        _CATALOG.get(TemplateKey.APPOINTMENT_REMINDER, language),
        {
            "patient_name": patient.given_names,
            "date": appointment.starts_at,
            "time": appointment.starts_at,
            "facility": info.name if info else "",
        },
        formatter=_FORMATTER,
        zone=facility_zone(zone_name),
    )
    if not await _claim(ctx, idempotency_key, appointment, channel, language.value):
        return  # another delivery of this job is sending it right now
    gateway = reminder_gateway(services)
    message = OutboundSms(patient.phones[0].number, rendered.text, idempotency_key)
    try:
        receipt = await gateway.send(message)
    except SmsTemporaryError:
        await _release(services, idempotency_key)  # nothing was accepted: retry later
        raise
    except SmsPermanentError as exc:
        receipt = None
        error = exc.code or str(exc) or "rejected"
    row = (
        await uow.session.execute(
            select(ReminderDeliveryRow).where(
                ReminderDeliveryRow.idempotency_key == idempotency_key
            )
        )
    ).scalar_one()
    row.provider = gateway.name
    row.segments = rendered.encoding.segments
    row.encoding = rendered.encoding.encoding.value
    row.updated_at = uow.clock.now()
    if receipt is None:
        row.status, row.error = "failed", error
    else:
        row.status = "failed" if receipt.status in {"failed", "rejected"} else "sent"
        row.provider_message_id = receipt.provider_message_id
        row.provider_status = receipt.status
        row.cost = receipt.cost
        row.error = receipt.error
    await uow.audit.record(
        AuditRecord(
            "appointment.reminder",
            "appointment",
            appointment.id,
            patient_id=UUID(appointment.patient_id),
            details={"status": row.status, "channel": channel},
        )
    )


async def _defer(
    ctx: JobContext, appointment_id: str, key: str, channel: str, send_at: datetime
) -> None:
    """A late run inside quiet hours: the same reminder, later (same delivery key)."""
    await ctx.uow.jobs.schedule(
        JobRequest(
            REMINDER_JOB,
            {"appointment_id": appointment_id, "idempotency_key": key, "channel": channel},
            f"{key}@{send_at.strftime('%Y%m%dT%H%MZ')}",
            run_after=send_at,
        )
    )


HANDLERS: dict[str, Handler] = {REMINDER_JOB: send_reminder}
