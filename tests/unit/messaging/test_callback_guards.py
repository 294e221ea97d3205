"""Callback authentication (secret + IP allow-list) and replay protection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afiya.adapters.sms.callbacks import CallbackAuthenticator, InMemoryReplayGuard
from afiya.domain.shared.clock import FixedClock

SECRET = "k" * 40


class TestAuthenticator:
    def test_right_secret_from_an_allowed_network_passes(self) -> None:
        guard = CallbackAuthenticator(shared_secret=SECRET, allowed_networks=["196.201.214.0/24"])
        assert guard.is_allowed(remote_ip="196.201.214.77", presented_secret=SECRET)

    def test_wrong_secret_or_wrong_network_fails(self) -> None:
        guard = CallbackAuthenticator(shared_secret=SECRET, allowed_networks=["196.201.214.0/24"])
        assert not guard.is_allowed(remote_ip="196.201.214.77", presented_secret="k" * 39)
        assert not guard.is_allowed(remote_ip="196.201.214.77", presented_secret=None)
        assert not guard.is_allowed(remote_ip="41.188.1.1", presented_secret=SECRET)
        assert not guard.is_allowed(remote_ip="not-an-ip", presented_secret=SECRET)

    def test_ipv4_mapped_ipv6_address_is_matched_as_ipv4(self) -> None:
        guard = CallbackAuthenticator(shared_secret=None, allowed_networks=["10.0.0.5"])
        assert guard.is_allowed(remote_ip="::ffff:10.0.0.5", presented_secret=None)

    def test_secret_alone_is_enough_when_no_network_is_listed(self) -> None:
        guard = CallbackAuthenticator(shared_secret=SECRET)
        assert guard.is_allowed(remote_ip="8.8.8.8", presented_secret=SECRET)
        assert not guard.is_allowed(remote_ip="8.8.8.8", presented_secret="guess")

    def test_non_ascii_secret_attempt_is_simply_refused(self) -> None:
        guard = CallbackAuthenticator(shared_secret=SECRET)
        assert not guard.is_allowed(remote_ip="8.8.8.8", presented_secret="سر" * 20)

    @pytest.mark.parametrize(
        ("secret", "networks"), [(None, []), ("short", []), (SECRET, ["300.1.1.1/8"])]
    )
    def test_unsafe_configuration_is_refused(self, secret: str | None, networks: list[str]) -> None:
        with pytest.raises(ValueError):
            CallbackAuthenticator(shared_secret=secret, allowed_networks=networks)


class TestReplayGuard:
    async def test_second_delivery_of_a_report_is_a_replay(self) -> None:
        guard = InMemoryReplayGuard()
        assert await guard.first_seen("dlr:africastalking:X:Success")
        assert not await guard.first_seen("dlr:africastalking:X:Success")
        assert await guard.first_seen("dlr:africastalking:X:Failed")

    async def test_keys_expire_after_the_ttl(self) -> None:
        clock = FixedClock(datetime(2025, 3, 11, tzinfo=UTC))
        guard = InMemoryReplayGuard(ttl=timedelta(hours=1), clock=clock)
        assert await guard.first_seen("k")
        clock.current += timedelta(minutes=59)
        assert not await guard.first_seen("k")
        clock.current += timedelta(hours=2)
        assert await guard.first_seen("k")

    async def test_memory_is_bounded_forgetting_the_oldest(self) -> None:
        guard = InMemoryReplayGuard(max_entries=3)
        for key in "abcd":
            assert await guard.first_seen(key)
        assert len(guard) == 3
        assert await guard.first_seen("a")  # forgotten, so accepted again
        assert not await guard.first_seen("d")
