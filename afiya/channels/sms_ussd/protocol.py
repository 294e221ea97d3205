"""The USSD wire protocol as Africa's Talking speaks it: requests, replies, outcomes.

Each request carries ``sessionId``, ``serviceCode``, ``phoneNumber``, ``networkCode`` and
``text``, the ``*``-joined history of everything typed in the session (empty on the
first request). The answer, ``text/plain``, is ``CON <screen>`` to wait for input or
``END <screen>`` to close the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from afiya.channels.sms_ussd.session import UssdSession


@dataclass(frozen=True, slots=True)
class UssdRequest:
    """One USSD callback from the gateway."""

    session_id: str
    service_code: str
    phone_number: str
    text: str
    network_code: str | None = None

    @classmethod
    def from_africastalking(cls, form: Mapping[str, str]) -> UssdRequest:
        """Read Africa's Talking's form fields; raises ``ValueError`` if one is missing."""
        try:
            return cls(
                session_id=form["sessionId"],
                service_code=form["serviceCode"],
                phone_number=form["phoneNumber"],
                text=form.get("text") or "",
                network_code=form.get("networkCode") or None,
            )
        except KeyError as exc:
            raise ValueError(f"missing USSD field {exc.args[0]}") from exc

    @property
    def inputs(self) -> list[str]:
        return [part.strip() for part in self.text.split("*")] if self.text else []


@dataclass(frozen=True, slots=True)
class UssdReply:
    """A screen and whether the session goes on."""

    text: str
    end: bool

    def render(self) -> str:
        """The body to answer the gateway with (``text/plain``)."""
        return f"{'END' if self.end else 'CON'} {self.text}"


@dataclass(frozen=True, slots=True)
class UssdOutcome:
    """What to answer, and the state to keep for the next request of the session.

    Attributes:
        reply: the screen.
        session: state to store under the session id (drop it when ``reply.end``).
        pin_failures: failed identification times to store for the phone number.
    """

    reply: UssdReply
    session: UssdSession
    pin_failures: tuple[datetime, ...]
