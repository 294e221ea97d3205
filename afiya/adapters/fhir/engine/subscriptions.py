"""FHIR Subscription (rest-hook): create, read, search, update, delete.

A subscription belongs to the user who created it and sees what that user may see:
criteria are a search run with the owner's current permissions and facilities when a
change arrives (:mod:`afiya.jobs.fhir`). Only the owner reads or changes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afiya.adapters.fhir.common import instant, meta, prune
from afiya.adapters.fhir.engine.context import FhirContext
from afiya.adapters.fhir.engine.errors import FhirError
from afiya.adapters.fhir.engine.registry import (
    REGISTRY,
    Resource,
    ResourceType,
    SearchResult,
    WriteResult,
    register,
    uuid_of,
)
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import authorize
from afiya.domain.fhir.search import ParamType, SearchRequest, SearchSpec, parse_search
from afiya.domain.fhir.subscriptions import (
    DeliveryState,
    Payload,
    Subscription,
    SubscriptionStatus,
    check_endpoint,
    parse_criteria,
)
from afiya.domain.shared.errors import FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message
from afiya.domain.shared.ids import uuid7

SPEC = SearchSpec(params={"status": ParamType.TOKEN})
FULL_PAYLOAD = "application/fhir+json"


def subscribable() -> list[str]:
    return sorted(name for name, r in REGISTRY.items() if r.subscribable)


def to_fhir(s: Subscription, state: DeliveryState) -> Resource:
    status = state.status(s.status)
    return prune(  # type: ignore[no-any-return]
        {
            "resourceType": "Subscription",
            "id": str(s.id),
            "meta": meta(s.version, s.updated_at),
            "status": status.value,
            "end": instant(s.end_at),
            "reason": s.reason or "Afiya subscription",
            "criteria": s.criteria,
            "error": state.last_error if status is SubscriptionStatus.ERROR else None,
            "channel": {
                "type": "rest-hook",
                "endpoint": s.endpoint,
                "payload": FULL_PAYLOAD if s.payload is Payload.FULL else None,
                # headers carry the subscriber's secret: never shown back
            },
        }
    )


def _from_fhir(
    ctx: FhirContext, resource: Resource, ident: Any, *, allow_http: bool
) -> Subscription:
    channel = resource.get("channel") or {}
    if channel.get("type") != "rest-hook":
        raise ValidationFailed(
            [
                FieldError(
                    "Subscription.channel.type",
                    Message(N_("Only rest-hook channels are offered.")),
                    "not-supported",
                )
            ]
        )
    criteria = parse_criteria(str(resource.get("criteria") or ""), subscribable())
    definition = REGISTRY[criteria.resource_type]
    parse_search(criteria.resource_type, criteria.query, definition.search_spec)  # 400 if bad
    authorize(ctx.principal, definition.read_permission)
    endpoint = str(channel.get("endpoint") or "")
    try:
        check_endpoint(endpoint, allow_plain_http=allow_http)
    except ValidationFailed as exc:
        raise ValidationFailed(
            [FieldError("Subscription.channel.endpoint", e.message, e.code) for e in exc.errors]
        ) from exc
    payload = channel.get("payload")
    if payload not in (None, FULL_PAYLOAD, "application/json"):
        raise ValidationFailed(
            [
                FieldError(
                    "Subscription.channel.payload",
                    Message(N_("The payload is application/fhir+json or absent (id-only).")),
                    "not-supported",
                )
            ]
        )
    status = resource.get("status")
    wanted = SubscriptionStatus.OFF if status == "off" else SubscriptionStatus.ACTIVE
    end = resource.get("end")
    return Subscription(
        id=ident,
        status=wanted,
        criteria=criteria.text,
        resource_type=criteria.resource_type,
        endpoint=endpoint,
        payload=Payload.FULL if payload else Payload.ID_ONLY,
        owner_id=ctx.principal.user_id,
        headers=tuple(str(h) for h in channel.get("header") or []),
        reason=str(resource.get("reason") or ""),
        end_at=datetime.fromisoformat(end.replace("Z", "+00:00")) if end else None,
    )


async def _own(ctx: FhirContext, ident: str) -> Subscription:
    found = await ctx.uow.fhir.subscriptions.get(uuid_of(ident))
    if found is None or found.owner_id != ctx.principal.user_id:
        raise NotFound()
    return found


async def read(ctx: FhirContext, ident: str) -> Resource:
    found = await _own(ctx, ident)
    return to_fhir(found, await ctx.uow.fhir.subscriptions.state(found.id))


async def search(ctx: FhirContext, request: SearchRequest) -> SearchResult:
    store = ctx.uow.fhir.subscriptions
    mine = await store.owned(ctx.principal.user_id, offset=0, limit=10_000)
    statuses = {v.code for c in request.values("status") for v in c.values}  # type: ignore[attr-defined]
    out = []
    for s in mine:
        resource = to_fhir(s, await store.state(s.id))
        if not statuses or resource["status"] in statuses:
            out.append(resource)
    page = out[request.offset : request.offset + request.count]
    return SearchResult(page, len(out))


async def create(ctx: FhirContext, resource: Resource) -> WriteResult:
    subscription = _from_fhir(ctx, resource, uuid7(), allow_http=ctx.allow_http)
    stored = await ctx.uow.fhir.subscriptions.save(subscription)
    return WriteResult(to_fhir(stored, DeliveryState()), True)


async def update(
    ctx: FhirContext, ident: str, resource: Resource, if_match: int | None
) -> WriteResult:
    current = await _own(ctx, ident)
    if if_match is not None and if_match != current.version:
        raise FhirError(
            412,
            "conflict",
            Message(
                N_("The record is at version {current}, not {expected}: reload it."),
                {"current": current.version, "expected": if_match},
            ),
            code="version_mismatch",
        )
    changed = _from_fhir(ctx, resource, current.id, allow_http=ctx.allow_http)
    stored = await ctx.uow.fhir.subscriptions.save(changed)
    return WriteResult(to_fhir(stored, await ctx.uow.fhir.subscriptions.state(stored.id)), False)


async def delete(ctx: FhirContext, ident: str) -> None:
    await _own(ctx, ident)
    await ctx.uow.fhir.subscriptions.delete(uuid_of(ident))


register(
    ResourceType(
        name="Subscription",
        read_permission=Permission.PATIENTS_READ,
        write_permission=Permission.PATIENTS_READ,
        search_spec=SPEC,
        read=read,
        search=search,
        create=create,
        update=update,
        delete=delete,
        param_docs={"status": "active, error or off"},
        documentation=(
            "rest-hook only; criteria on a subscribable type (Patient, Appointment, "
            "ServiceRequest) with that type's search "
            "parameters, evaluated with the owner's current permissions and facilities. "
            "Without payload a notification is an id-only history Bundle; with "
            "application/fhir+json it is the resource. Delivery is at least once, in "
            "order, retried with back-off (30 s doubling to 1 h) while the endpoint is "
            "down; status becomes error after 5 failed attempts and active again when a "
            "delivery succeeds. channel.header values are stored encrypted and never shown."
        ),
    )
)
