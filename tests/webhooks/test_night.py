"""A slow receiver never holds up the night: the night's leads are announced through the outbox
and a real Celery worker sends them after the run's transaction, each attempt cut at 10 s."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from leads.models import Lead, SearchRun
from leads.services import nightly_dispatch, search_run_execute
from tests.leads.workers import wait_until
from tests.leads.world import segment_for, world_build
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import endpoint_create

from .receiver import Answer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_receiver_taking_10_s_does_not_hold_up_the_night(
    workers, sandbox, prefix, tenant_a, receiver
):
    slow = receiver([Answer(200, delay=10)] * 10)
    endpoint_create(
        organization=tenant_a.org,
        url=slow.url(),
        events=["lead.created", "usage.recorded", "search_run.completed"],
    )
    world = world_build(prefix=prefix, size=4)
    sandbox(world.domains)
    segment = segment_for(world, tenant_a.org)
    enqueued: list[SearchRun] = []

    started = time.monotonic()
    nightly_dispatch(
        organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
    )
    (run,) = [r for r in enqueued if r.segment_id == segment.id]
    run = search_run_execute(organization=tenant_a.org, run_id=run.id)
    night_s = time.monotonic() - started

    leads = Lead.objects.for_org(tenant_a.org).count()
    assert run.status == "succeeded" and leads == 4
    # 9 events (4 leads, 4 charges, the run) to a receiver taking 10 s each: 90 s if inline.
    assert WebhookDelivery.objects.for_org(tenant_a.org).count() == 9
    assert night_s < 10, f"the night took {night_s:.1f} s"
    assert not WebhookAttempt.objects.for_org(tenant_a.org).exists(), "nothing sent in the night"

    workers.start(
        env={
            "LEADPILOT_WEBHOOKS_ALLOW_PRIVATE": "true",
            "LEADPILOT_WEBHOOKS_REQUIRE_HTTPS": "false",
        }
    )
    try:
        wait_until(
            lambda: WebhookAttempt.objects.for_org(tenant_a.org).exists(),
            timeout=60,
            what="the worker's first attempt",
        )
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    attempt = WebhookAttempt.objects.for_org(tenant_a.org).get()
    assert len(slow.received) >= 1
    # Cut at the 10 s total limit (or answered just inside it); never more than a little over.
    assert 9_000 <= attempt.response_ms <= 12_000, attempt.response_ms


def test_a_receiver_failing_three_times_gets_the_event_from_the_worker_once_it_answers(
    workers, tenant_a, tenant_b, receiver
):
    """Real back-off on a real worker (1 s apart here): the fourth attempt succeeds, every attempt
    carries the same webhook-id and body, and nothing more is sent after the success."""
    from django.db import transaction

    from webhooks.events import event_emit

    flaky = receiver([Answer(500), Answer(502), Answer(503)])
    endpoint_create(organization=tenant_a.org, url=flaky.url(), events=["lead.approved"])
    endpoint_create(organization=tenant_b.org, url=flaky.url("/b"), events=["lead.approved"])
    workers.start(
        env={
            "LEADPILOT_WEBHOOKS_ALLOW_PRIVATE": "true",
            "LEADPILOT_WEBHOOKS_REQUIRE_HTTPS": "false",
            "LEADPILOT_WEBHOOKS_RETRY_DELAYS": "1",
        }
    )
    with transaction.atomic():
        event_emit(organization=tenant_a.org, type="lead.approved", data={"id": 42})
    try:
        wait_until(
            lambda: WebhookDelivery.objects.for_org(tenant_a.org).get().status == "succeeded",
            timeout=60,
            what="the delivery to succeed",
        )
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    time.sleep(2)
    assert len(flaky.received) == 4
    assert len({r.headers["webhook-id"] for r in flaky.received}) == 1
    assert len({r.body for r in flaky.received}) == 1
    assert all(r.path == "/hooks" for r in flaky.received), "B's endpoint got A's event"
    codes = list(
        WebhookAttempt.objects.for_org(tenant_a.org)
        .order_by("attempted_at")
        .values_list("status_code", flat=True)
    )
    assert codes == [500, 502, 503, 200]
