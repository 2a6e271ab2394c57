"""Thin Celery entry points of webhooks (the work is in services.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="webhooks.deliver",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def webhook_deliver(*, delivery_id: int) -> None:
    from .services import delivery_attempt

    delivery_attempt(delivery_id=delivery_id)
