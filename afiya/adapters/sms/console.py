"""The embedded SMS gateway: writes a line to the log instead of sending.

Used by ``make run`` and the demo. The log line names the masked number, the message
key, the encoding and the segment count, never the text: a reminder carries a patient's
name, an appointment time and a facility, and logs are read by more people than
patient records are. The last messages are kept in memory (``outbox``) for a developer
console or a test to read.
"""

from __future__ import annotations

import logging
from collections import deque

from afiya.domain.messaging.phone import is_e164, mask_phone
from afiya.domain.messaging.ports import OutboundSms, SmsPermanentError, SmsReceipt
from afiya.domain.messaging.sms_encoding import analyze
from afiya.domain.shared.ids import uuid7

_log = logging.getLogger("afiya.sms.console")


class ConsoleSms:
    """An :class:`~afiya.domain.messaging.ports.SmsGateway` that only logs."""

    name = "console"

    def __init__(self, *, logger: logging.Logger | None = None, keep_last: int = 100) -> None:
        self._log = logger or _log
        self.outbox: deque[OutboundSms] = deque(maxlen=keep_last)

    async def send(self, message: OutboundSms) -> SmsReceipt:
        """Log and keep the message; refuse numbers a real gateway would refuse."""
        if not is_e164(message.to):
            raise SmsPermanentError("console: recipient is not an E.164 number", code="to")
        if not message.body:
            raise SmsPermanentError("console: empty message", code="body")
        info = analyze(message.body)
        message_id = f"console-{uuid7()}"
        self.outbox.append(message)
        self._log.info(
            "SMS to %s key=%s id=%s encoding=%s segments=%d",
            mask_phone(message.to),
            message.idempotency_key,
            message_id,
            info.encoding.value,
            info.segments,
        )
        return SmsReceipt(
            provider=self.name,
            provider_message_id=message_id,
            status="sent",
            raw={"segments": info.segments, "encoding": info.encoding.value},
        )

    async def aclose(self) -> None:
        """Nothing to release; present so every gateway can be closed the same way."""
