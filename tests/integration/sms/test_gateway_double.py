"""The gateway double itself answers as the vendors document (raw HTTP, no adapter)."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.sms.conftest import (
    AT_API_KEY,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    GatewayDouble,
)


@pytest.fixture
def http(double: GatewayDouble) -> httpx.Client:
    return httpx.Client(base_url=double.base_url, timeout=5, trust_env=False)


def twilio_post(http: httpx.Client, form: dict[str, str], sid: str = TWILIO_SID) -> httpx.Response:
    return http.post(
        f"/2010-04-01/Accounts/{sid}/Messages.json", data=form, auth=(TWILIO_SID, TWILIO_TOKEN)
    )


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": TWILIO_NUMBER, "Body": "x"}, 21604),
        ({"To": "+22236123456", "From": TWILIO_NUMBER}, 21602),
        ({"To": "+22236123456", "Body": "x"}, 21603),
        ({"To": "+22236123456", "From": "+15550000000", "Body": "x"}, 21606),
        ({"To": "+22236123456", "From": TWILIO_NUMBER, "Body": "x" * 1601}, 21617),
    ],
)
def test_twilio_validation_errors_use_twilio_codes(
    http: httpx.Client, form: dict[str, str], code: int
) -> None:
    response = twilio_post(http, form)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


def test_twilio_path_of_another_account_is_not_found(http: httpx.Client) -> None:
    response = twilio_post(http, {"To": "+22236123456", "From": TWILIO_NUMBER, "Body": "x"}, "AC1")
    assert (response.status_code, response.json()["code"]) == (404, 20404)


def test_africastalking_bulk_send_reports_each_recipient(
    http: httpx.Client, double: GatewayDouble
) -> None:
    response = http.post(
        "/version1/messaging",
        data={"username": "sandbox", "to": "+22236123456,123", "message": "م" * 80},
        headers={"apiKey": AT_API_KEY, "Accept": "application/json"},
    )
    assert response.status_code == 201
    data = response.json()["SMSMessageData"]
    assert data["Message"] == "Sent to 1/2 Total Cost: MRU 4.0000"
    ok, bad = data["Recipients"]
    assert (ok["statusCode"], ok["messageParts"], ok["cost"]) == (101, 2, "MRU 4.0000")
    assert (bad["statusCode"], bad["status"], bad["messageId"]) == (
        403,
        "InvalidPhoneNumber",
        "None",
    )
    assert len(double.messages()) == 1


def test_africastalking_requires_json_accept_and_fields(http: httpx.Client) -> None:
    headers = {"apiKey": AT_API_KEY}
    assert (
        http.post("/version1/messaging", data={"username": "sandbox"}, headers=headers).status_code
        == 406
    )
    headers["Accept"] = "application/json"
    assert (
        http.post("/version1/messaging", data={"username": "sandbox"}, headers=headers).status_code
        == 400
    )


def test_admin_rejects_malformed_failure_specs_and_unknown_routes(http: httpx.Client) -> None:
    assert http.post("/_admin/failures", json={"kind": "http"}).status_code == 400
    assert http.post("/nowhere", data={}).status_code == 404
    assert http.get("/_admin/health").json() == {"ok": True}


def test_permanent_failure_lasts_until_reset(http: httpx.Client, double: GatewayDouble) -> None:
    double.fail(vendor="twilio", kind="http", status=503, times=-1)
    form = {"To": "+22236123456", "From": TWILIO_NUMBER, "Body": "x"}
    assert [twilio_post(http, form).status_code for _ in range(3)] == [503, 503, 503]
    double.reset()
    assert twilio_post(http, form).status_code == 201
    assert len(double.messages()) == 1
