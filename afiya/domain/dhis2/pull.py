"""Use cases: pull data values from DHIS2 for cross-checks, and raise payment alerts."""

from __future__ import annotations

import dataclasses
import re
from uuid import UUID

from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import Principal, authorize
from afiya.domain.audit.model import AuditRecord
from afiya.domain.audit.ports import AuditLog
from afiya.domain.dhis2.connections import load_connection
from afiya.domain.dhis2.errors import Dhis2Error, InvalidPeriod
from afiya.domain.dhis2.payloads import DataValue
from afiya.domain.dhis2.periods import Period
from afiya.domain.dhis2.sync_model import (
    Alert,
    PullRequest,
    PullRun,
    RunStatus,
    value_key,
)
from afiya.domain.dhis2.sync_ports import (
    AlertRepository,
    ConnectionRepository,
    GatewayOpener,
    Ledger,
    RunStore,
)
from afiya.domain.dhis2.sync_rules import changed_after_payment
from afiya.domain.platform.jobs import JobRequest, JobScheduler
from afiya.domain.shared.clock import Clock
from afiya.domain.shared.errors import FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

PULL_JOB = "dhis2.pull"
CHANGED_AFTER_PAYMENT = "changed_after_payment"
_UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
BATCH = 1000


def validate_pull(request: PullRequest) -> list[FieldError]:
    """Every problem with a pull request (DHIS2 needs a data set, a unit and a time span)."""
    errors: list[FieldError] = []
    for name, uid in (("data_set", request.data_set), ("org_unit", request.org_unit)):
        if not _UID.match(uid):
            errors.append(
                FieldError(
                    name,
                    Message(N_("A uid is one letter followed by ten letters or digits.")),
                    "format",
                )
            )
    for index, period in enumerate(request.periods):
        try:
            Period.parse(period)
        except InvalidPeriod as exc:
            errors.append(FieldError(f"periods.{index}", exc.reason, "format"))
    dated = request.start is not None or request.end is not None
    if request.periods and dated:
        errors.append(
            FieldError("periods", Message(N_("Give periods or dates, not both.")), "exclusive")
        )
    elif not request.periods and (request.start is None or request.end is None):
        errors.append(
            FieldError(
                "periods", Message(N_("Give periods, or a first and a last day.")), "required"
            )
        )
    elif request.start and request.end and request.start > request.end:
        errors.append(
            FieldError("end", Message(N_("The last day comes before the first.")), "range")
        )
    return errors


async def request_pull(
    connection_id: UUID,
    request: PullRequest,
    *,
    principal: Principal,
    connections: ConnectionRepository,
    runs: RunStore,
    jobs: JobScheduler,
    audit: AuditLog,
    clock: Clock,
) -> PullRun:
    """Ask for the values of a data set, periods and org-unit sub-tree; a job pulls them."""
    authorize(principal, Permission.DHIS2_MANAGE)
    await load_connection(connection_id, connections)
    errors = validate_pull(request)
    if errors:
        raise ValidationFailed(errors)
    canonical = dataclasses.replace(
        request, periods=tuple(Period.parse(p).id for p in request.periods)
    )
    run = PullRun(uuid7(), connection_id, canonical, RunStatus.RUNNING, created_at=clock.now())
    await runs.add_pull(run)
    await jobs.schedule(JobRequest(PULL_JOB, {"pull_id": str(run.id)}, f"{PULL_JOB}:{run.id}"))
    await audit.record(AuditRecord("dhis2.pull.request", "dhis2_pull_run", str(run.id)))
    return run


async def run_pull(
    pull_id: UUID,
    *,
    runs: RunStore,
    connections: ConnectionRepository,
    ledger: Ledger,
    alerts: AlertRepository,
    gateways: GatewayOpener,
    clock: Clock,
) -> PullRun | None:
    """Stream the values into the pulled-value table, batch by batch; idempotent.

    Rules: values are never held whole in memory; each pulled value is compared with the
    ledger, and a value Afiya sent, DHIS2 accepted and money was paid on, that DHIS2 now
    holds differently, raises one alert (not one per pull). A retriable failure is raised
    for the job to retry (its partial writes roll back with it); another one fails the run.
    """
    run = await runs.get_pull(pull_id)
    if run is None or run.status is not RunStatus.RUNNING:
        return run
    connection = await connections.get(run.connection_id)
    if connection is None:
        raise NotFound(
            Message(N_("DHIS2 connection not found.")), code="dhis2_connection_not_found"
        )
    request, cid = run.request, run.connection_id
    received = raised = 0
    batch: list[DataValue] = []
    now = clock.now()

    async def flush() -> None:
        nonlocal raised
        await runs.store_pulled(cid, pull_id, batch, now)
        paid = await ledger.paid_accepted(cid, [value_key(v) for v in batch])
        found = []
        for value in batch:
            entry = paid.get(value_key(value))
            if entry is not None and changed_after_payment(entry, value):
                found.append(
                    Alert(
                        id=uuid7(),
                        connection_id=cid,
                        kind=CHANGED_AFTER_PAYMENT,
                        value_key=value_key(value),
                        expected=entry.value.value,
                        found=None if value.is_deletion else value.value,
                        dhis2_last_updated=value.last_updated,
                        paid_at=entry.paid_at,
                        created_at=now,
                    )
                )
        raised += await alerts.add_many(found)
        batch.clear()

    try:
        async with gateways.open(connection, await connections.secret(cid)) as gateway:
            async for value in gateway.pull_data_values(
                data_sets=[request.data_set],
                org_units=[request.org_unit],
                periods=request.periods,
                start_date=request.start,
                end_date=request.end,
                children=request.children,
                include_deleted=request.include_deleted,
            ):
                batch.append(value)
                received += 1
                if len(batch) >= BATCH:
                    await flush()
        if batch:
            await flush()
    except Dhis2Error as exc:
        if exc.retriable:
            raise
        failed = dataclasses.replace(
            run, status=RunStatus.FAILED, error=exc.message.render()[:2000], finished_at=now
        )
        await runs.update_pull(failed)
        return failed
    done = dataclasses.replace(
        run, status=RunStatus.DONE, received=received, alerts=raised, finished_at=clock.now()
    )
    await runs.update_pull(done)
    return done


async def acknowledge_alert(
    alert_id: UUID,
    *,
    principal: Principal,
    alerts: AlertRepository,
    audit: AuditLog,
    clock: Clock,
) -> Alert:
    """Mark an alert as seen by the caller (it stays listed as acknowledged)."""
    authorize(principal, Permission.DHIS2_MANAGE)
    if await alerts.get(alert_id) is None:
        raise NotFound(Message(N_("Alert not found.")), code="dhis2_alert_not_found")
    alert = await alerts.acknowledge(alert_id, principal.username, clock.now())
    await audit.record(AuditRecord("dhis2.alert.acknowledge", "dhis2_alert", str(alert_id)))
    return alert
