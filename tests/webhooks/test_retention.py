"""The delivery log's retention and the sweep that re-queues due deliveries whose task was lost."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from webhooks.events import event_emit
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookMessage
from webhooks.services import deliveries_due_enqueue, endpoint_create, webhook_log_purge

from .receiver import Answer


def test_the_log_is_kept_for_its_retention_period_but_pending_events_stay(
    tenant_a, tenant_b, receiver, settings, django_capture_on_commit_callbacks
):
    settings.LEADPILOT_WEBHOOKS_RETRY_DELAYS = [3600]
    rcv = receiver([Answer(200), Answer(500)])
    for tenant in (tenant_a, tenant_b):
        endpoint_create(organization=tenant.org, url=rcv.url(), events=["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        for tenant in (tenant_a, tenant_b):
            with transaction.atomic():
                event_emit(organization=tenant.org, type="lead.created", data={"id": 1})
    assert WebhookDelivery.objects.for_org(tenant_a.org).get().status == "succeeded"
    assert WebhookDelivery.objects.for_org(tenant_b.org).get().status == "pending"

    assert webhook_log_purge(now=timezone.now() + dt.timedelta(days=29)) == 0
    assert webhook_log_purge(now=timezone.now() + dt.timedelta(days=31)) == 1
    assert not WebhookMessage.objects.for_org(tenant_a.org).exists()
    assert not WebhookAttempt.objects.for_org(tenant_a.org).exists()
    assert WebhookMessage.objects.for_org(tenant_b.org).count() == 1, "still being retried"


def test_the_sweep_sends_due_deliveries_whose_task_was_lost(tenant_a, receiver):
    rcv = receiver()
    endpoint_create(organization=tenant_a.org, url=rcv.url(), events=["lead.created"])
    with transaction.atomic():  # committed by the test's wrapper only: no on_commit task ran
        event_emit(organization=tenant_a.org, type="lead.created", data={"id": 1})
    assert rcv.received == []
    assert deliveries_due_enqueue() == 1  # eager here: the task runs at once
    assert len(rcv.received) == 1
    assert WebhookDelivery.objects.for_org(tenant_a.org).get().status == "succeeded"
    assert deliveries_due_enqueue() == 0


def test_staff_see_endpoints_and_the_log_in_the_admin_without_the_secret(
    tenant_a, receiver, django_capture_on_commit_callbacks
):
    from organizations.models import User

    rcv = receiver()
    endpoint = endpoint_create(organization=tenant_a.org, url=rcv.url(), events=["lead.created"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(organization=tenant_a.org, type="lead.created", data={"id": 1})
    staff = User.objects.create_superuser("staff@leadpilot.example", "pw")
    from django.test import Client

    client = Client()
    client.force_login(staff)
    delivery = WebhookDelivery.objects.for_org(tenant_a.org).get()
    attempt = WebhookAttempt.objects.for_org(tenant_a.org).get()
    for path in (
        "/admin/webhooks/webhookendpoint/",
        f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/",
        "/admin/webhooks/webhookdelivery/",
        f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/",
        "/admin/webhooks/webhookattempt/",
        f"/admin/webhooks/webhookattempt/{attempt.pk}/change/",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert endpoint.secret.encode() not in page.content
