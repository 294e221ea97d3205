"""USSD session state, kept by the caller between two requests of one session.

Africa's Talking repeats the whole input history in ``text`` on every request. The
engine remembers how many inputs it has already consumed, so each input is acted on
once (a PIN is checked once, an appointment cancelled once) and only new inputs are
processed. The state is small and JSON-friendly (``to_dict``/``from_dict``) so the
caller can keep it in Redis or a table with a few minutes' expiry.

The session holds the identified patient's id, never the PIN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Frame:
    """One screen on the navigation stack and what it showed (ids, not texts)."""

    screen: str
    context: Mapping[str, str] = field(default_factory=dict)

    def with_context(self, **values: str) -> Frame:
        return replace(self, context={**self.context, **values})


@dataclass(frozen=True, slots=True)
class UssdSession:
    """Where a USSD session stands."""

    session_id: str
    consumed: int = 0
    language: str | None = None
    patient_id: str | None = None
    stack: tuple[Frame, ...] = (Frame("language"),)

    @classmethod
    def start(cls, session_id: str) -> UssdSession:
        return cls(session_id=session_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "consumed": self.consumed,
            "language": self.language,
            "patient_id": self.patient_id,
            "stack": [{"screen": f.screen, "context": dict(f.context)} for f in self.stack],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UssdSession:
        """Rebuild a session; raises ``ValueError`` on a malformed record."""
        try:
            stack = tuple(
                Frame(str(item["screen"]), {str(k): str(v) for k, v in item["context"].items()})
                for item in data["stack"]
            )
            session = cls(
                session_id=str(data["session_id"]),
                consumed=int(data["consumed"]),
                language=None if data.get("language") is None else str(data["language"]),
                patient_id=None if data.get("patient_id") is None else str(data["patient_id"]),
                stack=stack,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError("malformed USSD session record") from exc
        if not stack or session.consumed < 0:
            raise ValueError("malformed USSD session record")
        return session
