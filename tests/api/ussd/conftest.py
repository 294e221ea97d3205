"""USSD over HTTP: the messaging fixtures (clock, callback secret, mounted channel route)."""

from tests.api.messaging.helpers import client, clock, container, settings

__all__ = ["client", "clock", "container", "settings"]
