"""State the engine keeps between verifications: the catch-all and verdict caches, re-check entries,
and `verification_caches_clear()`, the one way to forget every per-process cache of the engine."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass

from enrichment.verification import dns as vdns
from enrichment.verification.discovery import PROCESS_PAGE_CACHE
from enrichment.verification.smtp_limits import PROCESS_SENDING_LIMITS
from enrichment.verification.verdicts import (
    ACCEPT_ALL,
    DISABLED,
    INVALID,
    MAILBOX_NOT_FOUND,
    VALID,
    EmailVerdict,
)


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

    def size(self) -> int:
        return len(self._states)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()
            self.probes.clear()


PROCESS_CATCH_ALL_CACHE = CatchAllCache()


def verdict_is_settled(verdict: EmailVerdict) -> bool:
    """A verdict another probe of the same mailbox minutes later would repeat: the mailbox exists
    (valid, or accepted on a catch-all domain) or the server named it absent or disabled. Never
    unknown (a time-out, a 4xx or a block can clear), never a DNS verdict (the route is cached)."""
    if verdict.status in (VALID, ACCEPT_ALL):
        return True
    return verdict.status == INVALID and verdict.reason in (MAILBOX_NOT_FOUND, DISABLED)


class VerdictCache:
    """Settled e-mail verdicts per (world, address as probed), answered while younger than the
    caller's ttl (measured from the verdict's `checked_at`, on the engine's clock). Thread-safe,
    process-wide by default. `hits` counts the probes it saved (approximate)."""

    def __init__(self) -> None:
        self._verdicts: dict[tuple, EmailVerdict] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, key: tuple, *, now: dt.datetime, ttl: float) -> EmailVerdict | None:
        hit = self._verdicts.get(key)
        if hit is None or hit.checked_at is None:
            return None
        if not 0 <= (now - hit.checked_at).total_seconds() <= ttl:
            return None
        self.hits += 1
        return hit

    def put(self, key: tuple, verdict: EmailVerdict) -> None:
        with self._lock:
            if len(self._verdicts) >= 100_000:
                self._verdicts.clear()
            self._verdicts[key] = verdict

    def size(self) -> int:
        return len(self._verdicts)

    def clear(self) -> None:
        with self._lock:
            self._verdicts.clear()
            self.hits = 0


PROCESS_VERDICT_CACHE = VerdictCache()


class MxStates:
    """Per world: MX hosts backed off (host -> state with its end time) and time-out strikes
    (host -> count), shared by the process's Verifiers. Plain dicts: one key is read or set at
    a time (a lost strike under a race only delays a back-off by one time-out)."""

    def __init__(self) -> None:
        self._worlds: dict[tuple, tuple[dict, dict]] = {}
        self._lock = threading.Lock()

    def for_world(self, world: tuple) -> tuple[dict, dict]:
        with self._lock:
            states = self._worlds.get(world)
            if states is None:
                states = self._worlds[world] = ({}, {})
            return states

    def size(self) -> int:
        return len(self._worlds)

    def clear(self) -> None:
        with self._lock:
            self._worlds.clear()


PROCESS_MX_STATES = MxStates()


class WrittenRows:
    """What this process last committed per directory row (a ContactPoint key, a DomainProfile
    domain, each with the database name): the row's content fingerprint, its id, when. The
    contact search skips a write that would repeat one an earlier chunk committed moments ago
    (a reused verdict, an unchanged domain profile). Filled only after commit; forgotten with
    the engine's other caches."""

    def __init__(self) -> None:
        self.rows: dict[tuple, tuple[object, int | None, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[object, int | None, float] | None:
        return self.rows.get(key)

    def update(self, written: dict[tuple, tuple[object, int | None, float]]) -> None:
        with self._lock:
            if len(self.rows) + len(written) > 200_000:
                self.rows.clear()
            self.rows.update(written)

    def size(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        with self._lock:
            self.rows.clear()


PROCESS_WRITTEN_ROWS = WrittenRows()


@dataclass
class Recheck:
    address: str
    due: dt.datetime
    attempt: int  # 1-based number of the re-check to come


def catch_all_local_part(domain: str) -> str:
    """A stable, unguessable-looking local part per domain: greylisting keys on the recipient,
    so the probe must repeat the same address to pass a greylist on the re-check."""
    return "lp-" + hashlib.sha256(f"leadpilot-catch-all:{domain}".encode()).hexdigest()[:14]


def verification_caches_clear() -> None:
    """Forget everything the engine keeps per process: DNS answers and mail routes, catch-all
    states, settled verdicts, MX back-offs and strikes, rows last written, home pages. They are
    keyed by nameserver and ports, and a new sandbox world (tests, benches, the demo) may get
    ports an earlier one used. `Sandbox.start()` calls it; production, with one world, never
    needs to. The pure memo caches (`address_parse`, `name_parts`, the disposable list) depend
    on their argument alone, not on a world, and stay. Idempotent."""
    vdns.dns_cache_clear()
    PROCESS_CATCH_ALL_CACHE.clear()
    PROCESS_VERDICT_CACHE.clear()
    PROCESS_MX_STATES.clear()
    PROCESS_WRITTEN_ROWS.clear()
    PROCESS_PAGE_CACHE.clear()
    PROCESS_SENDING_LIMITS.clear()


def verification_caches_sizes() -> dict[str, int]:
    """Entries held by each per-process cache of the engine, by name (all 0 after
    `verification_caches_clear()`)."""
    return {
        "dns_answers": vdns.dns_cache_size(),
        "mail_routes": vdns.dns_routes_size(),
        "catch_all": PROCESS_CATCH_ALL_CACHE.size(),
        "verdicts": PROCESS_VERDICT_CACHE.size(),
        "mx_states": PROCESS_MX_STATES.size(),
        "written_rows": PROCESS_WRITTEN_ROWS.size(),
        "pages": PROCESS_PAGE_CACHE.size(),
        "sending_limits": len(PROCESS_SENDING_LIMITS),
    }
