"""SMS gateways as plug-ins, and the choice of one per facility or country.

Providers differ by country (Africa's Talking has direct routes in some, Twilio in
others) and a facility may bring its own contract. The registry maps a provider name to
a factory that builds a gateway from plain settings; third-party packages add providers
through the ``afiya.sms_gateways`` entry-point group. :class:`GatewaySelector` then
picks, for a message, the gateway configured for its facility, else for the
recipient's country, else the default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Final

from afiya.adapters.sms.africastalking import LIVE_BASE_URL as AT_LIVE_BASE_URL
from afiya.adapters.sms.africastalking import AfricasTalkingSms
from afiya.adapters.sms.console import ConsoleSms
from afiya.adapters.sms.twilio import LIVE_BASE_URL as TWILIO_LIVE_BASE_URL
from afiya.adapters.sms.twilio import TwilioSms
from afiya.domain.messaging.phone import country_of
from afiya.domain.messaging.ports import SmsGateway

ENTRY_POINT_GROUP: Final = "afiya.sms_gateways"
GatewayFactory = Callable[[Mapping[str, Any]], SmsGateway]

_log = logging.getLogger("afiya.sms.registry")


def _require(config: Mapping[str, Any], provider: str, *keys: str) -> None:
    missing = [key for key in keys if not config.get(key)]
    if missing:
        raise ValueError(f"{provider} gateway settings lack: {', '.join(missing)}")


def _optional_float(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def _console(config: Mapping[str, Any]) -> SmsGateway:
    return ConsoleSms()


def _africastalking(config: Mapping[str, Any]) -> SmsGateway:
    _require(config, "africastalking", "username", "api_key")
    return AfricasTalkingSms(
        username=str(config["username"]),
        api_key=str(config["api_key"]),
        sender_id=config.get("sender_id") or None,
        base_url=str(config.get("base_url") or AT_LIVE_BASE_URL),
        enqueue=bool(config.get("enqueue", False)),
        timeout=_optional_float(config.get("timeout")),
    )


def _twilio(config: Mapping[str, Any]) -> SmsGateway:
    _require(config, "twilio", "account_sid", "auth_token")
    return TwilioSms(
        account_sid=str(config["account_sid"]),
        auth_token=str(config["auth_token"]),
        from_number=config.get("from_number") or None,
        messaging_service_sid=config.get("messaging_service_sid") or None,
        status_callback=config.get("status_callback") or None,
        base_url=str(config.get("base_url") or TWILIO_LIVE_BASE_URL),
        timeout=_optional_float(config.get("timeout")),
    )


class SmsGatewayRegistry:
    """Provider name -> factory building a gateway from settings."""

    def __init__(self) -> None:
        self._factories: dict[str, GatewayFactory] = {}

    @classmethod
    def with_builtins(cls) -> SmsGatewayRegistry:
        """A registry knowing ``console``, ``africastalking`` and ``twilio``."""
        registry = cls()
        registry.register("console", _console)
        registry.register("africastalking", _africastalking)
        registry.register("twilio", _twilio)
        return registry

    def register(self, name: str, factory: GatewayFactory, *, replace: bool = False) -> None:
        """Add a provider; refuses to shadow one silently."""
        key = name.strip().lower()
        if not key:
            raise ValueError("a gateway needs a name")
        if key in self._factories and not replace:
            raise ValueError(f"SMS gateway {key!r} is already registered")
        self._factories[key] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, config: Mapping[str, Any] | None = None) -> SmsGateway:
        """Build the gateway ``name`` from ``config``; raises ``KeyError`` if unknown."""
        key = name.strip().lower()
        factory = self._factories.get(key)
        if factory is None:
            raise KeyError(f"unknown SMS gateway {name!r}; known: {', '.join(self.names())}")
        return factory(config or {})

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Register the factories installed packages declare; return their names."""
        loaded = []
        for entry in entry_points(group=group):
            try:
                factory = entry.load()
            except Exception:  # a broken plug-in must not stop the others loading
                _log.exception("cannot load SMS gateway plug-in %s", entry.name)
                continue
            self.register(entry.name, factory)
            loaded.append(entry.name)
        return loaded


@dataclass(frozen=True, slots=True)
class GatewayRoute:
    """Use ``gateway`` for a facility, a destination country, or both."""

    gateway: str
    facility_id: str | None = None
    country: str | None = None


class GatewaySelector:
    """Chooses the gateway for one message.

    Precedence: a route for (facility, country), then for the facility, then for the
    country, then ``default``.
    """

    def __init__(
        self,
        gateways: Mapping[str, SmsGateway],
        *,
        default: str,
        routes: Iterable[GatewayRoute] = (),
    ) -> None:
        self._gateways = dict(gateways)
        if default not in self._gateways:
            raise ValueError(f"default gateway {default!r} is not configured")
        self._default = default
        self._routes: dict[tuple[str | None, str | None], str] = {}
        for route in routes:
            if route.gateway not in self._gateways:
                raise ValueError(f"route to unconfigured gateway {route.gateway!r}")
            country = route.country.upper() if route.country else None
            self._routes[(route.facility_id, country)] = route.gateway

    def select(
        self, *, to: str | None = None, facility_id: str | None = None, country: str | None = None
    ) -> SmsGateway:
        """The gateway for a message to ``to`` (or ``country``) sent for ``facility_id``."""
        country = (country or (country_of(to) if to else None) or "").upper() or None
        for key in ((facility_id, country), (facility_id, None), (None, country)):
            if key == (None, None):
                continue
            name = self._routes.get(key)
            if name is not None:
                return self._gateways[name]
        return self._gateways[self._default]

    async def aclose(self) -> None:
        """Close every gateway that holds connections."""
        for gateway in self._gateways.values():
            close = getattr(gateway, "aclose", None)
            if close is not None:
                await close()


GATEWAYS = SmsGatewayRegistry.with_builtins()
"""The process-wide registry: the composition root builds gateways from it, and a plug-in
(or a test) registers its own factory into it before the first gateway is built."""
