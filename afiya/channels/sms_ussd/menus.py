"""USSD menu engine: screens as data, ``CON``/``END`` replies, one new input at a time.

Protocol: see :mod:`afiya.channels.sms_ussd.protocol` (Africa's Talking resends the
whole input history in ``text``; the engine acts on each input once).

Navigation: the language is chosen first; ``0`` goes back one screen and ``00`` returns
to the main menu. Anything personal (appointment, results, bill) sits behind an
identification step (PIN or date of birth); failed attempts are counted per phone
number by the caller and judged by :func:`afiya.domain.messaging.lockout.assess_lockout`.
Invalid input shows the same screen again with a short hint.

Every screen goes through :func:`~afiya.channels.sms_ussd.layout.fit_lines` (182 GSM
characters, 80 otherwise); names and lists give way, hints and choices do not.

The ``text`` field contains the PIN typed by the patient: callers must never log it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from afiya.channels.sms_ussd.layout import Line, LineKind, fit_lines
from afiya.channels.sms_ussd.protocol import UssdOutcome, UssdReply, UssdRequest
from afiya.channels.sms_ussd.services import (
    AppointmentSummary,
    ServiceNotAvailable,
    UssdServices,
)
from afiya.channels.sms_ussd.session import Frame, UssdSession
from afiya.channels.sms_ussd.texts import (
    LANGUAGE_CHOICES,
    LANGUAGE_HINT,
    LANGUAGE_MENU,
    MAIN_MENU,
    TEXTS,
)
from afiya.domain.messaging.lockout import LockoutPolicy, assess_lockout, record_failure
from afiya.domain.messaging.ports import DateTimeFormatter
from afiya.domain.shared.errors import DomainError

__all__ = ["UssdMenuEngine", "UssdOutcome", "UssdReply", "UssdRequest"]

BACK: Final = "0"
HOME: Final = "00"


@dataclass(slots=True)
class _Turn:
    """Mutable working copy of the session during one request."""

    request: UssdRequest
    now: datetime
    language: str | None
    patient_id: str | None
    stack: list[Frame]
    failures: tuple[datetime, ...]
    hint: str | None = None
    hint_key: str | None = None

    @property
    def top(self) -> Frame:
        return self.stack[-1]


class UssdMenuEngine:
    """Turns USSD requests into screens, calling :class:`UssdServices` for data."""

    def __init__(
        self,
        services: UssdServices,
        *,
        formatter: DateTimeFormatter,
        lockout_policy: LockoutPolicy | None = None,
        reschedule_limit: int = 4,
        cumulative_text: bool = True,
    ) -> None:
        """Configure the engine.

        Args:
            services: the use cases behind the menus.
            formatter: formats dates, times and amounts in the chosen language.
            lockout_policy: failures allowed before identification is locked.
            reschedule_limit: most slots offered when rescheduling.
            cumulative_text: ``True`` for gateways that resend the whole history in
                ``text`` (Africa's Talking); ``False`` when ``text`` is the last input only.
        """
        self._services = services
        self._formatter = formatter
        self._policy = lockout_policy or LockoutPolicy()
        self._reschedule_limit = reschedule_limit
        self._cumulative = cumulative_text

    async def handle(
        self,
        request: UssdRequest,
        *,
        session: UssdSession | None,
        pin_failures: Sequence[datetime] = (),
        now: datetime,
    ) -> UssdOutcome:
        """Answer one request.

        Args:
            request: the gateway's callback.
            session: the state stored after the previous request of this session, or
                ``None`` on the first one.
            pin_failures: recent failed identifications for ``request.phone_number``.
            now: current aware time (for the lockout).
        """
        if session is None or session.session_id != request.session_id:
            session = UssdSession.start(request.session_id)
        inputs = request.inputs
        if not self._cumulative:
            fresh = inputs
        elif len(inputs) >= session.consumed:
            fresh = inputs[session.consumed :]
        else:  # the gateway restarted the history: act on the latest input only
            fresh = inputs[-1:]
        turn = _Turn(
            request=request,
            now=now,
            language=session.language,
            patient_id=session.patient_id,
            stack=list(session.stack),
            failures=tuple(pin_failures),
        )
        reply: UssdReply | None = None
        for choice in fresh:
            reply = await self._step(turn, choice)
            if reply is None:
                reply = await self._render(turn)
            turn.hint = turn.hint_key = None
            if reply.end:
                break
        if reply is None:
            reply = await self._render(turn)
        new_session = replace(
            session,
            consumed=len(inputs) if self._cumulative else 0,
            language=turn.language,
            patient_id=turn.patient_id,
            stack=tuple(turn.stack),
        )
        return UssdOutcome(reply, new_session, turn.failures)

    # -- texts ---------------------------------------------------------------------

    def _t(self, turn: _Turn, key: str, **params: str) -> str:
        text = TEXTS[turn.language or "fr"][key]
        return text.format(**params) if params else text

    def _end(self, turn: _Turn, key: str, **params: str) -> UssdReply:
        text = self._t(turn, key, **params)
        return UssdReply(fit_lines([Line(text, LineKind.SHRINK)])[0], end=True)

    def _zone(self, name: str) -> tzinfo:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC

    def _when(self, turn: _Turn, starts_at: str, zone_name: str) -> dict[str, str]:
        moment = datetime.fromisoformat(starts_at)
        zone, language = self._zone(zone_name), turn.language or "fr"
        return {
            "date": self._formatter.format_date(moment, language=language, zone=zone),
            "time": self._formatter.format_time(moment, language=language, zone=zone),
        }

    # -- input ---------------------------------------------------------------------

    async def _step(self, turn: _Turn, choice: str) -> UssdReply | None:
        if choice == HOME:
            turn.stack = [Frame("language"), Frame("main")] if turn.language else turn.stack[:1]
            return None
        if choice == BACK:
            if len(turn.stack) > 1:
                turn.stack.pop()
            else:
                turn.hint = LANGUAGE_HINT
            return None
        handler = self._handlers().get(turn.top.screen)
        if handler is None:  # unknown screen in a stale record: start over at the menu
            turn.stack = [Frame("language"), Frame("main")] if turn.language else turn.stack[:1]
            return None
        return await handler(turn, choice)

    def _handlers(self) -> dict[str, Callable[[_Turn, str], Awaitable[UssdReply | None]]]:
        return {
            "language": self._on_language,
            "main": self._on_main,
            "identify": self._on_identify,
            "appointment": self._on_appointment,
            "cancel_confirm": self._on_cancel_confirm,
            "reschedule": self._on_reschedule,
        }

    def _invalid(self, turn: _Turn, key: str = "hint_invalid", **params: str) -> None:
        turn.hint = self._t(turn, key, **params)
        turn.hint_key = key

    async def _on_language(self, turn: _Turn, choice: str) -> UssdReply | None:
        language = LANGUAGE_CHOICES.get(choice)
        if language is None:
            turn.hint = LANGUAGE_HINT
            return None
        turn.language = language
        turn.stack = [turn.stack[0], Frame("main")]
        return None

    async def _on_main(self, turn: _Turn, choice: str) -> UssdReply | None:
        entry = MAIN_MENU.get(choice)
        if entry is None:
            self._invalid(turn)
            return None
        destination, personal = entry
        if personal and turn.patient_id is None:
            status = assess_lockout(turn.failures, turn.now, self._policy)
            if status.locked:
                return self._locked(turn, status.locked_until)
            turn.stack.append(Frame("identify", {"next": destination}))
            return None
        return await self._enter(turn, destination)

    def _locked(self, turn: _Turn, until: datetime | None) -> UssdReply:
        seconds = (until - turn.now).total_seconds() if until else 0
        return self._end(turn, "end_locked", minutes=str(max(1, -(-int(seconds) // 60))))

    async def _on_identify(self, turn: _Turn, choice: str) -> UssdReply | None:
        if not _plausible_secret(choice):
            self._invalid(turn, "hint_format")
            return None
        status = assess_lockout(turn.failures, turn.now, self._policy)
        if status.locked:
            return self._locked(turn, status.locked_until)
        try:
            patient_id = await self._services.identify_patient(
                phone_number=turn.request.phone_number, secret=choice
            )
        except DomainError:
            return self._end(turn, "end_failed")
        if patient_id is None:
            turn.failures, status = record_failure(turn.failures, turn.now, self._policy)
            if status.locked:
                return self._locked(turn, status.locked_until)
            self._invalid(turn, "hint_wrong_secret", remaining=str(status.remaining_attempts))
            return None
        turn.patient_id = patient_id
        turn.failures = ()
        destination = turn.stack.pop().context.get("next", "main")
        return await self._enter(turn, destination)

    async def _enter(self, turn: _Turn, destination: str) -> UssdReply | None:
        """Open a screen, or run a one-shot action that ends the session."""
        try:
            if destination == "callback":
                await self._services.request_callback(
                    phone_number=turn.request.phone_number,
                    patient_id=turn.patient_id,
                    language=turn.language or "fr",
                )
                return self._end(turn, "end_callback")
            if destination == "results":
                ready = await self._services.results_ready(patient_id=self._patient(turn))
                return self._end(turn, "end_results_ready" if ready else "end_no_results")
            if destination == "bill":
                try:
                    balance = await self._services.bill_balance(patient_id=self._patient(turn))
                except ServiceNotAvailable:
                    return self._end(turn, "end_bill_unavailable")
                if balance is None or balance.amount <= 0:
                    return self._end(turn, "end_no_balance")
                amount = self._formatter.format_amount(
                    balance.amount, currency=balance.currency, language=turn.language or "fr"
                )
                return self._end(turn, "end_balance", amount=amount)
        except DomainError:
            return self._end(turn, "end_failed")
        if destination != "main":
            turn.stack.append(Frame(destination))
        return None

    def _patient(self, turn: _Turn) -> str:
        if turn.patient_id is None:  # the menu never gets here unidentified
            raise RuntimeError("personal screen reached without identification")
        return turn.patient_id

    async def _on_appointment(self, turn: _Turn, choice: str) -> UssdReply | None:
        context = turn.top.context
        if choice == "1":
            try:
                await self._services.confirm_appointment(
                    patient_id=self._patient(turn), appointment_id=context["appointment_id"]
                )
            except DomainError:
                return self._end(turn, "end_failed")
            return self._end(
                turn, "end_confirmed", **self._when(turn, context["starts_at"], context["zone"])
            )
        if choice == "2":
            turn.stack.append(Frame("cancel_confirm", dict(context)))
            return None
        if choice == "3":
            turn.stack.append(Frame("reschedule", dict(context)))
            return None
        self._invalid(turn)
        return None

    async def _on_cancel_confirm(self, turn: _Turn, choice: str) -> UssdReply | None:
        context = turn.top.context
        if choice == "1":
            try:
                await self._services.cancel_appointment(
                    patient_id=self._patient(turn), appointment_id=context["appointment_id"]
                )
            except DomainError:
                return self._end(turn, "end_failed")
            return self._end(
                turn, "end_cancelled", **self._when(turn, context["starts_at"], context["zone"])
            )
        if choice == "2":
            turn.stack.pop()
            return None
        self._invalid(turn)
        return None

    async def _on_reschedule(self, turn: _Turn, choice: str) -> UssdReply | None:
        context = turn.top.context
        slot_id = context.get(f"slot.{choice}")
        if slot_id is None:
            self._invalid(turn)
            return None
        try:
            moved = await self._services.reschedule_appointment(
                patient_id=self._patient(turn),
                appointment_id=context["appointment_id"],
                slot_id=slot_id,
            )
        except DomainError:
            return self._end(turn, "end_failed")
        when = self._when(turn, moved.starts_at.isoformat(), moved.time_zone)
        return self._end(turn, "end_rescheduled", facility=moved.facility, **when)

    # -- screens -------------------------------------------------------------------

    async def _render(self, turn: _Turn) -> UssdReply:
        screen = turn.top.screen
        hint = [Line(turn.hint)] if turn.hint else []
        if screen == "language" or turn.language is None:
            turn.stack = turn.stack[:1]
            return self._screen([*hint, Line(LANGUAGE_MENU)])
        if screen == "main":
            return self._screen([*hint, Line(self._t(turn, "main"))])
        if screen == "identify":
            # After a wrong code the full instructions give way to a short "try again".
            retry = turn.hint_key == "hint_wrong_secret"
            prompt = self._t(turn, "identify_retry" if retry else "identify")
            return self._screen([*hint, Line(prompt), Line(self._t(turn, "back"))])
        if screen == "appointment":
            return await self._render_appointment(turn, hint)
        if screen == "cancel_confirm":
            text = self._t(turn, "cancel_confirm", **self._appointment_when(turn))
            return self._screen([*hint, Line(text)])
        if screen == "reschedule":
            return await self._render_reschedule(turn, hint)
        # A screen this version does not know (a record left by an older release).
        turn.stack = [Frame("language"), Frame("main")]
        return await self._render(turn)

    @staticmethod
    def _screen(lines: Sequence[Line]) -> UssdReply:
        return UssdReply(fit_lines(lines)[0], end=False)

    def _appointment_when(self, turn: _Turn) -> dict[str, str]:
        context = turn.top.context
        return self._when(turn, context["starts_at"], context["zone"])

    async def _render_appointment(self, turn: _Turn, hint: list[Line]) -> UssdReply:
        if "appointment_id" not in turn.top.context:
            try:
                found = await self._services.next_appointment(patient_id=self._patient(turn))
            except DomainError:
                return self._end(turn, "end_failed")
            if found is None:
                return self._end(turn, "end_no_appointment")
            turn.stack[-1] = turn.top.with_context(**_appointment_context(found))
        context = turn.top.context
        return self._screen(
            [
                *hint,
                Line(self._t(turn, "appointment", **self._appointment_when(turn))),
                Line(context["facility"], LineKind.SHRINK),
                Line(self._t(turn, "appointment_options")),
                Line(self._t(turn, "back")),
            ]
        )

    async def _render_reschedule(self, turn: _Turn, hint: list[Line]) -> UssdReply:
        context = dict(turn.top.context)
        if "slot.1" not in context:
            try:
                slots = await self._services.reschedule_options(
                    patient_id=self._patient(turn),
                    appointment_id=context["appointment_id"],
                    limit=self._reschedule_limit,
                )
            except DomainError:
                return self._end(turn, "end_failed")
            if not slots:
                return self._end(turn, "end_no_slots")
            for number, slot in enumerate(slots[: self._reschedule_limit], start=1):
                context[f"slot.{number}"] = slot.slot_id
                context[f"slot.{number}.at"] = slot.starts_at.isoformat()
        items = []
        number = 1
        while f"slot.{number}" in context:
            when = self._when(turn, context[f"slot.{number}.at"], context["zone"])
            items.append(Line(f"{number} {when['date']} {when['time']}", LineKind.DROP))
            number += 1
        title = Line(self._t(turn, "reschedule"))
        text, shown = fit_lines([*hint, title, *items, Line(self._t(turn, "back"))])
        # A slot that did not fit on the screen cannot be chosen either.
        for hidden in range(shown + 1, number):
            context.pop(f"slot.{hidden}", None)
            context.pop(f"slot.{hidden}.at", None)
        turn.stack[-1] = Frame("reschedule", context)
        return UssdReply(text, end=False)


def _appointment_context(found: AppointmentSummary) -> dict[str, str]:
    return {
        "appointment_id": found.appointment_id,
        "starts_at": found.starts_at.isoformat(),
        "zone": found.time_zone,
        "facility": found.facility,
    }


def _plausible_secret(choice: str) -> bool:
    """A 4-6 digit PIN or a real date of birth written DDMMYYYY."""
    if not choice.isascii() or not choice.isdigit():
        return False
    if 4 <= len(choice) <= 6:
        return True
    if len(choice) == 8:
        try:
            date(int(choice[4:]), int(choice[2:4]), int(choice[:2]))
        except ValueError:
            return False
        return True
    return False
