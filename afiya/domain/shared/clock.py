"""Clocks: wall time behind a port, and a hybrid logical clock for the change log."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the current time, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(slots=True)
class FixedClock:
    """A clock tests move by hand."""

    current: datetime

    def now(self) -> datetime:
        return self.current


@dataclass(frozen=True, slots=True, order=True)
class HlcTimestamp:
    """Hybrid logical clock value: physical milliseconds plus a logical counter.

    Encoded as one sortable 64-bit integer (48 bits of ms, 16 bits of counter), so that
    events from several nodes order consistently with causality even when the Raspberry
    Pi in a district has a clock a few minutes off.
    """

    wall_ms: int
    counter: int

    def encode(self) -> int:
        return (self.wall_ms << 16) | (self.counter & 0xFFFF)

    @classmethod
    def decode(cls, value: int) -> HlcTimestamp:
        return cls(value >> 16, value & 0xFFFF)


class HybridLogicalClock:
    """Kulkarni et al. HLC: monotonic per node, and moved forward by remote events."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = HlcTimestamp(0, 0)
        self._lock = threading.Lock()

    def _physical_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def now(self) -> HlcTimestamp:
        """A timestamp for a local event, greater than every one issued before."""
        with self._lock:
            wall = self._physical_ms()
            if wall > self._last.wall_ms:
                self._last = HlcTimestamp(wall, 0)
            else:
                self._last = HlcTimestamp(self._last.wall_ms, self._last.counter + 1)
            return self._last

    def observe(self, remote: HlcTimestamp) -> HlcTimestamp:
        """Merge a timestamp received from another node; return the new local one."""
        with self._lock:
            wall = self._physical_ms()
            top = max(wall, self._last.wall_ms, remote.wall_ms)
            if top == self._last.wall_ms == remote.wall_ms:
                counter = max(self._last.counter, remote.counter) + 1
            elif top == self._last.wall_ms:
                counter = self._last.counter + 1
            elif top == remote.wall_ms:
                counter = remote.counter + 1
            else:
                counter = 0
            self._last = HlcTimestamp(top, counter)
            return self._last
