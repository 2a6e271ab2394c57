"""Clocks the engine reads time from, so tests and re-check queues can move time by hand."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """Wall clock, always timezone-aware (UTC)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(tz=dt.UTC)

    def timestamp(self) -> float:
        return self.now().timestamp()


class FakeClock:
    """A clock that only moves when told to (tests, benches, sandbox greylisting)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
