"""Two workers handed the same delivery (a redelivered task, the sweep racing a retry) send it once:
the claim's row lock and lease let one through."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from webhooks.events import event_emit
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import delivery_attempt, endpoint_create

from .receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_on_one_delivery_send_it_once(tenant_a, receiver, monkeypatch):
    from webhooks import events

    monkeypatch.setattr(events, "deliveries_enqueue", lambda **kwargs: None)  # no eager send
    rcv = receiver([Answer(200, delay=1.0)])
    endpoint_create(organization=tenant_a.org, url=rcv.url(), events=["lead.created"])
    with transaction.atomic():
        event_emit(organization=tenant_a.org, type="lead.created", data={"id": 1})
    delivery = WebhookDelivery.objects.for_org(tenant_a.org).get()

    results: list[object] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        try:
            results.append(delivery_attempt(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(rcv.received) == 1
    assert sum(r is not None for r in results) == 1
    assert WebhookAttempt.objects.for_org(tenant_a.org).count() == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 1
