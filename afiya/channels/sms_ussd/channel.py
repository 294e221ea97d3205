"""One USSD callback, end to end: session state, lockout, menus, database services.

The HTTP route (``afiya.api.messaging``) authenticates the gateway and hands the form
here with the request's unit of work. Session state comes from a
:class:`~afiya.channels.sms_ussd.store.UssdSessionStore` (Redis or memory); failed
identifications come from the ``ussd_lockout`` table, keyed by the phone number's blind
index, and are written back in the request's transaction, so a lock holds across
sessions, processes and restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afiya.adapters.db.uow import UnitOfWork
from afiya.channels.sms_ussd.database import SqlUssdServices
from afiya.channels.sms_ussd.menus import UssdMenuEngine
from afiya.channels.sms_ussd.protocol import UssdReply, UssdRequest
from afiya.channels.sms_ussd.store import UssdSessionStore
from afiya.domain.messaging.lockout import LockoutPolicy
from afiya.domain.messaging.ports import DateTimeFormatter


class UssdChannel:
    """Answers USSD callbacks; one per process."""

    def __init__(
        self,
        *,
        sessions: UssdSessionStore,
        hasher: Any,
        formatter: DateTimeFormatter,
        lockout_policy: LockoutPolicy,
    ) -> None:
        self.sessions = sessions
        self._hasher = hasher
        self._formatter = formatter
        self._policy = lockout_policy

    async def answer(self, request: UssdRequest, *, uow: UnitOfWork, now: datetime) -> UssdReply:
        """The screen for one callback; state and failures are stored before returning."""
        session = await self.sessions.load(request.session_id)
        failures = await uow.messaging.failures(request.phone_number)
        engine = UssdMenuEngine(
            SqlUssdServices(uow, hasher=self._hasher, now=now),
            formatter=self._formatter,
            lockout_policy=self._policy,
        )
        outcome = await engine.handle(request, session=session, pin_failures=failures, now=now)
        if tuple(outcome.pin_failures) != tuple(failures):
            await uow.messaging.save_failures(request.phone_number, outcome.pin_failures, now=now)
        if outcome.reply.end:
            await self.sessions.drop(request.session_id)
        else:
            await self.sessions.save(outcome.session)
        return outcome.reply
