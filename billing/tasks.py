"""Billing's Celery entry points: thin, by name, each calling one service."""

from __future__ import annotations

import dataclasses

import stripe
from celery import shared_task
from django.db import OperationalError


@shared_task(name="billing.stripe_outbox_drain", acks_late=True, time_limit=120, soft_time_limit=90)
def stripe_outbox_drain() -> dict:
    """Beat, every minute: send the due Stripe outbox rows (billing/stripe_sync.py). Overlapping
    runs are harmless: rows are claimed FOR UPDATE SKIP LOCKED."""
    from .stripe_sync import stripe_outbox_drain as drain

    return dataclasses.asdict(drain(time_budget_s=50))


@shared_task(name="billing.reconcile", acks_late=True, time_limit=1800, soft_time_limit=1700)
def reconcile() -> dict:
    """Beat, daily: compare the ledger with Stripe and mail staff the differences."""
    from .outbox_reconcile import billing_reconcile, billing_reconcile_notify
    from .outbox_settings import stripe_settings

    if not stripe_settings().enabled:
        return {"skipped": "Stripe is off"}
    differences = billing_reconcile()
    billing_reconcile_notify(differences=differences)
    return {"differences": len(differences)}


@shared_task(
    name="billing.stripe_event_process",
    acks_late=True,
    time_limit=120,
    soft_time_limit=90,
    # Transient failures only: Stripe unreachable, rate-limited or failing, the database gone.
    autoretry_for=(
        stripe.APIConnectionError,
        stripe.RateLimitError,
        stripe.APIError,
        OperationalError,
    ),
    retry_backoff=30,
    max_retries=8,
)
def stripe_event_process(*, event_id: str) -> bool:
    """One stored Stripe webhook event: re-fetch its object and update our copy
    (billing/subscriptions.py). A rerun of a processed event does nothing."""
    from .subscriptions import stripe_event_process as process

    return process(event_id=event_id)


@shared_task(name="billing.stripe_events_retry", acks_late=True, time_limit=60, soft_time_limit=50)
def stripe_events_retry() -> int:
    """Beat, every 10 minutes: enqueue again the webhook events left unprocessed."""
    from .subscriptions import stripe_events_stuck

    ids = stripe_events_stuck()
    for event_id in ids:
        stripe_event_process.delay(event_id=event_id)
    return len(ids)
