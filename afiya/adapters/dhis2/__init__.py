"""DHIS2 Web API adapter: ``Dhis2Client`` implements ``afiya.domain.dhis2.Dhis2Gateway``."""

from afiya.adapters.dhis2.client import Dhis2Client, dhis2_timestamp
from afiya.adapters.dhis2.http import BasicCredentials, Credentials, PersonalAccessToken

__all__ = [
    "BasicCredentials",
    "Credentials",
    "Dhis2Client",
    "PersonalAccessToken",
    "dhis2_timestamp",
]
