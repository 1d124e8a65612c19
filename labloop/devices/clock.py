"""Clocks for the devices: the wall clock, and a simulated clock whose sleeps advance time instantly
(optionally paced against real time) so a 12-hour run can finish in seconds and stay deterministic."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from labloop.knowledge_base.types import utcnow

SIM_EPOCH = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


class Clock(Protocol):
    """What the devices need from time: an aware-UTC `now`, `sleep`, a monotonic reading, and a stoppable wait."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...

    def monotonic(self) -> float: ...

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Sleep up to `seconds`; return True early when `stop` is set."""
        ...


class RealClock:
    """The wall clock."""

    def now(self) -> datetime:
        return utcnow()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if stop is None:
            self.sleep(seconds)
            return False
        return stop.wait(max(seconds, 0.0))

    def __repr__(self) -> str:
        return "RealClock()"


class SimClock:
    """Simulated time. `sleep` advances it at once; with `speedup` (simulated seconds per real second) each
    sleep also takes `seconds / speedup` of real time, so a simulated run can be watched or interrupted."""

    def __init__(self, start: datetime | None = None, *, speedup: float | None = None) -> None:
        start = start or SIM_EPOCH
        if start.tzinfo is None:
            raise ValueError("SimClock needs a timezone-aware start time")
        if speedup is not None and speedup <= 0:
            raise ValueError(f"speedup must be positive, got {speedup}")
        self._start = start.astimezone(UTC)
        self._elapsed = 0.0
        self._speedup = speedup
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._elapsed += seconds

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._speedup:
            time.sleep(seconds / self._speedup)
        self.advance(seconds)

    def wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if seconds <= 0:
            return bool(stop and stop.is_set())
        if stop is None:
            self.sleep(seconds)
            return False
        if stop.is_set():
            return True
        if self._speedup:
            began = time.monotonic()
            stopped = stop.wait(seconds / self._speedup)
            real = seconds if not stopped else (time.monotonic() - began) * self._speedup
            self.advance(min(real, seconds))
            return stopped
        self.advance(seconds)
        return stop.is_set()

    def __repr__(self) -> str:
        return f"SimClock(start={self._start.isoformat()}, speedup={self._speedup})"


def make_clock(kind: str, *, speedup: float | None = None) -> Clock:
    """'sim' or 'real', as written in an acquisition config."""
    if kind == "real":
        return RealClock()
    if kind == "sim":
        return SimClock(speedup=speedup)
    raise ValueError(f"unknown clock {kind!r}: use 'sim' or 'real'")
