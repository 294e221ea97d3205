"""Subscription rules: criteria, endpoints, back-off, status from the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from afiya.domain.fhir.subscriptions import (
    ERROR_AFTER_ATTEMPTS,
    DeliveryState,
    Payload,
    Subscription,
    SubscriptionStatus,
    check_endpoint,
    parse_criteria,
    retry_delay,
)
from afiya.domain.shared.errors import ValidationFailed


def test_criteria_name_a_subscribable_type_and_keep_their_query():
    criteria = parse_criteria("Appointment?status=booked&date=ge2026", {"Patient", "Appointment"})
    assert criteria.resource_type == "Appointment"
    assert criteria.query == (("status", "booked"), ("date", "ge2026"))
    assert parse_criteria("Patient", {"Patient"}).query == ()
    with pytest.raises(ValidationFailed) as refused:
        parse_criteria("ServiceRequest?status=active", {"Patient"})
    assert refused.value.errors[0].field == "criteria"


@pytest.mark.parametrize(
    ("url", "plain_http", "ok"),
    [
        ("https://lab.example/hook", False, True),
        ("http://lab.local/hook", False, False),
        ("http://lab.local/hook", True, True),
        ("ftp://lab/hook", True, False),
        ("/relative", True, False),
    ],
)
def test_endpoints_are_absolute_https_unless_plain_http_is_allowed(url, plain_http, ok):
    if ok:
        check_endpoint(url, allow_plain_http=plain_http)
    else:
        with pytest.raises(ValidationFailed):
            check_endpoint(url, allow_plain_http=plain_http)


def test_back_off_doubles_from_thirty_seconds_to_at_most_an_hour():
    delays = [retry_delay(n) for n in range(0, 10)]
    assert delays[:5] == [timedelta(0), *(timedelta(seconds=30 * 2**k) for k in range(4))]
    assert delays[-1] == timedelta(hours=1)
    assert delays == sorted(delays)


def test_status_shows_error_after_repeated_failures_only_while_active():
    active = SubscriptionStatus.ACTIVE
    assert DeliveryState(1, ERROR_AFTER_ATTEMPTS - 1).status(active) is active
    assert DeliveryState(1, ERROR_AFTER_ATTEMPTS).status(active) is SubscriptionStatus.ERROR
    off = SubscriptionStatus.OFF
    assert DeliveryState(1, 99).status(off) is off


def test_a_subscription_covers_changes_from_its_creation_to_its_end():
    start = datetime(2026, 12, 1, tzinfo=UTC)
    sub = Subscription(
        uuid4(),
        SubscriptionStatus.ACTIVE,
        "Patient",
        "Patient",
        "https://x",
        Payload.ID_ONLY,
        uuid4(),
        end_at=start + timedelta(days=1),
        created_at=start,
    )
    assert not sub.covers(start - timedelta(seconds=1))
    assert sub.covers(start) and sub.covers(start + timedelta(hours=23))
    assert not sub.covers(start + timedelta(days=1))
