"""Guards for provider callbacks: who may call, and only once per report.

Africa's Talking does not sign delivery reports, inbound messages or USSD requests.
Configure the callback URLs with a long random secret in the query string
(``.../africastalking/delivery?key=...``) and list the networks the provider calls
from; :class:`CallbackAuthenticator` checks both in constant time. Behind a reverse
proxy, pass the client address the proxy vouches for, not the proxy's own.

Providers retry callbacks until they see a 2xx, and an attacker who captured one may
replay it: :class:`InMemoryReplayGuard` remembers the keys already processed (for one
process; a database-backed guard with a unique key serves a cluster).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta

from afiya.domain.shared.clock import Clock, SystemClock

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class CallbackAuthenticator:
    """Shared secret plus IP allow-list for providers that do not sign their callbacks."""

    def __init__(self, *, shared_secret: str | None, allowed_networks: Iterable[str] = ()) -> None:
        """Configure the checks.

        Args:
            shared_secret: the secret placed in the callback URL; at least 32
                characters. ``None`` disables the check (then an allow-list is needed).
            allowed_networks: CIDR blocks (``"196.201.214.0/24"``) or single addresses.

        Raises:
            ValueError: neither check is configured, the secret is short, or a network
                is malformed.
        """
        networks: list[IpNetwork] = [
            ipaddress.ip_network(net, strict=False) for net in allowed_networks
        ]
        if shared_secret is None and not networks:
            raise ValueError("a callback needs a shared secret, an IP allow-list, or both")
        if shared_secret is not None and len(shared_secret) < 32:
            raise ValueError("the callback secret must be at least 32 characters")
        self._secret = shared_secret.encode() if shared_secret is not None else None
        self._networks = networks

    @classmethod
    def configured(
        cls, *, shared_secret: str | None, allowed_networks: Iterable[str] = ()
    ) -> CallbackAuthenticator | None:
        """The authenticator, or ``None`` when neither check is configured (the caller
        then refuses every callback rather than accept anyone)."""
        networks = tuple(allowed_networks)
        if not shared_secret and not networks:
            return None
        return cls(shared_secret=shared_secret or None, allowed_networks=networks)

    def ip_allowed(self, remote_ip: str) -> bool:
        """Whether ``remote_ip`` is in the allow-list (always true without one)."""
        if not self._networks:
            return True
        try:
            address = ipaddress.ip_address(remote_ip)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)

    def secret_matches(self, presented: str | None) -> bool:
        """Whether ``presented`` equals the secret (always true without one)."""
        if self._secret is None:
            return True
        if presented is None:
            return False
        return hmac.compare_digest(presented.encode(), self._secret)

    def is_allowed(self, *, remote_ip: str, presented_secret: str | None) -> bool:
        """Both checks; answer 403 to the provider when this is false."""
        ip_ok = self.ip_allowed(remote_ip)
        secret_ok = self.secret_matches(presented_secret)  # evaluated even if IP failed
        return ip_ok and secret_ok


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]
) -> str:
    """The caller's address: the first ``X-Forwarded-For`` entry when the direct peer is
    a trusted proxy, else the peer itself (a forged header from elsewhere is ignored)."""
    if forwarded_for and peer in set(trusted_proxies):
        return forwarded_for.split(",")[0].strip()
    return peer or ""


class InMemoryReplayGuard:
    """A :class:`~afiya.domain.messaging.ports.ReplayGuard` for one process.

    Keys expire after ``ttl`` (providers stop retrying within a day or two); at most
    ``max_entries`` are kept, the oldest forgotten first, so memory stays bounded.
    """

    def __init__(
        self,
        *,
        ttl: timedelta = timedelta(days=2),
        max_entries: int = 100_000,
        clock: Clock | None = None,
    ) -> None:
        if max_entries < 1 or ttl <= timedelta(0):
            raise ValueError("max_entries and ttl must be positive")
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock or SystemClock()
        self._expiry: OrderedDict[str, datetime] = OrderedDict()

    def _evict(self, now: datetime) -> None:
        while self._expiry:
            key, expires = next(iter(self._expiry.items()))
            if expires > now and len(self._expiry) <= self._max:
                break
            del self._expiry[key]

    async def first_seen(self, key: str) -> bool:
        """``True`` the first time ``key`` is seen within the TTL, ``False`` after."""
        now = self._clock.now()
        self._evict(now)
        expires = self._expiry.get(key)
        if expires is not None and expires > now:
            return False
        self._expiry[key] = now + self._ttl
        self._expiry.move_to_end(key)
        self._evict(now)
        return True

    def __len__(self) -> int:
        return len(self._expiry)
