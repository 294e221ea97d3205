"""Messaging API tests: the shared fixtures of ``helpers.py``."""

from tests.api.messaging.helpers import client, clock, container, settings

__all__ = ["client", "clock", "container", "settings"]
