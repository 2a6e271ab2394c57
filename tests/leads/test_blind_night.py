"""A night that knows when it is blind: with the resolver or every mail server unreachable, the run
fails (stop reason `outage`, a reason in words), records nobody as having no contact, charges
nothing, tells staff once, and the dispatcher's retry succeeds once the peers are back. Through
the nightly path (nightly_dispatch -> search_run_execute), the real engine, sandbox peers."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from billing.models import UsageEvent
from enrichment.models import ContactPoint
from leads.models import CandidateOutcome, Lead, SearchCandidate, SearchRun
from leads.services import nightly_dispatch, search_run_execute
from tests.factories import UserFactory

from .world import segment_for, world_build

NIGHT = dt.date(2026, 11, 26)


def closed_port(kind: int) -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def blind_settings(settings):
    settings.LEADPILOT_SEARCH_DNS_TIMEOUT = 0.5
    settings.LEADPILOT_SEARCH_SMTP_TIMEOUT = 0.5
    settings.LEADPILOT_ADMINS = []
    settings.ADMINS = [("Ops", "ops@leadpilot.test")]
    return settings


def dispatch(org, capture, *, now=None):
    enqueued: list[SearchRun] = []
    with capture(execute=True):
        result = nightly_dispatch(
            organization=org, run_date=NIGHT, enqueue=enqueued.append, now=now
        )
    return enqueued, result


def execute(org, run_id, capture):
    with capture(execute=True):
        return search_run_execute(organization=org, run_id=run_id)


def test_resolver_down_for_a_whole_run_fails_it_and_the_retry_succeeds(
    sandbox, prefix, tenant_a, tenant_b, blind_settings, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    capture = django_capture_on_commit_callbacks
    UserFactory(is_staff=True, email="staff@leadpilot.test")
    world = world_build(prefix=f"{prefix}dns", size=6)
    sb = sandbox(world.domains)
    segment_for(world, tenant_a.org)
    blind_settings.LEADPILOT_DNS_NAMESERVER = f"127.0.0.1:{closed_port(socket.SOCK_DGRAM)}"

    (run,), _ = dispatch(tenant_a.org, capture)
    run = execute(tenant_a.org, run.id, capture)
    assert (run.status, run.stop_reason) == ("failed", "outage")
    assert run.get_status_display() == "Failed"
    assert "blind" in run.failure_reason and "6 of 6" in run.failure_reason
    assert "dns_error" in run.last_error
    assert run.retry_at is not None and run.outage_failures == 1
    # Nobody recorded as having no contact, nothing charged.
    assert not SearchCandidate.objects.for_org(tenant_a.org).filter(run=run).exists()
    assert not Lead.objects.for_org(tenant_a.org).exists()
    assert not UsageEvent.objects.for_org(tenant_a.org).exists()
    people = [p.id for p in world.people]
    assert not ContactPoint.objects.filter(person_id__in=people, status="invalid").exists()
    # Staff told: ADMINS and the staff users, once.
    assert sorted(to for m in mailoutbox for to in m.to) == [
        "ops@leadpilot.test",
        "staff@leadpilot.test",
    ]
    assert "blind" in mailoutbox[0].subject

    # Still blind at the next try (the operator's re-run): failed again, no second mail.
    run = execute(tenant_a.org, run.id, capture)
    assert (run.status, run.outage_failures) == ("failed", 2)
    assert len(mailoutbox) == 2

    # The beat tick before the back-off is over does not enqueue it; after, it does.
    enqueued, _ = dispatch(tenant_a.org, capture, now=run.retry_at - dt.timedelta(minutes=1))
    assert enqueued == []
    blind_settings.LEADPILOT_DNS_NAMESERVER = f"127.0.0.1:{sb.dns_port}"
    enqueued, result = dispatch(tenant_a.org, capture, now=run.retry_at + dt.timedelta(minutes=1))
    assert [r.id for r in enqueued] == [run.id] and result.requeued == [run.id]
    run = execute(tenant_a.org, run.id, capture)
    assert (run.status, run.stop_reason, run.failure_reason) == ("succeeded", "exhausted", "")
    assert run.leads_created == 6 and run.charged == 6
    assert {lead.person_id for lead in Lead.objects.for_org(tenant_a.org)} == set(people)
    assert len(mailoutbox) == 2
    # The other organisation saw none of it.
    assert not SearchRun.objects.for_org(tenant_b.org).exists()
    assert not Lead.objects.for_org(tenant_b.org).exists()


def test_smtp_refused_everywhere_fails_the_run_without_recording_anyone(
    sandbox, prefix, tenant_a, blind_settings, mailoutbox, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    world = world_build(prefix=f"{prefix}smtp", size=5)
    sandbox(world.domains)
    segment_for(world, tenant_a.org)
    blind_settings.LEADPILOT_SMTP_PORT = closed_port(socket.SOCK_STREAM)

    (run,), _ = dispatch(tenant_a.org, capture)
    run = execute(tenant_a.org, run.id, capture)
    assert (run.status, run.stop_reason) == ("failed", "outage")
    assert "smtp_timeout" in run.last_error
    assert not SearchCandidate.objects.for_org(tenant_a.org).filter(run=run).exists()
    assert not UsageEvent.objects.for_org(tenant_a.org).exists()
    assert len(mailoutbox) == 1


def test_a_few_unreachable_servers_do_not_make_a_night_blind(
    sandbox, prefix, tenant_a, blind_settings, django_capture_on_commit_callbacks
):
    """One tarpitting domain in six is a slow server, not a blind night: the run finishes and
    records that candidate (unknown, never charged) like any other."""
    from sandbox.servers.worlds import domain_entry

    capture = django_capture_on_commit_callbacks
    world = world_build(prefix=f"{prefix}few", size=6)
    world.domains[0] = domain_entry(world.domains[0]["domain"], behaviour="tarpit")
    sandbox(world.domains, tarpit_seconds=2.0)
    segment_for(world, tenant_a.org)

    (run,), _ = dispatch(tenant_a.org, capture)
    run = execute(tenant_a.org, run.id, capture)
    assert (run.status, run.stop_reason) == ("succeeded", "exhausted")
    assert run.leads_created == 5
    outcomes = SearchCandidate.objects.for_org(tenant_a.org).filter(run=run)
    assert outcomes.filter(outcome=CandidateOutcome.LEAD).count() == 5
    (slow,) = outcomes.exclude(outcome=CandidateOutcome.LEAD)
    assert (slow.outcome, slow.reason) == ("unverified", "smtp_timeout")
