"""Pure building blocks: UUIDv7, the hybrid logical clock, the access policy, login rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.access.permissions import ROLE_PERMISSIONS, Permission, Role, permissions_of
from afiya.domain.access.policy import Principal, authorize, in_scope
from afiya.domain.identity.rules import (
    LoginPolicy,
    lock_until_after_failure,
    next_attempt_allowed_at,
    validate_password,
)
from afiya.domain.shared.clock import FixedClock, HlcTimestamp, HybridLogicalClock
from afiya.domain.shared.errors import PermissionDenied
from afiya.domain.shared.ids import uuid7, uuid7_time_ms

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class TestUuid7:
    def test_version_variant_and_embedded_time(self):
        value = uuid7(1_700_000_000_123)
        assert value.version == 7 and value.variant == "specified in RFC 4122"
        assert uuid7_time_ms(value) == 1_700_000_000_123

    @given(st.lists(st.integers(min_value=0, max_value=2**48 - 1), min_size=2, max_size=20))
    def test_ids_sort_by_creation_millisecond(self, stamps):
        ids = [uuid7(ms) for ms in sorted(stamps)]
        assert [uuid7_time_ms(i) for i in sorted(ids)] == sorted(stamps)


class TestHybridLogicalClock:
    def test_monotonic_when_the_wall_clock_stands_still_or_goes_back(self):
        clock = FixedClock(NOW)
        hlc = HybridLogicalClock(clock)
        first, second = hlc.now(), hlc.now()
        clock.current = NOW - timedelta(minutes=5)  # the Raspberry Pi's clock jumps back
        third = hlc.now()
        assert first < second < third

    def test_receiving_a_remote_time_from_the_future_moves_the_clock_forward(self):
        hlc = HybridLogicalClock(FixedClock(NOW))
        remote = HlcTimestamp(int(NOW.timestamp() * 1000) + 60_000, 4)
        merged = hlc.observe(remote)
        assert merged > remote and hlc.now() > merged

    @given(st.integers(min_value=0, max_value=2**47), st.integers(min_value=0, max_value=0xFFFF))
    def test_encoding_round_trips_and_preserves_order(self, wall, counter):
        stamp = HlcTimestamp(wall, counter)
        assert HlcTimestamp.decode(stamp.encode()) == stamp
        assert HlcTimestamp(wall, counter).encode() < HlcTimestamp(wall + 1, 0).encode()


def _principal(roles, paths):
    return Principal(user_id=uuid4(), username="u", roles=frozenset(roles), unit_paths=paths)


class TestPolicy:
    def test_scope_is_a_sub_tree_prefix_not_a_string_prefix(self):
        nurse = _principal({"nurse"}, ("/MR/R1/D1/FAC1/",))
        assert in_scope(nurse, "/MR/R1/D1/FAC1/S1/W1/")
        assert not in_scope(nurse, "/MR/R1/D1/FAC10/")
        assert not in_scope(nurse, "/MR/R1/D1/")

    def test_authorize_checks_permission_then_place(self):
        nurse = _principal({"nurse"}, ("/A/",))
        authorize(nurse, Permission.PATIENTS_READ, "/A/x/")
        with pytest.raises(PermissionDenied) as missing:
            authorize(nurse, Permission.AUDIT_READ)
        with pytest.raises(PermissionDenied) as outside:
            authorize(nurse, Permission.PATIENTS_READ, "/B/")
        assert missing.value.code == "permission_missing"
        assert outside.value.code == "out_of_scope"

    def test_receptionists_and_cashiers_see_no_clinical_content(self):
        for role in (Role.RECEPTIONIST, Role.CASHIER):
            assert Permission.CLINICAL_READ not in ROLE_PERMISSIONS[role]

    def test_every_role_has_a_permission_set_and_unknown_roles_grant_nothing(self):
        assert set(ROLE_PERMISSIONS) == set(Role)
        assert permissions_of({"wizard"}) == frozenset()
        assert all(Permission.SELF in perms for perms in ROLE_PERMISSIONS.values())


class TestLoginRules:
    policy = LoginPolicy(
        free_failures=3, max_delay_seconds=60, max_failures=10, lockout=timedelta(minutes=15)
    )

    def test_delays_start_after_the_free_failures_and_double(self):
        assert next_attempt_allowed_at(2, NOW, self.policy) is None
        delays = [
            (next_attempt_allowed_at(n, NOW, self.policy) - NOW).seconds for n in (3, 4, 5, 6)
        ]
        assert delays == [1, 2, 4, 8]
        assert next_attempt_allowed_at(40, NOW, self.policy) == NOW + timedelta(seconds=60)

    def test_the_account_locks_at_the_threshold(self):
        assert lock_until_after_failure(9, NOW, self.policy) is None
        assert lock_until_after_failure(10, NOW, self.policy) == NOW + timedelta(minutes=15)

    def test_password_rules_report_every_problem(self):
        codes = {e.code for e in validate_password("aaaa", "aaaa")}
        assert codes == {"too_short", "weak"}
        assert validate_password("Tres-long-2026!", "fatimetou") == []
