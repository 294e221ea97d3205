"""X-Twilio-Signature validation, against Twilio's published test vectors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.adapters.sms.twilio import compute_signature, validate_signature

# The worked example of Twilio's request-validation documentation and SDK tests.
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
JSON_BODY = '{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def test_published_vector_is_reproduced() -> None:
    assert compute_signature(TOKEN, URL, PARAMS) == SIGNATURE
    assert validate_signature(TOKEN, URL, PARAMS, SIGNATURE)


def test_parameter_order_does_not_matter() -> None:
    reordered = list(reversed(list(PARAMS.items())))
    assert validate_signature(TOKEN, URL, reordered, SIGNATURE)


def test_repeated_parameters_count_each_distinct_value_once_sorted() -> None:
    params = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234", "1234"]}
    assert compute_signature(TOKEN, URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    pairs = [
        ("Digits", "1234"),
        ("Sid", "CA123"),
        ("Digits", "5678"),
        ("SidAccount", "AC123"),
        ("Digits", "1234"),
    ]
    assert validate_signature(TOKEN, URL, pairs, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", SIGNATURE),  # port dropped
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        (URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed with :443 added
        ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ("https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", "CukzLTc1tT5dXEDIHm/tKBanW10="),
        ("https://user@mycompany.com/myapp.php?foo=1&bar=2", "2YRLlVAflCqxaNicjMpJcSTgzSs="),
        ("https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="),
    ],
)
def test_port_and_credential_variants_of_the_sdk_vectors(url: str, signature: str) -> None:
    assert validate_signature(TOKEN, url, PARAMS, signature)


def test_tampering_is_detected() -> None:
    assert not validate_signature(TOKEN, URL, {**PARAMS, "Digits": "9999"}, SIGNATURE)
    assert not validate_signature(TOKEN, URL + "&x=1", PARAMS, SIGNATURE)
    assert not validate_signature("other-token", URL, PARAMS, SIGNATURE)
    assert not validate_signature(TOKEN, URL, {**PARAMS, "Extra": ""}, SIGNATURE)


def test_missing_or_garbage_signature_is_invalid() -> None:
    assert not validate_signature(TOKEN, URL, PARAMS, None)
    assert not validate_signature(TOKEN, URL, PARAMS, "")
    assert not validate_signature(TOKEN, URL, PARAMS, "invalid 王")


def test_json_body_is_checked_through_body_sha256() -> None:
    url = f"{URL}&bodySHA256={BODY_HASH}"
    signature = "a9nBmqA0ju/hNViExpshrM61xv4="  # the SDKs' vector
    assert validate_signature(TOKEN, url, JSON_BODY, signature)
    assert not validate_signature(TOKEN, url, JSON_BODY.replace("true", "false"), signature)
    assert not validate_signature(TOKEN, URL, JSON_BODY, compute_signature(TOKEN, URL))


@given(
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=12), max_size=6),
    st.text(min_size=8, max_size=20),
)
def test_a_computed_signature_always_validates(params: dict[str, str], token: str) -> None:
    url = "https://afiya.example.org/sms/twilio/status"
    assert validate_signature(token, url, params, compute_signature(token, url, params))
