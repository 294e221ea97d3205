"""Gateway plug-ins, per-facility/country selection, and the console gateway."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from afiya.adapters.sms import (
    AfricasTalkingSms,
    ConsoleSms,
    GatewayRoute,
    GatewaySelector,
    SmsGatewayRegistry,
    TwilioSms,
)
from afiya.domain.messaging.ports import OutboundSms, SmsGateway, SmsPermanentError, SmsReceipt


class RecordingGateway:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    async def send(self, message: OutboundSms) -> SmsReceipt:
        return SmsReceipt(self.name, "1", "sent")

    async def aclose(self) -> None:
        self.closed = True


class TestRegistry:
    async def test_builtin_providers_are_built_from_settings(self) -> None:
        registry = SmsGatewayRegistry.with_builtins()
        assert registry.names() == ["africastalking", "console", "twilio"]
        at = registry.create("AfricasTalking", {"username": "u", "api_key": "k"})
        tw = registry.create(
            "twilio", {"account_sid": "AC1", "auth_token": "t", "from_number": "+15005550006"}
        )
        assert isinstance(at, AfricasTalkingSms) and isinstance(tw, TwilioSms)
        assert isinstance(registry.create("console"), ConsoleSms)
        await at.aclose()
        await tw.aclose()

    def test_missing_settings_are_named(self) -> None:
        with pytest.raises(ValueError, match="api_key"):
            SmsGatewayRegistry.with_builtins().create("africastalking", {"username": "u"})

    def test_unknown_provider_lists_the_known_ones(self) -> None:
        with pytest.raises(KeyError, match="console"):
            SmsGatewayRegistry.with_builtins().create("orange")

    def test_plugin_can_be_added_but_not_silently_shadowed(self) -> None:
        registry = SmsGatewayRegistry.with_builtins()

        def factory(config: Any) -> SmsGateway:
            return RecordingGateway("orange-sms")

        registry.register("orange-sms", factory)
        assert registry.create("orange-sms").name == "orange-sms"
        with pytest.raises(ValueError, match="already"):
            registry.register("console", factory)
        registry.register("console", factory, replace=True)
        assert registry.create("console").name == "orange-sms"

    def test_entry_points_of_an_unknown_group_load_nothing(self) -> None:
        assert SmsGatewayRegistry().load_entry_points("afiya.no_such_group") == []


class TestSelector:
    @pytest.fixture
    def gateways(self) -> dict[str, RecordingGateway]:
        return {name: RecordingGateway(name) for name in ("console", "at", "twilio", "local")}

    def test_precedence_facility_and_country_then_facility_then_country(
        self, gateways: dict[str, RecordingGateway]
    ) -> None:
        selector = GatewaySelector(
            gateways,
            default="console",
            routes=[
                GatewayRoute("at", country="mr"),
                GatewayRoute("twilio", country="ML"),
                GatewayRoute("local", facility_id="fosa-7"),
                GatewayRoute("twilio", facility_id="fosa-7", country="FR"),
            ],
        )
        assert selector.select(to="+22236123456").name == "at"
        assert selector.select(to="+22376123456").name == "twilio"
        assert selector.select(to="+22790123456").name == "console"
        assert selector.select(to="+22236123456", facility_id="fosa-7").name == "local"
        assert selector.select(to="+33612345678", facility_id="fosa-7").name == "twilio"
        assert selector.select(country="mr").name == "at"
        assert selector.select().name == "console"

    def test_routes_to_unconfigured_gateways_are_refused(
        self, gateways: dict[str, RecordingGateway]
    ) -> None:
        with pytest.raises(ValueError, match="unconfigured"):
            GatewaySelector(gateways, default="console", routes=[GatewayRoute("orange")])
        with pytest.raises(ValueError, match="default"):
            GatewaySelector(gateways, default="orange")

    async def test_closing_the_selector_closes_every_gateway(
        self, gateways: dict[str, RecordingGateway]
    ) -> None:
        await GatewaySelector(gateways, default="console").aclose()
        assert all(g.closed for g in gateways.values())


class TestConsoleGateway:
    async def test_logs_masked_number_and_never_the_text(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        console = ConsoleSms()
        message = OutboundSms("+22236123456", "Aminata, RDV le 12/03 à 9h30", "reminder:a:sms")
        with caplog.at_level(logging.INFO, logger="afiya.sms.console"):
            receipt = await console.send(message)

        assert receipt.status == "sent" and receipt.provider == "console"
        assert receipt.provider_message_id and receipt.provider_message_id.startswith("console-")
        assert console.outbox[-1] == message
        logged = caplog.text
        assert "+222******56" in logged and "segments=1" in logged
        assert "Aminata" not in logged and "36123456" not in logged

    async def test_refuses_what_a_real_gateway_would(self) -> None:
        with pytest.raises(SmsPermanentError):
            await ConsoleSms().send(OutboundSms("36123456", "x", "k"))
        with pytest.raises(SmsPermanentError):
            await ConsoleSms().send(OutboundSms("+22236123456", "", "k"))

    async def test_outbox_is_bounded(self) -> None:
        console = ConsoleSms(keep_last=2)
        for index in range(3):
            await console.send(OutboundSms("+22236123456", f"m{index}", f"k{index}"))
        assert [m.body for m in console.outbox] == ["m1", "m2"]
