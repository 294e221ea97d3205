"""Messaging routes: SMS gateway callbacks (``webhooks.py``), the patient's USSD PIN, callback
requests staff handle, and staff notifications (list, mark read, live stream)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage

from afiya.api.dependencies import CurrentPrincipal, Uow
from afiya.api.messaging import wiring
from afiya.api.messaging.schemas import (
    CallbackClose,
    CallbackRead,
    StaffFeedItemRead,
    UssdPinRead,
    UssdPinSet,
)
from afiya.api.messaging.webhooks import SmsWebhookController
from afiya.api.pagination import Page, check_limit, decode_cursor, next_cursor
from afiya.api.security import PERMISSION, audit_context
from afiya.domain.access.permissions import Permission
from afiya.domain.access.policy import authorize, scope_of
from afiya.domain.audit.model import AuditRecord
from afiya.domain.patients.errors import PatientNotFound
from afiya.domain.shared.errors import NotFound
from afiya.domain.shared.i18n import N_

HEARTBEAT_SECONDS = 15.0


class CallbackNotFound(NotFound):
    code = "callback_not_found"
    default_message = N_("This callback request does not exist.")


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    default_message = N_("This notification does not exist.")


def _now(request: Request[Any, Any, Any]) -> datetime:
    return request.app.state.container.clock.now()  # type: ignore[no-any-return]


class UssdPinController(Controller):
    path = "/api/v1/patients/{patient_id:uuid}/ussd-pin"
    tags = ["messaging"]

    @post(
        "/",
        operation_id="patients_ussd_pin_set",
        summary="Set the patient's USSD PIN",
        opt={PERMISSION: Permission.PATIENTS_WRITE},
        status_code=200,
    )
    async def set_pin(
        self,
        request: Request[Any, Any, Any],
        patient_id: FromPath[UUID],
        data: JSONBody[UssdPinSet],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> UssdPinRead:
        """Stores an argon2id hash of a 4-6 digit PIN (replacing the previous one). With
        it, or with the date of birth, the patient identifies on the USSD menu. The PIN
        itself is never stored, logged or returned."""
        patient = await uow.patients.get(patient_id)
        if patient is None:
            raise PatientNotFound()
        authorize(principal, Permission.PATIENTS_WRITE, patient.unit_path)
        now = _now(request)
        pin_hash = await request.app.state.container.hasher.hash(data.pin)
        await uow.messaging.set_pin(patient_id, pin_hash, now=now, by=principal.user_id)
        await uow.audit.record(
            AuditRecord("patient.ussd_pin_set", "patient", str(patient_id), patient_id=patient_id)
        )
        return UssdPinRead(str(patient_id), now)


class CallbackController(Controller):
    path = "/api/v1/messaging/callbacks"
    tags = ["messaging"]

    @get(
        "/",
        operation_id="messaging_callbacks_list",
        summary="List callback requests",
        opt={PERMISSION: Permission.APPOINTMENTS_READ},
    )
    async def list_callbacks(
        self,
        principal: CurrentPrincipal,
        uow: Uow,
        status: FromQuery[str | None] = "open",
        limit: FromQuery[int] = 50,
    ) -> list[CallbackRead]:
        """Patients who asked (over USSD) to be called back, newest first, in the
        caller's facilities; each read is audited."""
        found = await uow.messaging.callbacks(
            scope_of(principal), status=status, limit=check_limit(limit)
        )
        for item in found:
            await uow.audit.record(
                AuditRecord(
                    "callback.read",
                    "callback_request",
                    item.id,
                    patient_id=UUID(item.patient_id) if item.patient_id else None,
                )
            )
        return [CallbackRead.of(item) for item in found]

    @post(
        "/{callback_id:uuid}/done",
        operation_id="messaging_callbacks_done",
        summary="Close a callback request",
        opt={PERMISSION: Permission.APPOINTMENTS_WRITE},
        status_code=200,
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        callback_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
        data: JSONBody[CallbackClose | None] = None,
    ) -> CallbackRead:
        """Marks the request handled (repeating it changes nothing)."""
        found = await uow.messaging.callback(callback_id)
        if found is None:
            raise CallbackNotFound()
        authorize(principal, Permission.APPOINTMENTS_WRITE, found.unit_path)
        closed = await uow.messaging.close_callback(
            callback_id, by=principal.user_id, now=_now(request), note=data.note if data else None
        )
        assert closed is not None
        await uow.audit.record(
            AuditRecord(
                "callback.done",
                "callback_request",
                closed.id,
                patient_id=UUID(closed.patient_id) if closed.patient_id else None,
            )
        )
        return CallbackRead.of(closed)


