"""Sending reputation: how fast and how much the probe may ask mail servers (DESIGN.md section 5).

Two limits on top of the engine's per-MX-host concurrency (config.per_mx_concurrency):

- A token bucket per MX domain (the MX host's parent domain: mx1.example.no -> example.no,
  aspmx.l.google.com -> l.google.com, x.mail.protection.outlook.com -> mail.protection.outlook.com,
  so every tenant of one provider shares its bucket): LEADPILOT_SMTP_DOMAIN_RATE transactions a
  second, bursts of LEADPILOT_SMTP_DOMAIN_BURST. A probe waits for its token; nothing is refused.
  Per process (a worker's threads share it).
- A daily cap per sending IP (LEADPILOT_SMTP_DAILY_CAP RCPT transactions per UTC day, keyed by
  LEADPILOT_SMTP_SENDING_IP), counted in the Django cache so the worker processes share it (the
  cache must be a shared one, Redis, for that). Each process reserves the count in blocks of
  LEADPILOT_SMTP_CAP_BLOCK so the cache is asked once per block, not once per probe: the cap may
  be undershot by up to a block per process, never exceeded. Once it is reached, the engine
  answers `unknown` / `rate_limited` without asking (the nightly search then stops the run
  without recording or charging those people: they are tried another day).

0 turns either limit off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any


def mx_domain(host: str) -> str:
    """The domain whose bucket an MX host draws from: the host name without its first label."""
    name = host.rstrip(".").lower()
    _, dot, parent = name.partition(".")
    return parent if dot and "." in parent else name


@dataclass
class _Bucket:
    tokens: float
    at: float


class DomainRate:
    """Token buckets per MX domain, shared by the event loops of a process's threads."""

    def __init__(self, *, rate: float, burst: int, monotonic=time.monotonic) -> None:
        self.rate, self.burst = float(rate), max(1, int(burst))
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def delay(self, host: str) -> float:
        """Take a token for one transaction with this MX host; seconds to wait before using it
        (the token is reserved now, so concurrent callers queue up behind each other)."""
        if self.rate <= 0:
            return 0.0
        key, now = mx_domain(host), self._monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), at=now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            bucket.tokens -= 1.0
            return 0.0 if bucket.tokens >= 0 else -bucket.tokens / self.rate

    async def wait(self, host: str) -> None:
        if (seconds := self.delay(host)) > 0:
            await asyncio.sleep(seconds)


class DailyCap:
    """RCPT transactions per sending IP and UTC day, counted in a cache shared by processes."""

    def __init__(
        self,
        *,
        cap: int,
        sending_ip: str = "default",
        block: int = 20,
        cache: Any = None,
        today=lambda: dt.datetime.now(dt.UTC).date(),
    ) -> None:
        self.cap, self.sending_ip, self.block = int(cap), sending_ip, max(1, int(block))
        self._cache, self._today = cache, today
        self._lock = threading.Lock()
        self._day: dt.date | None = None
        self._left = 0  # reserved in the cache, not used yet, by this process
        self._spent = False

    def _store(self) -> Any:
        if self._cache is None:
            from django.core.cache import cache

            self._cache = cache
        return self._cache

    def key(self, day: dt.date) -> str:
        return f"leadpilot:smtp-sent:{self.sending_ip}:{day.isoformat()}"

    def take(self) -> bool:
        """One transaction's allowance: False once the day's cap is reached."""
        if self.cap <= 0:
            return True
        day = self._today()
        with self._lock:
            if day != self._day:
                self._day, self._left, self._spent = day, 0, False
            if self._left <= 0 and not self._spent:
                store, key = self._store(), self.key(day)
                store.add(key, 0, timeout=2 * 24 * 3600)
                block = min(self.block, self.cap)
                total = store.incr(key, block)
                self._left = max(0, min(block, self.cap - (total - block)))
                self._spent = total >= self.cap
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def used(self, day: dt.date | None = None) -> int:
        """Transactions counted (reserved) for the day, by every process."""
        return int(self._store().get(self.key(day or self._today()), 0))


@dataclass
class SendingLimits:
    rate: DomainRate = field(default_factory=lambda: DomainRate(rate=0, burst=1))
    daily: DailyCap = field(default_factory=lambda: DailyCap(cap=0))

    @classmethod
    def from_settings(cls) -> SendingLimits:
        from django.conf import settings

        return cls(
            rate=DomainRate(
                rate=float(getattr(settings, "LEADPILOT_SMTP_DOMAIN_RATE", 0) or 0),
                burst=int(getattr(settings, "LEADPILOT_SMTP_DOMAIN_BURST", 1) or 1),
            ),
            daily=DailyCap(
                cap=int(getattr(settings, "LEADPILOT_SMTP_DAILY_CAP", 0) or 0),
                sending_ip=str(getattr(settings, "LEADPILOT_SMTP_SENDING_IP", "") or "default"),
                block=int(getattr(settings, "LEADPILOT_SMTP_CAP_BLOCK", 20) or 20),
            ),
        )


class _ProcessLimits:
    """The process's SendingLimits per distinct settings (tests that change them get fresh
    buckets and a fresh count). Cleared by verification_caches_clear with the engine's caches;
    the day's count itself lives in the shared cache, only this process's reserved block goes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_settings: dict[tuple, SendingLimits] = {}

    def get(self) -> SendingLimits:
        from django.conf import settings

        key = tuple(
            getattr(settings, name, None)
            for name in (
                "LEADPILOT_SMTP_DOMAIN_RATE",
                "LEADPILOT_SMTP_DOMAIN_BURST",
                "LEADPILOT_SMTP_DAILY_CAP",
                "LEADPILOT_SMTP_SENDING_IP",
                "LEADPILOT_SMTP_CAP_BLOCK",
            )
        )
        with self._lock:
            limits = self._by_settings.get(key)
            if limits is None:
                limits = self._by_settings[key] = SendingLimits.from_settings()
            return limits

    def clear(self) -> None:
        with self._lock:
            self._by_settings.clear()

    def __len__(self) -> int:
        return len(self._by_settings)


PROCESS_SENDING_LIMITS = _ProcessLimits()


def process_sending_limits() -> SendingLimits:
    """The process's limits for the current settings."""
    return PROCESS_SENDING_LIMITS.get()
