"""The nightly search on real Celery worker processes against Redis and PostgreSQL, with the real
verification engine against sandbox peers: crashes, redelivery and races end with every lead
exactly once and one usage event per lead."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count

from billing.models import UsageEvent
from billing.selectors import billing_invariant_violations
from blocklists.models import DeliveryRecord
from leads.models import Lead, SearchCandidate, SearchRun
from leads.services import nightly_dispatch
from leads.tasks import dispatch_nightly, enqueue_run

from .workers import wait_until
from .world import segment_for, world_build

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NIGHT = dt.date(2026, 11, 26)


def assert_each_lead_once(org) -> int:
    leads = Lead.objects.for_org(org)
    n = leads.count()
    assert leads.values("person_id").distinct().count() == n, "a person was delivered twice"
    assert UsageEvent.objects.for_org(org).count() == n, "usage events != leads"
    assert set(UsageEvent.objects.for_org(org).values_list("lead_id", flat=True)) == set(
        leads.values_list("id", flat=True)
    )
    assert DeliveryRecord.objects.for_org(org).count() == n
    assert not (
        SearchCandidate.objects.for_org(org)
        .values("run_id", "person_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    assert billing_invariant_violations(organization=org) == []
    return n


def finished(org) -> bool:
    runs = SearchRun.objects.for_org(org)
    return runs.exists() and not runs.exclude(status__in=["succeeded", "failed"]).exists()


def test_a_worker_killed_mid_run_is_redelivered_and_every_lead_exists_once(
    workers, sandbox, prefix, tenant_a, tenant_b
):
    org = tenant_a.org
    world = world_build(prefix=prefix, size=48, verifiable=lambda i: i % 4 != 0)  # 36 verifiable
    sandbox(world.domains, smtp_latency_ms=40)
    # More than the free plan's 25 leads: the run must stop at its nightly cap, not the quota.
    org.monthly_lead_quota = 100
    org.save(update_fields=["monthly_lead_quota"])
    segment_for(world, org, nightly_cap=30)
    small_batches = {"LEADPILOT_SEARCH_BATCH_MAX": "3"}
    first = workers.start(env=small_batches)
    nightly_dispatch(organization=org, run_date=NIGHT, enqueue=enqueue_run)
    try:
        wait_until(
            lambda: Lead.objects.for_org(org).count() >= 4, timeout=90, what="the first leads"
        )
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    workers.kill(first)
    at_kill = Lead.objects.for_org(org).count()
    run = SearchRun.objects.for_org(org).get()
    assert run.status == "running" and at_kill < 30, "the run must be cut off mid-way"

    workers.start(env=small_batches)  # the message comes back after the visibility timeout
    try:
        wait_until(lambda: finished(org), timeout=120, what="the redelivered run to finish")
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    run.refresh_from_db()
    assert run.attempts >= 2, "the task was not redelivered"
    assert (run.status, run.stop_reason) == ("succeeded", "nightly_cap")
    assert assert_each_lead_once(org) == 30
    assert (run.leads_created, run.charged) == (30, 30)
    assert not Lead.objects.for_org(tenant_b.org).exists()


def test_two_dispatchers_at_once_create_one_run_per_segment_and_night(
    workers, sandbox, prefix, tenant_a, tenant_b
):
    now_london = dt.datetime.now(tz=tenant_a.org.tz)
    worlds = []
    for tenant in (tenant_a, tenant_b):
        tenant.org.night_hour = now_london.hour
        tenant.org.save()
    for i in range(2):
        world = world_build(prefix=f"{prefix}{i}d", size=6)
        worlds.append(world)
    sandbox([d for w in worlds for d in w.domains])
    for i, world in enumerate(worlds):
        segment_for(world, tenant_a.org, nightly_cap=4, name=f"a{i}")
    segment_for(worlds[0], tenant_b.org, nightly_cap=4)
    workers.start(concurrency=2)
    dispatch_nightly.delay()
    dispatch_nightly.delay()
    try:
        wait_until(
            lambda: (
                finished(tenant_a.org)
                and finished(tenant_b.org)
                and SearchRun.all_orgs.count() == 3
            ),
            timeout=90,
            what="three runs to finish",
        )
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    runs = SearchRun.all_orgs.all()
    assert runs.values("segment_id", "run_date").distinct().count() == 3
    assert assert_each_lead_once(tenant_a.org) == 8
    assert assert_each_lead_once(tenant_b.org) == 4


def test_concurrent_workers_never_overshoot_the_monthly_quota(workers, sandbox, prefix, tenant_a):
    org = tenant_a.org
    org.monthly_lead_quota = 10
    org.save()
    worlds = [world_build(prefix=f"{prefix}{i}q", size=8) for i in range(3)]
    sandbox([d for w in worlds for d in w.domains], smtp_latency_ms=10)
    for i, world in enumerate(worlds):
        segment_for(world, org, nightly_cap=8, name=f"q{i}")
    workers.start(concurrency=2, env={"LEADPILOT_SEARCH_BATCH_MAX": "2"})
    workers.start(concurrency=1, env={"LEADPILOT_SEARCH_BATCH_MAX": "2"})
    nightly_dispatch(organization=org, run_date=NIGHT, enqueue=enqueue_run)
    try:
        wait_until(lambda: finished(org), timeout=120, what="the three runs to finish")
    except AssertionError:
        raise AssertionError(workers.logs()) from None
    assert assert_each_lead_once(org) == 10
    runs = list(SearchRun.objects.for_org(org))
    assert sum(r.charged for r in runs) == 10
    assert "quota" in {r.stop_reason for r in runs}