class StaffFeedController(Controller):
    """``/api/v1/notifications/feed`` (facility-wide items of this module) and the live
    ``/api/v1/notifications/stream``; ``GET /api/v1/notifications`` itself is the
    clinical module's per-user list (critical results)."""

    path = "/api/v1/notifications"
    tags = ["messaging"]

    @get(
        "/feed",
        operation_id="notifications_feed_list",
        summary="List the facility's staff feed",
        opt={PERMISSION: Permission.APPOINTMENTS_READ},
    )
    async def list_notifications(
        self,
        principal: CurrentPrincipal,
        uow: Uow,
        unread: FromQuery[bool] = False,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> Page[StaffFeedItemRead]:
        """Notifications of the caller's facilities (a reminder failed, a callback was
        asked...), newest first, with the caller's own read mark."""
        limit = check_limit(limit)
        before = decode_cursor(cursor)
        found = await uow.messaging.feed(
            scope_of(principal),
            user_id=principal.user_id,
            unread_only=unread,
            before=(datetime.fromisoformat(before[0]), before[1]) if before else None,
            limit=limit,
        )
        for item in found:
            if item.patient_id:
                await uow.audit.record(
                    AuditRecord(
                        "notification.read",
                        "staff_feed_item",
                        item.id,
                        patient_id=UUID(item.patient_id),
                    )
                )
        return Page(
            items=[StaffFeedItemRead.of(item) for item in found],
            next_cursor=next_cursor(found, limit, lambda f: [f.occurred_at.isoformat(), f.id]),
            limit=limit,
        )

    @post(
        "/feed/{item_id:uuid}/read",
        operation_id="notifications_feed_mark_read",
        summary="Mark a feed item read",
        opt={PERMISSION: Permission.APPOINTMENTS_READ},
        status_code=204,
    )
    async def mark_read(
        self,
        request: Request[Any, Any, Any],
        item_id: FromPath[UUID],
        principal: CurrentPrincipal,
        uow: Uow,
    ) -> None:
        """For the caller only; other staff still see it unread."""
        found = await uow.messaging.feed_item_path(item_id)
        if found is None:
            raise NotificationNotFound()
        authorize(principal, Permission.APPOINTMENTS_READ, found[0])
        await uow.messaging.mark_read(item_id, principal.user_id, now=_now(request))

    @get(
        "/stream",
        operation_id="notifications_stream",
        summary="Live staff notifications (Server-Sent Events)",
        opt={PERMISSION: Permission.APPOINTMENTS_READ},
    )
    async def stream(
        self, request: Request[Any, Any, Any], principal: CurrentPrincipal
    ) -> ServerSentEvent:
        """``text/event-stream`` of ``patient_arrived``, ``reminder_failed``,
        ``callback_requested`` (and kinds other modules register) in the caller's
        facilities, as JSON with ids only. A comment line every 15 s keeps proxies
        open; the stream ends when the access token would expire, and the client
        reconnects with a fresh token."""
        container = request.app.state.container
        hub = wiring.notification_hub(container)
        scope = scope_of(principal)
        context = audit_context(request)
        deadline = time.monotonic() + container.settings.access_token_minutes * 60

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            async with hub.subscribe() as queue:
                yield ServerSentEventMessage(comment="ready")
                while time.monotonic() < deadline:
                    wait = min(HEARTBEAT_SECONDS, max(0.0, deadline - time.monotonic()))
                    try:
                        event = await asyncio.wait_for(queue.get(), timeout=wait)
                    except TimeoutError:
                        yield ServerSentEventMessage(comment="keep-alive")
                        continue
                    if not event.visible_to(principal.user_id, scope):
                        continue
                    if event.patient_id:
                        await container.uow.record_standalone(
                            context,
                            AuditRecord(
                                "notification.stream",
                                event.resource_type,
                                event.resource_id,
                                patient_id=UUID(event.patient_id),
                                details={"kind": event.kind},
                            ),
                        )
                    yield ServerSentEventMessage(
                        data=event.to_json(), event=event.kind, id=event.id
                    )

        return ServerSentEvent(events())


CONTROLLERS = [
    SmsWebhookController,
    UssdPinController,
    CallbackController,
    StaffFeedController,
]
