"""The Celery app. Broker from CELERY_BROKER_URL; without it tasks run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadpilot.settings.base")

app = Celery("leadpilot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _billing_schedule(sender: Celery, **kwargs: object) -> None:
    # Billing's periodic work (billing/tasks.py): the Stripe outbox every minute (a no-op while
    # STRIPE_API_KEY is unset) and the reconciliation with Stripe once a day.
    from celery.schedules import crontab

    sender.add_periodic_task(
        60.0, sender.signature("billing.stripe_outbox_drain"), name="billing-stripe-outbox-drain"
    )
    sender.add_periodic_task(
        crontab(hour=4, minute=30), sender.signature("billing.reconcile"), name="billing-reconcile"
    )
    # Stripe webhook events left pending or failed (a lost enqueue, a killed worker).
    sender.add_periodic_task(
        600.0, sender.signature("billing.stripe_events_retry"), name="billing-stripe-events-retry"
    )
