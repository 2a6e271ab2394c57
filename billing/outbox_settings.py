"""The Stripe integration's settings, read from Django settings when they define them (tests use
override_settings) and from the environment otherwise (.env.example documents each).

Stripe is on when STRIPE_API_KEY is set: then the outbox is sent; without it rows are still
written, so switching Stripe on later sends the history."""

from __future__ import annotations

import dataclasses

import environ
from django.conf import settings

_env = environ.Env()


def _str(name: str, default: str) -> str:
    if hasattr(settings, name):
        return str(getattr(settings, name))
    return str(_env.str(name, default=default))


def _int(name: str, default: int) -> int:
    return int(_str(name, str(default)))


def _float(name: str, default: float) -> float:
    return float(_str(name, str(default)))


@dataclasses.dataclass(frozen=True)
class StripeSettings:
    api_key: str
    # Base URL of the API (the fake: http://127.0.0.1:PORT); empty = Stripe's own.
    api_base: str
    meter_event_name: str
    timeout_s: float
    # The stripe library's own retries per call (the outbox retries with back-off anyway).
    network_retries: int
    batch_size: int
    concurrency: int
    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float
    # A credit becomes a cancel only while the charge's first send is younger than 24 h - this.
    cancel_margin_s: float

    @property
    def enabled(self) -> bool:
        return bool(self.api_key)


def stripe_settings() -> StripeSettings:
    return StripeSettings(
        api_key=_str("STRIPE_API_KEY", ""),
        api_base=_str("STRIPE_API_BASE", ""),
        meter_event_name=_str("STRIPE_METER_EVENT_NAME", "leadpilot_lead"),
        timeout_s=_float("STRIPE_TIMEOUT_SECONDS", 10.0),
        network_retries=_int("STRIPE_NETWORK_RETRIES", 0),
        batch_size=_int("STRIPE_OUTBOX_BATCH", 200),
        concurrency=_int("STRIPE_OUTBOX_CONCURRENCY", 16),
        max_attempts=_int("STRIPE_OUTBOX_MAX_ATTEMPTS", 8),
        backoff_base_s=_float("STRIPE_OUTBOX_BACKOFF_SECONDS", 30.0),
        backoff_max_s=_float("STRIPE_OUTBOX_BACKOFF_MAX_SECONDS", 3600.0),
        cancel_margin_s=3600.0,
    )
