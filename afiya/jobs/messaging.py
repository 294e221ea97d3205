"""Messaging jobs: answer an inbound SMS keyword; send due reminders in bulk.

``messaging.send_reply`` is put in the outbox by the inbound-SMS webhook (one per
inbound message, keyed by its replay key) and runs after the webhook's commit. It takes
ids only and renders the template at run time in the patient's language: the answer to
``RDV`` carries the appointment as it is *now*. Replies are sent whatever the SMS
consent (the patient wrote first; the confirmation of ``STOP`` is required by
operators). A temporary gateway error is retried by the queue; a permanent one is
logged and dropped.

``messaging.send_due_reminders`` drains due ``agenda.send_reminder`` jobs in batches for
campaigns (100,000 vaccination reminders in one hour): see :func:`drain_due_reminders`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, insert, or_, select, update

from afiya.adapters.db.models import JobRow
from afiya.adapters.db.models.agenda import AppointmentRow, ReminderDeliveryRow
from afiya.adapters.db.repositories.agenda_mapping import appointment_of
from afiya.adapters.queue.runner import Handler, JobContext
from afiya.adapters.sms.babel_formatting import BabelFormatter
from afiya.domain.agenda.reminders import plan_appointment_reminders
from afiya.domain.agenda.slots import facility_zone
from afiya.domain.audit.model import AuditContext, AuditRecord
from afiya.domain.messaging.model import Language
from afiya.domain.messaging.ports import OutboundSms, SmsPermanentError, SmsTemporaryError
from afiya.domain.messaging.reminders import ReminderStatus
from afiya.domain.messaging.templates import TemplateCatalog, TemplateKey, render_template
from afiya.domain.shared.ids import uuid7

log = logging.getLogger("afiya.jobs")

#: Scheduled by :mod:`afiya.channels.sms_ussd.inbound` (same name; channels and jobs may
#: not import each other).
REPLY_JOB = "messaging.send_reply"

_CATALOG = TemplateCatalog.defaults()
_FORMATTER = BabelFormatter()


def _bulk_context(services: Any) -> AuditContext:
    return AuditContext(
        user_id=None,
        username="system:jobs",
        roles=None,
        ip=None,
        user_agent=None,
        node=services.settings.node_id,
        request_id=f"job:{BULK_JOB}",
    )


async def send_reply(
    ctx: JobContext,
    patient_id: str,
    template: str,
    language: str,
    phone_index: int,
    reply_key: str,
    appointment_id: str | None = None,
) -> None:
    """Render and send one keyword answer (see the module docstring)."""
    uow = ctx.uow
    patient = await uow.patients.get(UUID(patient_id))
    if patient is None or not patient.phones:
        return
    phone = patient.phones[phone_index if 0 <= phone_index < len(patient.phones) else 0]
    values: dict[str, Any] = {"patient_name": patient.given_names}
    info = await uow.agenda.facility(str(patient.unit_id))
    if appointment_id is not None:
        appointment = await uow.agenda.get(appointment_id)
        if appointment is not None:
            info = await uow.agenda.facility(appointment.facility_id) or info
            values["date"] = values["time"] = appointment.starts_at
    values["facility"] = info.name if info else "Afiya"
    try:
        key = TemplateKey(template)
        lang = Language(language)
    except ValueError:
        key, lang = TemplateKey.HELP, Language.FR
    rendered = render_template(
        _CATALOG.get(key, lang),
        values,
        formatter=_FORMATTER,
        zone=facility_zone(info.time_zone if info else "UTC"),
    )
    gateway = ctx.services.sms
    try:
        receipt = await gateway.send(OutboundSms(phone.number, rendered.text, reply_key))
        status = receipt.status
    except SmsPermanentError as exc:
        status = f"failed:{exc.code or 'rejected'}"
        log.warning("keyword reply refused by the gateway", extra={"job_id": str(ctx.job_id)})
    await uow.audit.record(
        AuditRecord(
            "patient.sms_reply",
            "patient",
            patient_id,
            patient_id=UUID(patient_id),
            details={"template": key.value, "status": status},
        )
    )


HANDLERS: dict[str, Handler] = {REPLY_JOB: send_reply}


# -- bulk reminders ----------------------------------------------------------------------

BULK_JOB = "messaging.send_due_reminders"
REMINDER_JOB = "agenda.send_reminder"  # scheduled by the agenda use cases
_RETRY_AFTER = timedelta(minutes=2)


@dataclass(slots=True)
class BulkResult:
    """What one batch did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    retried: int = 0
    unconfirmed: int = 0

    def add(self, other: BulkResult) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class _Due:
    job_id: UUID
    key: str
    appointment: Any
    channel: str
    to: str
    text: str
    language: str
    segments: int
    encoding: str


