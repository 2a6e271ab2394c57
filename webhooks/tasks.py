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
def webhook_deliver(*, delivery_id: int, manual: bool = False) -> None:
    from .services import delivery_attempt

    delivery_attempt(delivery_id=delivery_id, manual=manual)


@shared_task(name="webhooks.deliver_due", acks_late=True, time_limit=300, ignore_result=True)
def webhooks_deliver_due() -> None:
    from .services import deliveries_due_enqueue

    deliveries_due_enqueue()


@shared_task(name="webhooks.purge_log", acks_late=True, time_limit=1800, ignore_result=True)
def webhooks_purge_log() -> None:
    from .services import webhook_log_purge

    webhook_log_purge()
