"""The SMS gateway double fixtures, shared with the SMS adapter tests."""

from tests.integration.sms.conftest import double, gateway_double  # noqa: F401
