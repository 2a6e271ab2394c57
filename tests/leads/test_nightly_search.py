"""The nightly search in-process (eager), with the real verification engine against sandbox
peers on loopback: only verified contacts become leads, each charged and delivered once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections

from billing.models import UsageEvent
from billing.selectors import billing_invariant_violations
from blocklists.models import DeliveryRecord
from blocklists.services import block_entry_add, suppression_add
from enrichment.models import ContactPoint
from leads.models import Lead, LeadStatus, SearchCandidate, SearchRun
from leads.services import nightly_dispatch, search_run_execute
from segments.services import segment_pause

from .world import segment_for, world_build


def leads_of(org):
    return list(Lead.objects.for_org(org).order_by("id"))


def test_only_verified_decision_makers_become_charged_leads(night, tenant_a, tenant_b):
    world, segment, run = night(tenant_a, size=9, verifiable=lambda i: i % 3 != 0)
    leads = leads_of(tenant_a.org)
    assert {lead.person_id for lead in leads} == world.verifiable_people
    assert len(leads) == 6
    for lead in leads:
        assert lead.status == LeadStatus.PENDING_APPROVAL  # the organisation's default mode
        assert lead.segment_id == segment.id
        assert lead.contact_kind == "email"
        first, last = lead.person_snapshot["first_name"], lead.person_snapshot["last_name"]
        assert (
            lead.contact_value
            == f"{first}.{last}@{lead.company_snapshot['website_domain']}".lower()
        )
        assert lead.evidence["verified"] is True and lead.evidence["status"] == "valid"
        assert lead.company_snapshot["name"] == lead.company_name
    events = UsageEvent.objects.for_org(tenant_a.org)
    assert sorted(e.lead_id for e in events) == [lead.id for lead in leads]
    assert all(e.verification_snapshot["verified"] for e in events)
    assert all(e.search_run_id == run.id and e.segment_id == segment.id for e in events)
    assert DeliveryRecord.objects.for_org(tenant_a.org).count() == 6
    assert billing_invariant_violations(organization=tenant_a.org) == []

    assert (run.status, run.stop_reason) == ("succeeded", "exhausted")
    assert (run.matched, run.verified, run.unverified) == (9, 6, 3)
    assert (run.leads_created, run.charged, run.errors) == (6, 6, 0)
    assert run.duration is not None
    # Organisation B got nothing of it.
    assert leads_of(tenant_b.org) == []
    assert not SearchRun.objects.for_org(tenant_b.org).exists()
    assert not UsageEvent.objects.for_org(tenant_b.org).exists()


def test_a_finished_run_does_nothing_and_the_next_night_skips_delivered_people(
    night, tenant_a, django_capture_on_commit_callbacks
):
    _, _, run = night(tenant_a, size=4, verifiable=lambda i: i != 1)
    again = search_run_execute(organization=tenant_a.org, run_id=run.id)
    assert again.attempts == run.attempts
    assert len(leads_of(tenant_a.org)) == 3

    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_a.org, run_date=dt.date(2026, 11, 27), enqueue=enqueued.append
        )
    (next_run,) = enqueued
    next_run = search_run_execute(organization=tenant_a.org, run_id=next_run.id)
    assert len(leads_of(tenant_a.org)) == 3  # nobody delivered twice
    assert (next_run.matched, next_run.leads_created, next_run.unverified) == (1, 0, 1)
    assert UsageEvent.objects.for_org(tenant_a.org).count() == 3


def test_the_nightly_cap_stops_the_run(night, tenant_a):
    _, _, run = night(tenant_a, size=8, nightly_cap=3)
    assert (run.leads_created, run.charged, run.stop_reason) == (3, 3, "nightly_cap")
    assert len(leads_of(tenant_a.org)) == 3


def test_the_monthly_quota_stops_the_run_mid_way(night, tenant_a):
    tenant_a.org.monthly_lead_quota = 4
    tenant_a.org.save()
    _, _, run = night(tenant_a, size=10, nightly_cap=25)
    assert (run.leads_created, run.charged, run.stop_reason) == (4, 4, "quota")
    assert UsageEvent.objects.for_org(tenant_a.org).count() == 4
    assert billing_invariant_violations(organization=tenant_a.org) == []


def test_a_person_is_delivered_once_even_through_two_segments(
    night, tenant_a, django_capture_on_commit_callbacks
):
    world, _, _ = night(tenant_a, size=5)
    second = segment_for(world, tenant_a.org, name="same people again")
    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    (run,) = [r for r in enqueued if r.segment_id == second.id]
    run = search_run_execute(organization=tenant_a.org, run_id=run.id)
    assert run.leads_created == 0
    assert len(leads_of(tenant_a.org)) == 5
    assert DeliveryRecord.objects.for_org(tenant_a.org).count() == 5


def test_the_same_people_can_be_delivered_to_another_organisation(
    night, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    world, _, _ = night(tenant_a, size=3)
    segment = segment_for(world, tenant_b.org)
    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_b.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    (run,) = [r for r in enqueued if r.segment_id == segment.id]
    search_run_execute(organization=tenant_b.org, run_id=run.id)
    assert len(leads_of(tenant_a.org)) == 3
    assert len(leads_of(tenant_b.org)) == 3
    assert UsageEvent.objects.for_org(tenant_b.org).count() == 3


def test_the_run_counts_the_blocked_suppressed_and_delivered_people_it_skipped(
    sandbox, prefix, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    world = world_build(prefix=prefix, size=6)
    sandbox(world.domains)
    enqueued = []

    def night(org, segment, day):
        with django_capture_on_commit_callbacks(execute=True):
            nightly_dispatch(organization=org, run_date=day, enqueue=enqueued.append)
        (run,) = [r for r in enqueued if r.segment_id == segment.id and r.run_date == day]
        return search_run_execute(organization=org, run_id=run.id)

    # Organisation B's first night takes one lead (the first company's).
    segment_b = segment_for(world, tenant_b.org, nightly_cap=1)
    first_b = night(tenant_b.org, segment_b, dt.date(2026, 11, 25))
    assert first_b.leads_created == 1
    # Company 1 is on A's block list; company 3's CEO objected to contact (global suppression).
    block_entry_add(
        organization=tenant_a.org, kind="domain", value=world.companies[1].website_domain
    )
    objector = world.people[3]
    address = f"{objector.first_name}.{objector.last_name}@{world.companies[3].website_domain}"
    suppression_add(kind="email", value=address.lower(), reason="objected")

    segment_a = segment_for(world, tenant_a.org, nightly_cap=25)
    run = night(tenant_a.org, segment_a, dt.date(2026, 11, 26))
    assert (run.leads_created, run.stop_reason) == (4, "exhausted")
    assert (run.skipped_blocked, run.skipped_suppressed, run.skipped_delivered) == (1, 1, 0)
    skipped = {world.people[1].id, objector.id}
    assert not {lead.person_id for lead in leads_of(tenant_a.org)} & skipped

    # A's next night: everyone left was delivered; nobody new is tried.
    again = night(tenant_a.org, segment_a, dt.date(2026, 11, 27))
    assert (again.leads_created, again.matched) == (0, 0)
    assert (again.skipped_blocked, again.skipped_suppressed, again.skipped_delivered) == (1, 1, 4)
    # A's block list is A's alone: B's next night skips the objector and its own delivery only.
    segment_b_all = segment_for(world, tenant_b.org, nightly_cap=25, name="all of them")
    b_run = night(tenant_b.org, segment_b_all, dt.date(2026, 11, 27))
    assert (b_run.skipped_blocked, b_run.skipped_suppressed, b_run.skipped_delivered) == (0, 1, 1)
    assert b_run.leads_created == 4


def test_contacts_found_at_night_are_checked_against_block_list_and_suppression(
    sandbox, prefix, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    """The directory knows no contact of these people before the night, so the matching query
    cannot exclude them: the e-mail the engine finds is checked before it is delivered."""
    world = world_build(prefix=prefix, size=5)
    sandbox(world.domains)

    def address(i: int) -> str:
        person = world.people[i]
        domain = world.companies[i].website_domain
        return f"{person.first_name}.{person.last_name}@{domain}".lower()

    assert not ContactPoint.objects.filter(person__in=world.people).exists()
    block_entry_add(organization=tenant_a.org, kind="email", value=address(1).upper())
    # A company's known domain is excluded by the matching query itself (never tried).
    block_entry_add(organization=tenant_a.org, kind="domain", value=address(2))
    suppression_add(kind="email", value=address(3), reason="objected")
    # B's block list is B's alone.
    block_entry_add(organization=tenant_b.org, kind="email", value=address(4))
    segment = segment_for(world, tenant_a.org)
    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    (run,) = [r for r in enqueued if r.segment_id == segment.id]
    run = search_run_execute(organization=tenant_a.org, run_id=run.id)

    leads = leads_of(tenant_a.org)
    assert sorted(lead.contact_value for lead in leads) == sorted([address(0), address(4)])
    assert UsageEvent.objects.for_org(tenant_a.org).count() == 2
    assert (run.leads_created, run.skipped_blocked, run.skipped_suppressed) == (2, 2, 1)
    outcomes = dict(
        SearchCandidate.objects.for_org(tenant_a.org)
        .filter(run=run)
        .values_list("person_id", "outcome")
    )
    assert outcomes == {
        world.people[0].id: "lead",
        world.people[1].id: "skipped_blocked",
        world.people[3].id: "skipped_suppressed",
        world.people[4].id: "lead",
    }
    assert (
        not DeliveryRecord.objects.for_org(tenant_a.org)
        .filter(person_id__in=[world.people[i].id for i in (1, 2, 3)])
        .exists()
    )
    assert leads_of(tenant_b.org) == []


def test_calendar_mode_places_leads_on_working_days_up_to_capacity(night, tenant_a):
    org = tenant_a.org
    org.delivery_mode = "calendar"
    org.leads_per_day = 2
    org.working_days = [0, 2, 4]  # Monday, Wednesday, Friday
    org.timezone = "America/New_York"
    org.save()
    night(tenant_a, size=5)
    leads = leads_of(org)
    assert {lead.status for lead in leads} == {LeadStatus.APPROVED}
    days = [lead.scheduled_date for lead in leads]
    assert all(day.weekday() in (0, 2, 4) for day in days)
    assert max(days.count(day) for day in days) == 2
    assert len(set(days)) == 3
    from leads.services import calendar_today

    assert min(days) >= calendar_today(organization=org)


def test_a_segment_can_override_the_delivery_mode(night, tenant_a):
    night(tenant_a, size=2, delivery_mode="calendar")
    assert {lead.status for lead in leads_of(tenant_a.org)} == {LeadStatus.APPROVED}
    assert all(lead.scheduled_date for lead in leads_of(tenant_a.org))


def test_a_paused_segment_gets_no_run(sandbox, prefix, tenant_a):
    world = world_build(prefix=prefix, size=2)
    segment = segment_for(world, tenant_a.org)
    segment_pause(organization=tenant_a.org, segment_id=segment.id)
    enqueued = []
    result = nightly_dispatch(
        organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
    )
    assert result.created == [] and enqueued == []


def test_the_dispatcher_waits_for_each_organisations_local_night_hour(
    prefix, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    tokyo, london = tenant_a.org, tenant_b.org
    tokyo.timezone, tokyo.night_hour = "Asia/Tokyo", 2
    tokyo.save()
    london.timezone, london.night_hour = "Europe/London", 2
    london.save()
    world = world_build(prefix=prefix, size=1)
    segment_for(world, tokyo)
    segment_for(world, london)
    enqueued = []
    before = dt.datetime(2026, 11, 26, 16, 30, tzinfo=dt.UTC)  # 01:30 in Tokyo
    with django_capture_on_commit_callbacks(execute=True):
        assert nightly_dispatch(now=before, enqueue=enqueued.append).created == []
    after = dt.datetime(2026, 11, 26, 17, 30, tzinfo=dt.UTC)  # 02:30 on the 27th in Tokyo
    with django_capture_on_commit_callbacks(execute=True):
        result = nightly_dispatch(now=after, enqueue=enqueued.append)
    (run,) = enqueued
    assert result.created == [run.id]
    assert (run.organization_id, run.run_date) == (tokyo.id, dt.date(2026, 11, 27))
    # London's night comes at 02:00 UTC; the second tick for Tokyo creates nothing new.
    london_night = dt.datetime(2026, 11, 27, 2, 5, tzinfo=dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        result = nightly_dispatch(now=london_night, enqueue=enqueued.append)
    assert [(r.organization_id, r.run_date) for r in enqueued[1:]] == [
        (london.id, dt.date(2026, 11, 27))
    ]
    assert SearchRun.objects.for_org(tokyo).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_create_one_run_per_segment(prefix, tenant_a, tenant_b):
    world = world_build(prefix=prefix, size=1)
    segments = [segment_for(world, tenant_a.org, name=f"s{i}") for i in range(3)]
    segments.append(segment_for(world, tenant_b.org))
    barrier = threading.Barrier(4)
    enqueued: list[SearchRun] = []
    now = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)  # 03:00 in London, night hour 02

    def dispatch():
        close_old_connections()
        try:
            barrier.wait()
            nightly_dispatch(now=now, enqueue=enqueued.append)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runs = list(SearchRun.all_orgs.order_by("segment_id"))
    assert [r.segment_id for r in runs] == [s.id for s in segments]
    assert sorted(r.id for r in enqueued) == [r.id for r in runs]  # each enqueued exactly once
    assert SearchCandidate.all_orgs.count() == 0


def test_a_run_left_running_by_a_dead_worker_is_enqueued_again(
    sandbox, prefix, tenant_a, django_capture_on_commit_callbacks
):
    world = world_build(prefix=prefix, size=2)
    sandbox(world.domains)
    segment_for(world, tenant_a.org)
    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    (run,) = enqueued

    def engine_crash(**kwargs):
        raise ConnectionResetError("verification host went away")

    with pytest.raises(ConnectionResetError):
        search_run_execute(organization=tenant_a.org, run_id=run.id, contacts_find=engine_crash)
    run.refresh_from_db()
    assert run.status == "running" and "went away" in run.last_error
    soon = run.started_at + dt.timedelta(minutes=5)
    later = run.started_at + dt.timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert nightly_dispatch(now=soon, enqueue=enqueued.append).requeued == []
        assert nightly_dispatch(
            now=later, organization=tenant_a.org, run_date=run.run_date, enqueue=enqueued.append
        ).requeued == [run.id]
    # Resumed by the requeued task: it finishes with the real engine.
    run = search_run_execute(organization=tenant_a.org, run_id=run.id)
    assert (run.status, run.attempts, run.leads_created) == ("succeeded", 2, 2)


def test_a_person_leading_two_companies_becomes_one_lead(
    sandbox, prefix, tenant_a, django_capture_on_commit_callbacks
):
    from tests.factories import CompanyFactory, RoleFactory

    world = world_build(prefix=prefix, size=3)
    twice = world.people[0]
    second_company = CompanyFactory(
        name=f"{prefix.title()} Trading Extra Ltd",
        country="GB",
        status="active",
        nace_primary=6201,
        website_domain=world.domains[0]["domain"],
    )
    RoleFactory(company=second_company, person=twice, kind="ceo")
    sandbox(world.domains)
    segment_for(world, tenant_a.org)
    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    run = search_run_execute(organization=tenant_a.org, run_id=enqueued[0].id)
    assert (run.status, run.leads_created, run.errors) == ("succeeded", 3, 0)
    assert Lead.objects.for_org(tenant_a.org).filter(person=twice).count() == 1
