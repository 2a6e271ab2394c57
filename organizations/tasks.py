"""Periodic housekeeping of the organisations app (thin entry points; see the services)."""

from __future__ import annotations

from celery import shared_task

from .api.idempotency import purge_expired


@shared_task(name="organizations.purge_idempotency_keys", acks_late=True, time_limit=600)
def purge_idempotency_keys() -> int:
    """Delete the Idempotency-Key answers older than 24 hours (every organisation's)."""
    return purge_expired()
