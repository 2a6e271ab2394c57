"""Celery entry points of the nightly search: thin, named, JSON kwargs, idempotent, acks_late.

- `leads.dispatch_nightly` (beat, every few minutes): creates the due runs and fans out one
  `leads.run_segment_search` per new run, after commit; also fans out the morning digests.
- `leads.run_segment_search`: one segment's run; safe to redeliver (see leads/services/search.py).
- `leads.dispute_recheck`: the automatic re-check of one dispute (leads/services/disputes.py).
- `leads.send_digest`: one organisation's morning: today's scheduled leads with stale evidence are
  re-verified, then the digest is sent (at most once per local date).
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from organizations.models import Organization

from .models import SearchRun
from .services import (
    digest_due,
    digest_send,
    leads_reverify_scheduled,
    nightly_dispatch,
    search_run_execute,
)
from .services.disputes import dispute_recheck as dispute_recheck_service


def enqueue_run(run: SearchRun) -> None:
    run_segment_search.delay(organization_id=run.organization_id, run_id=run.id)


@shared_task(name="leads.dispatch_nightly", acks_late=True, time_limit=300, soft_time_limit=240)
def dispatch_nightly() -> dict:
    result = nightly_dispatch(enqueue=enqueue_run)
    digests = digest_due()
    for org, day in digests:
        send_digest.delay(organization_id=org.id, digest_date=day.isoformat())
    return {"created": result.created, "requeued": result.requeued, "digests": len(digests)}


@shared_task(
    name="leads.run_segment_search",
    acks_late=True,
    reject_on_worker_lost=True,
    # A run of a 1,000-lead cap against slow mail servers fits well inside this; the broker's
    # visibility timeout (CELERY_VISIBILITY_TIMEOUT) must stay above it.
    soft_time_limit=1800,
    time_limit=1900,
    # Transient database trouble, or a run cut off by the soft limit: retry, the run resumes.
    autoretry_for=(OperationalError, SoftTimeLimitExceeded),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def run_segment_search(*, organization_id: int, run_id: int) -> dict:
    organization = Organization.objects.get(pk=organization_id)
    run = search_run_execute(organization=organization, run_id=run_id)
    return {"run_id": run.id, "status": run.status, "leads": run.leads_created}


@shared_task(name="leads.send_digest", acks_late=True, time_limit=600, soft_time_limit=540)
def send_digest(*, organization_id: int, digest_date: str) -> bool:
    """The morning of delivery: re-verify today's stale leads first, then the digest."""
    organization = Organization.objects.get(pk=organization_id)
    day = dt.date.fromisoformat(digest_date)
    leads_reverify_scheduled(organization=organization, on=day)
    log = digest_send(organization=organization, on=day)
    return log is not None


@shared_task(
    name="leads.dispute_recheck",
    acks_late=True,
    reject_on_worker_lost=True,
    # A bounce re-check probes one mail server: seconds, or the engine's timeouts at worst.
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_kwargs={"max_retries": 5},
)
def dispute_recheck(*, organization_id: int, dispute_id: int) -> str | None:
    """The automatic re-check of a dispute (enqueued by billing.disputes.dispute_open on commit)."""
    organization = Organization.objects.get(pk=organization_id)
    dispute = dispute_recheck_service(organization=organization, dispute_id=dispute_id)
    return dispute.status if dispute is not None else None
