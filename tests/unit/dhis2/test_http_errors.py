"""How HTTP answers become DHIS2 domain errors (built responses, no network)."""

from __future__ import annotations

import httpx
import pytest

from afiya.adapters.dhis2.client import dhis2_timestamp
from afiya.adapters.dhis2.http import (
    BasicCredentials,
    PersonalAccessToken,
    error_for,
    json_body,
    transport_error,
)
from afiya.domain.dhis2.errors import (
    Dhis2AuthError,
    Dhis2ProtocolError,
    Dhis2RequestRejected,
    Dhis2Unavailable,
)

REQUEST = httpx.Request("GET", "https://dhis2.example.org/api/me")


def answer(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=REQUEST, **kwargs)  # type: ignore[arg-type]


def test_401_is_an_auth_error_that_retrying_will_not_fix() -> None:
    error = error_for(answer(401, json={"httpStatusCode": 401, "message": "Unauthorized"}))
    assert isinstance(error, Dhis2AuthError)
    assert (error.code, error.status, error.retriable) == ("dhis2_unauthenticated", 401, False)


def test_403_names_dhis2s_reason() -> None:
    error = error_for(answer(403, json={"message": "Access denied for F_DATAVALUE_ADD"}))
    assert isinstance(error, Dhis2AuthError)
    assert error.code == "dhis2_forbidden"
    assert "F_DATAVALUE_ADD" in error.message.render()


def test_redirect_to_the_login_page_means_bad_credentials() -> None:
    error = error_for(answer(302, headers={"Location": "/dhis-web-commons/security/login.action"}))
    assert isinstance(error, Dhis2AuthError)


def test_other_redirect_points_at_a_wrong_base_url() -> None:
    error = error_for(answer(301, headers={"Location": "https://dhis2.example.org/dhis/api/me"}))
    assert isinstance(error, Dhis2RequestRejected)
    assert "/dhis/api/me" in error.message.render()


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_overload_and_server_errors_are_retriable(status: int) -> None:
    error = error_for(answer(status, headers={"Retry-After": "120"}, text="busy"))
    assert isinstance(error, Dhis2Unavailable)
    assert error.retriable
    assert error.status == status
    assert error.retry_after_seconds == 120


@pytest.mark.parametrize("status", [400, 404, 409, 413, 415])
def test_other_client_errors_are_rejections_with_dhis2s_message(status: int) -> None:
    error = error_for(answer(status, json={"message": "Unable to parse filter `x`"}))
    assert isinstance(error, Dhis2RequestRejected)
    assert not error.retriable
    assert "Unable to parse filter" in error.message.render()


def test_network_failure_is_retriable() -> None:
    error = transport_error(httpx.ConnectError("refused"), "https://x/api")
    assert isinstance(error, Dhis2Unavailable)
    assert error.retriable
    assert error.details["error"] == "ConnectError"


def test_html_instead_of_json_is_a_retriable_protocol_error() -> None:
    with pytest.raises(Dhis2ProtocolError) as caught:
        json_body(
            answer(200, text="<html>Wi-Fi login</html>", headers={"Content-Type": "text/html"})
        )
    assert caught.value.retriable
    assert caught.value.details["body_start"].startswith("<html>")


def test_credentials_build_the_authorization_headers_and_hide_secrets() -> None:
    assert BasicCredentials("admin", "district").header() == "Basic YWRtaW46ZGlzdHJpY3Q="
    token = PersonalAccessToken("d2pat_abc123")
    assert token.header() == "ApiToken d2pat_abc123"
    assert "district" not in repr(BasicCredentials("admin", "district"))
    assert "d2pat" not in repr(token)
    with pytest.raises(ValueError):
        PersonalAccessToken("d2pat abc")


def test_timestamps_are_sent_in_utc_with_milliseconds() -> None:
    from datetime import datetime, timedelta, timezone

    moment = datetime(2026, 1, 15, 10, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert dhis2_timestamp(moment) == "2026-01-15T09:30:05.123"
    assert dhis2_timestamp(datetime(2026, 1, 15)) == "2026-01-15T00:00:00.000"
