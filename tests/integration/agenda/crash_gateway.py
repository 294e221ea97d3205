"""A gateway plug-in for the reminder crash test, loaded by real workers through
AFIYA_JOB_MODULES: it hands the SMS to the gateway double, then kills its worker before
the job can record anything, the first time only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from afiya.adapters.sms.africastalking import AfricasTalkingSms
from afiya.adapters.sms.registry import GATEWAYS
from afiya.domain.messaging.ports import OutboundSms, SmsReceipt


class CrashAfterSend(AfricasTalkingSms):
    marker: Path

    async def send(self, message: OutboundSms) -> SmsReceipt:
        receipt = await super().send(message)
        if not self.marker.exists():
            self.marker.write_text("sent, then died")
            os._exit(17)
        return receipt


def _factory(config: Mapping[str, Any]) -> CrashAfterSend:
    gateway = CrashAfterSend(
        username=str(config["username"]),
        api_key=str(config["api_key"]),
        base_url=str(config["base_url"]),
    )
    gateway.marker = Path(str(config["marker"]))
    return gateway


GATEWAYS.register("crash_after_send", _factory, replace=True)
HANDLERS: dict[str, Any] = {}
