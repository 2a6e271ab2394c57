"""State the engine keeps between verifications: the catch-all cache and re-check entries."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass


class CatchAllCache:
    """Determined catch-all states per (world, domain), kept for `ttl` seconds. Thread-safe,
    process-wide by default. `probes` counts real probe sessions (tests assert one per domain)."""

    def __init__(self) -> None:
        self._states: dict[tuple, tuple[bool, dt.datetime]] = {}
        self._lock = threading.Lock()
        self.probes: dict[tuple, int] = {}

    def get(self, key: tuple, *, now: dt.datetime, ttl: float) -> bool | None:
        with self._lock:
            hit = self._states.get(key)
        if hit is None or (now - hit[1]).total_seconds() > ttl:
            return None
        return hit[0]

    def put(self, key: tuple, state: bool, *, now: dt.datetime) -> None:
        with self._lock:
            self._states[key] = (state, now)

    def count_probe(self, key: tuple) -> None:
        with self._lock:
            self.probes[key] = self.probes.get(key, 0) + 1

    def clear(self) -> None:
        with self._lock:
            self._states.clear()
            self.probes.clear()


PROCESS_CATCH_ALL_CACHE = CatchAllCache()


@dataclass
class Recheck:
    address: str
    due: dt.datetime
    attempt: int  # 1-based number of the re-check to come


def catch_all_local_part(domain: str) -> str:
    """A stable, unguessable-looking local part per domain: greylisting keys on the recipient,
    so the probe must repeat the same address to pass a greylist on the re-check."""
    return "lp-" + hashlib.sha256(f"leadpilot-catch-all:{domain}".encode()).hexdigest()[:14]
