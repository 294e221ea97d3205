"""FHIR rest-hook subscriptions: match the change log, deliver notifications.

``fhir.match_changes`` reads each node's change log from where it stopped (the node's
gap-free sequence follows commit order, so nothing committed is skipped), maps every
entry to a resource (a phone row is a change of its Patient), and for each active
subscription of that type runs the subscription's search restricted to the resource,
with the owner's current permissions and facilities. A match becomes a pending
notification; the cursor advances in the same transaction, so a crash re-runs the batch
and the unique (subscription, change) key keeps it from doubling.

``fhir.deliver`` POSTs a subscription's pending notifications in order. A failure (no
answer, timeout, non-2xx) is logged in the delivery log and pushed back (30 s doubling
to 1 h) and later events wait behind it: a subscriber that is down loses nothing and
receives events in order once it is back. Delivery is at least once (a crash after the
subscriber answered re-sends): notifications carry an event number to deduplicate on.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from afiya.adapters.db.repositories.fhir_subscriptions import NewNotification, Notification
from afiya.adapters.db.uow import UnitOfWork
from afiya.adapters.fhir.common import FHIR_JSON, instant
from afiya.adapters.fhir.engine.catalog import REGISTRY
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.queue.runner import Handler, JobContext
from afiya.domain.access.policy import Principal
from afiya.domain.fhir.search import parse_search, query_of
from afiya.domain.fhir.subscriptions import Payload, Subscription, retry_delay
from afiya.domain.platform.jobs import JobRequest
from afiya.domain.shared.clock import Clock

log = logging.getLogger("afiya.jobs")

MATCH_JOB = "fhir.match_changes"
DELIVER_JOB = "fhir.deliver"
DEFAULT_BASE = "http://localhost:8000/fhir/R4"
TIMEOUT_SECONDS = 10.0
PER_RUN = 50  # notifications per delivery job (the next job takes the rest)


def entity_types() -> dict[str, str]:
    """Change-log table → subscribable resource type (``patient_phone`` → Patient)."""
    return {
        entity: name
        for name, kind in REGISTRY.items()
        if kind.subscribable
        for entity in kind.entities
    }


def _resource_id(entity: str, entity_id: UUID, data: dict[str, Any]) -> UUID | None:
    """The resource a change belongs to: the row itself, or the patient of a sub-record."""
    if entity.startswith("patient_"):
        owner = data.get("patient_id")
        return UUID(owner) if owner else None
    return entity_id


async def owner_principal(uow: UnitOfWork, owner_id: UUID) -> Principal | None:
    """The subscription owner's permissions and facilities as they are now."""
    user = await uow.users.get(owner_id)
    if user is None or not user.active:
        return None
    return Principal(user.id, user.username, user.roles, user.unit_paths)


async def matches(
    uow: UnitOfWork, clock: Clock, subscription: Subscription, resource_id: UUID
) -> int | None:
    """The resource's version when the subscription's search, run as its owner, finds
    it; None when it does not."""
    principal = await owner_principal(uow, subscription.owner_id)
    if principal is None:
        return None
    kind = REGISTRY[subscription.resource_type]
    _, _, query = subscription.criteria.partition("?")
    items = [*query_of(query), ("_id", str(resource_id))]
    ctx = FhirContext(principal, uow, DEFAULT_BASE, clock, quiet=True)
    try:
        request = parse_search(kind.name, items, kind.search_spec)
        found = (await kind.search(ctx, request)).resources
    except Exception:  # the owner lost the permission, or the criteria no longer parse
        log.warning("subscription criteria not evaluated", extra={"id": str(subscription.id)})
        return None
    if not found:
        return None
    return int((found[0].get("meta") or {}).get("versionId") or 0)


async def match_changes(uow: UnitOfWork, clock: Clock, *, batch: int = 500) -> int:
    """Turn new change-log entries into pending notifications; return how many."""
    store = uow.fhir.subscriptions
    types = entity_types()
    subscriptions = await store.active(sorted(set(types.values())))
    added = 0
    now = clock.now()
    for node in await uow.fhir.nodes():
        last = await store.cursor(node)
        if last is None:  # first run: start where the oldest subscription began
            oldest = min((s.created_at for s in subscriptions if s.created_at), default=now)
            last = await uow.fhir.node_seq_before(node, oldest)
        entries = await uow.fhir.changes_after(node, last, batch)
        if not entries:
            continue
        latest: dict[tuple[str, UUID], Any] = {}
        for entry in entries:
            kind = types.get(entry.entity)
            resource_id = _resource_id(entry.entity, entry.entity_id, entry.data) if kind else None
            if kind and resource_id is not None:
                latest[(kind, resource_id)] = entry  # one event per resource per batch
        found: list[NewNotification] = []
        for (kind, resource_id), entry in latest.items():
            for subscription in subscriptions:
                if subscription.resource_type != kind or not subscription.covers(entry.recorded_at):
                    continue
                version = await matches(uow, clock, subscription, resource_id)
                if version is not None:
                    found.append(
                        NewNotification(
                            subscription.id,
                            entry.seq,
                            kind,
                            resource_id,
                            version,
                            entry.operation,
                        )
                    )
        added += await store.add_notifications(found, now)
        await store.set_cursor(node, entries[-1].node_seq)
    return added