async def _claim_due_jobs(session: Any, now: datetime, limit: int) -> list[Any]:
    """``(id, args)`` of due reminder jobs, locked for this transaction."""
    stmt = (
        select(JobRow.id, JobRow.args)
        .where(
            JobRow.name == REMINDER_JOB,
            JobRow.status.in_(("pending", "enqueued")),
            or_(JobRow.run_after.is_(None), JobRow.run_after <= now),
        )
        .order_by(JobRow.run_after, JobRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)  # single-path workers keep theirs
    return list((await session.execute(stmt)).all())


class _MemoFormatter:
    """A campaign's messages share a handful of dates and times: format each once."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._dates: dict[tuple[Any, str, str], str] = {}
        self._times: dict[tuple[Any, str, str], str] = {}

    def format_date(self, value: datetime, *, language: str, zone: Any) -> str:
        key = (value.astimezone(zone).date(), language, str(zone))
        if key not in self._dates:
            self._dates[key] = self._inner.format_date(value, language=language, zone=zone)
        return self._dates[key]

    def format_time(self, value: datetime, *, language: str, zone: Any) -> str:
        local = value.astimezone(zone)
        key = ((local.hour, local.minute), language, str(zone))
        if key not in self._times:
            self._times[key] = self._inner.format_time(value, language=language, zone=zone)
        return self._times[key]

    def format_amount(self, amount: Any, *, currency: str, language: str) -> str:
        return str(self._inner.format_amount(amount, currency=currency, language=language))


async def drain_due_reminders(
    services: Any, *, now: datetime, limit: int = 1000, concurrency: int = 32
) -> BulkResult:
    """Send one batch of due appointment reminders, with the single job's guarantees.

    The rules are those of ``agenda.send_reminder`` (re-planned now: consent, status,
    quiet hours; at most once), applied to up to ``limit`` due jobs with set-based
    queries and ``concurrency`` gateway calls in flight:

    1. One transaction claims the due jobs (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
       so a worker running one of them keeps it), loads their appointments, patients and
       facilities in a few queries, plans each reminder, writes the ``attempting`` (or
       ``skipped``) delivery rows, marks the jobs done, and commits. A job whose
       reminder now falls in quiet hours is left pending with its new time.
    2. The messages go to the gateway concurrently.
    3. A second transaction records each answer on its delivery row and audits it; a
       temporary refusal deletes the attempt and puts the job back with a delay.

    A worker killed during 2 leaves ``attempting`` rows: they are never sent again (the
    jobs are done), exactly like the single-job path.
    """
    result = BulkResult()
    due: list[_Due] = []
    async with services.uow(_bulk_context(services)) as uow:
        session = uow.session
        jobs = await _claim_due_jobs(session, now, limit)
        result.claimed = len(jobs)
        if not jobs:
            return result
        keys = [str(job.args.get("idempotency_key")) for job in jobs]
        existing = {
            row.idempotency_key: row
            for row in (
                await session.execute(
                    select(ReminderDeliveryRow).where(ReminderDeliveryRow.idempotency_key.in_(keys))
                )
            ).scalars()
        }
        ids = list({UUID(str(job.args["appointment_id"])) for job in jobs})
        columns = AppointmentRow.__table__.c
        appointments = {
            str(row.id): appointment_of(row)
            for row in (await session.execute(select(*columns).where(columns.id.in_(ids)))).all()
        }
        patients = await uow.patients.get_many(
            list({UUID(a.patient_id) for a in appointments.values()})
        )
        facilities: dict[str, Any] = {}
        delivery_rows: list[dict[str, Any]] = []
        deferred: list[dict[str, Any]] = []
        formatter = _MemoFormatter(_FORMATTER)
        for job in jobs:
            key = str(job.args.get("idempotency_key"))
            channel = str(job.args.get("channel") or "sms")
            previous = existing.get(key)
            if previous is not None:
                if previous.status == "attempting":
                    previous.status, previous.updated_at = "unconfirmed", now
                    result.unconfirmed += 1
                continue
            appointment = appointments.get(str(job.args["appointment_id"]))
            if appointment is None:
                continue
            facility_id = appointment.facility_id
            if facility_id not in facilities:
                info = await uow.agenda.facility(facility_id)
                facilities[facility_id] = (info, await uow.agenda.reminder_settings(facility_id))
            info, settings = facilities[facility_id]
            patient = patients.get(UUID(appointment.patient_id))
            consent = bool(patient and patient.sms_consent and patient.phones)
            plan = plan_appointment_reminders(
                appointment, settings, consents={channel: consent}, now=now
            )
            decision = next((p for p in plan if p.idempotency_key == key), None)
            base = {
                "id": uuid7(),
                "idempotency_key": key,
                "appointment_id": UUID(appointment.id),
                "patient_id": UUID(appointment.patient_id),
                "channel": channel,
                "created_at": now,
                "updated_at": now,
            }
            if decision is None or decision.status is ReminderStatus.SKIPPED:
                reason = decision.skip_reason.value if decision and decision.skip_reason else None
                delivery_rows.append(
                    {**base, "status": "skipped", "language": None, "error": reason or "superseded"}
                )
                result.skipped += 1
                continue
            if decision.status is ReminderStatus.SCHEDULED and decision.send_at is not None:
                deferred.append({"job_id": job.id, "run_after": decision.send_at})
                result.deferred += 1
                continue
            assert patient is not None
            language = _reminder_language(patient.language)
            rendered = render_template(
                _CATALOG.get(TemplateKey.APPOINTMENT_REMINDER, language),
                {
                    "patient_name": patient.given_names,
                    "date": appointment.starts_at,
                    "time": appointment.starts_at,
                    "facility": info.name if info else "",
                },
                formatter=formatter,
                zone=facility_zone(info.time_zone if info else settings.time_zone),
            )
            delivery_rows.append(
                {**base, "status": "attempting", "language": language.value, "error": None}
            )
            due.append(
                _Due(
                    job.id,
                    key,
                    appointment,
                    channel,
                    patient.phones[0].number,
                    rendered.text,
                    language.value,
                    rendered.encoding.segments,
                    rendered.encoding.encoding.value,
                )
            )
        if delivery_rows:
            await session.execute(insert(ReminderDeliveryRow), delivery_rows)
        jobs_table = JobRow.__table__
        later_ids = {item["job_id"] for item in deferred}
        await session.execute(
            update(jobs_table)
            .where(jobs_table.c.id.in_([job.id for job in jobs if job.id not in later_ids]))
            .values(status="done", finished_at=now, attempts=jobs_table.c.attempts + 1)
        )
        if deferred:  # now inside quiet hours: the same job, later
            await session.execute(
                update(jobs_table)
                .where(jobs_table.c.id == bindparam("job_id"))
                .values(status="pending", run_after=bindparam("run_after")),
                deferred,
                execution_options={"synchronize_session": False},
            )
        await uow.commit()

    outcomes = await _send_all(services.sms, due, concurrency)

    async with services.uow(_bulk_context(services)) as uow:
        session = uow.session
        later = services.clock.now()
        updates: list[dict[str, Any]] = []
        released: list[_Due] = []
        for item, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, SmsTemporaryError):
                released.append(item)
                continue
            values: dict[str, Any] = {
                "key": item.key,
                "provider": services.sms.name,
                "segments": item.segments,
                "encoding": item.encoding,
                "updated_at": later,
                "provider_message_id": None,
                "provider_status": None,
                "cost": None,
                "error": None,
            }
            if isinstance(outcome, BaseException):
                code = getattr(outcome, "code", None)
                values.update(status="failed", error=code or type(outcome).__name__)
                result.failed += 1
                await _notify_failure(uow, item, values["error"], later)
            else:
                failed = outcome.status in {"failed", "rejected"}
                values.update(
                    status="failed" if failed else "sent",
                    provider_message_id=outcome.provider_message_id,
                    provider_status=outcome.status,
                    cost=outcome.cost,
                    error=outcome.error,
                )
                result.failed += failed
                result.sent += not failed
                if failed:
                    await _notify_failure(uow, item, outcome.status, later)
            updates.append(values)
            await uow.audit.record(
                AuditRecord(
                    "appointment.reminder",
                    "appointment",
                    item.appointment.id,
                    patient_id=UUID(item.appointment.patient_id),
                    details={"status": values["status"], "channel": item.channel},
                )
            )
        if updates:
            table = ReminderDeliveryRow.__table__
            await session.execute(
                update(table)
                .where(table.c.idempotency_key == bindparam("key"))
                .values(
                    status=bindparam("status"),
                    provider=bindparam("provider"),
                    segments=bindparam("segments"),
                    encoding=bindparam("encoding"),
                    updated_at=bindparam("updated_at"),
                    provider_message_id=bindparam("provider_message_id"),
                    provider_status=bindparam("provider_status"),
                    cost=bindparam("cost"),
                    error=bindparam("error"),
                ),
                updates,
                execution_options={"synchronize_session": False},
            )
        if released:
            await session.execute(
                delete(ReminderDeliveryRow).where(
                    ReminderDeliveryRow.idempotency_key.in_([r.key for r in released])
                )
            )
            await session.execute(
                update(JobRow)
                .where(JobRow.id.in_([r.job_id for r in released]))
                .values(status="pending", run_after=later + _RETRY_AFTER, finished_at=None)
            )
            result.retried = len(released)
        await uow.commit()
    return result


async def _notify_failure(uow: Any, item: _Due, reason: str, now: datetime) -> None:
    """A refused reminder shows in the staff feed of its facility (and the live stream)."""
    unit_path = await uow.messaging.appointment_unit_path(item.appointment.id) or "/"
    await uow.messaging.add_feed_item(
        kind="reminder_failed",
        unit_path=unit_path,
        patient_id=UUID(item.appointment.patient_id),
        resource_type="appointment",
        resource_id=item.appointment.id,
        details={"reason": reason, "idempotency_key": item.key},
        now=now,
    )


async def _send_all(gateway: Any, due: list[_Due], concurrency: int) -> list[Any]:
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(item: _Due) -> Any:
        async with gate:
            try:
                return await gateway.send(OutboundSms(item.to, item.text, item.key))
            except (SmsTemporaryError, SmsPermanentError) as exc:
                return exc

    return await asyncio.gather(*(one(item) for item in due))


def _reminder_language(value: str | None) -> Language:
    try:
        return Language(value or "fr")
    except ValueError:
        return Language.FR


async def send_due_reminders(
    ctx: JobContext, limit: int = 1000, concurrency: int = 32, max_batches: int = 50
) -> None:
    """Drain due reminders batch after batch (see :func:`drain_due_reminders`)."""
    for _ in range(max_batches):
        result = await drain_due_reminders(
            ctx.services, now=ctx.services.clock.now(), limit=limit, concurrency=concurrency
        )
        if result.claimed < limit:
            break


HANDLERS[BULK_JOB] = send_due_reminders