def id_only_bundle(
    base: str, subscription: Subscription, notification: Notification, event: int, now: datetime
) -> dict[str, Any]:
    """The notification without content: which resource changed, and how."""
    n = notification
    method = {"insert": "POST", "delete": "DELETE"}.get(n.operation, "PUT")
    url = f"{n.resource_type}/{n.resource_id}"
    response: dict[str, Any] = {"status": {"POST": "201", "DELETE": "204"}.get(method, "200")}
    if n.resource_version:
        response["etag"] = f'W/"{n.resource_version}"'
    return {
        "resourceType": "Bundle",
        "type": "history",
        "timestamp": instant(now),
        "meta": {
            "tag": [
                {"system": f"{base}/Subscription", "code": str(subscription.id)},
                {"system": f"{base}/Subscription/event-number", "code": str(event)},
            ]
        },
        "entry": [
            {
                "fullUrl": f"{base}/{url}",
                "request": {"method": method, "url": url},
                "response": response,
            }
        ],
    }


async def _payload(
    uow: UnitOfWork,
    clock: Clock,
    base: str,
    subscription: Subscription,
    notification: Notification,
    event: int,
) -> dict[str, Any]:
    if subscription.payload is Payload.FULL and notification.operation != "delete":
        principal = await owner_principal(uow, subscription.owner_id)
        if principal is not None:
            ctx = FhirContext(principal, uow, base, clock)
            try:  # a read as the owner: scoped and audited like any other
                kind = REGISTRY[notification.resource_type]
                if kind.read is not None:
                    return await kind.read(ctx, str(notification.resource_id))
            except Exception:
                log.info("full payload not readable; sending id-only")
    return id_only_bundle(base, subscription, notification, event, clock.now())


async def deliver(
    uow: UnitOfWork,
    clock: Clock,
    subscription_id: UUID,
    *,
    client: httpx.AsyncClient,
    base: str = DEFAULT_BASE,
    limit: int = PER_RUN,
) -> tuple[int, datetime | None]:
    """POST due notifications in order; return (delivered, when to try again or None)."""
    store = uow.fhir.subscriptions
    subscription = await store.get(subscription_id)
    if subscription is None:
        return 0, None
    delivered = 0
    for notification in await store.pending(subscription_id, limit):
        now = clock.now()
        if notification.next_attempt_at > now:
            return delivered, notification.next_attempt_at
        event = await store.event_count(subscription_id, notification.id)
        body = await _payload(uow, clock, base, subscription, notification, event)
        headers = {"Content-Type": FHIR_JSON}
        for line in subscription.headers:
            name, _, value = line.partition(":")
            if name.strip() and value.strip():
                headers[name.strip()] = value.strip()
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            answer = await client.post(
                subscription.endpoint, content=json.dumps(body).encode(), headers=headers
            )
            status = answer.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration = int((time.perf_counter() - started) * 1000)
        retry_at = None if error is None else now + retry_delay(notification.attempts + 1)
        await store.record_attempt(
            notification,
            at=now,
            status_code=status,
            error=error,
            duration_ms=duration,
            next_attempt_at=retry_at,
        )
        if error is not None:
            return delivered, retry_at
        delivered += 1
    remaining = await store.pending(subscription_id, 1)
    return delivered, (clock.now() if remaining else None)


def _base(services: Any) -> str:
    settings = getattr(services, "settings", None)
    return (getattr(settings, "fhir_base_url", "") or DEFAULT_BASE).rstrip("/")


async def match_changes_job(ctx: JobContext, batch: int = 500) -> None:
    """Match new changes, then schedule a delivery for every subscription with work due."""
    clock = ctx.uow.clock
    added = await match_changes(ctx.uow, clock, batch=batch)
    now = clock.now()
    for subscription_id in await ctx.uow.fhir.subscriptions.due_subscriptions(now):
        await schedule_delivery(ctx.uow, subscription_id, now)
    if added:
        log.info("fhir notifications", extra={"added": added})


async def schedule_delivery(uow: UnitOfWork, subscription_id: UUID, at: datetime) -> None:
    key = f"{DELIVER_JOB}:{subscription_id}:{at.isoformat(timespec='seconds')}"
    await uow.jobs.schedule(
        JobRequest(DELIVER_JOB, {"subscription_id": str(subscription_id)}, key, run_after=at)
    )


async def deliver_job(ctx: JobContext, subscription_id: str) -> None:
    """Deliver one subscription's due notifications; schedule the next run if needed."""
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        _, again = await deliver(
            ctx.uow,
            ctx.uow.clock,
            UUID(subscription_id),
            client=client,
            base=_base(ctx.services),
        )
    if again is not None:
        await schedule_delivery(ctx.uow, UUID(subscription_id), again)


async def schedule_matching(uow: UnitOfWork, now: datetime) -> None:
    """At each sweep (about once a minute), when any subscription is active."""
    types: Sequence[str] = sorted(set(entity_types().values()))
    if await uow.fhir.subscriptions.active(types):
        key = f"{MATCH_JOB}:{now.strftime('%Y%m%dT%H%M')}"
        await uow.jobs.schedule(JobRequest(MATCH_JOB, {}, key))


PERIODIC = [schedule_matching]

HANDLERS: dict[str, Handler] = {MATCH_JOB: match_changes_job, DELIVER_JOB: deliver_job}
