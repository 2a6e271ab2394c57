"""Charges under concurrency and changes made while a nightly run works: what a customer is
charged for matches what the organisation's rules allow at the moment of the charge."""

from __future__ import annotations

import datetime as dt

from billing.models import UsageEvent
from billing.selectors import billing_invariant_violations
from blocklists.services import suppression_add
from enrichment.models import ContactPoint
from leads.models import Lead, SearchCandidate
from leads.services import nightly_dispatch, search_run_execute
from sandbox.servers.worlds import domain_entry
from tests.factories import CompanyFactory, PersonFactory, RoleFactory

from .world import segment_for, world_build


def test_two_segments_running_at_once_charge_one_lead_per_company(
    sandbox, prefix, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    """One lead per company per organisation, ever (docs/blocklists.md): two segments that want
    different roles at the same company, running at the same time, must not both be charged."""
    from enrichment.services import decision_maker_contacts_find
    from segments.services import segment_activate, segment_create

    company = CompanyFactory(
        name=f"{prefix.title()} Trading Ltd",
        country="GB",
        status="active",
        nace_primary=6201,
        website_domain=f"{prefix}.co.uk",
    )
    ceo = PersonFactory(first_name="Kari", last_name="Berg", full_name="Kari Berg")
    chair = PersonFactory(first_name="Ola", last_name="Lund", full_name="Ola Lund")
    RoleFactory(company=company, person=ceo, kind="ceo")
    RoleFactory(company=company, person=chair, kind="chair")
    sandbox([domain_entry(f"{prefix}.co.uk", mailboxes=["kari.berg", "ola.lund"])])
    segments = [
        segment_activate(
            organization=tenant_a.org,
            segment_id=segment_create(
                organization=tenant_a.org,
                name=f"wants {role}",
                criteria={"countries": ["GB"], "name_keywords": [prefix], "roles": [role]},
            ).id,
        )
        for role in ("ceo", "chair")
    ]
    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    first, second = (next(r for r in enqueued if r.segment_id == s.id) for s in segments)

    def find_while_the_other_run_delivers(**kwargs):
        # The chair segment's run works while this run verifies its candidates (two workers).
        search_run_execute(organization=tenant_a.org, run_id=second.id)
        return decision_maker_contacts_find(**kwargs)

    search_run_execute(
        organization=tenant_a.org, run_id=first.id, contacts_find=find_while_the_other_run_delivers
    )
    leads = Lead.objects.for_org(tenant_a.org)
    assert [lead.person_id for lead in leads] == [chair.id]  # the run that delivered first
    assert UsageEvent.objects.for_org(tenant_a.org).count() == 1
    outcome = SearchCandidate.objects.for_org(tenant_a.org).get(run_id=first.id, person_id=ceo.id)
    assert outcome.outcome == "skipped_delivered"
    assert billing_invariant_violations(organization=tenant_a.org) == []


def test_a_segment_paused_during_its_run_is_not_charged_any_more(
    sandbox, prefix, tenant_a, django_capture_on_commit_callbacks
):
    """The customer pauses the segment while tonight's run verifies: nothing more is charged."""
    from enrichment.services import decision_maker_contacts_find
    from segments.services import segment_pause

    world = world_build(prefix=prefix, size=6)
    sandbox(world.domains)
    segment = segment_for(world, tenant_a.org)

    def find_while_the_customer_pauses(**kwargs):
        segment_pause(organization=tenant_a.org, segment_id=segment.id)
        return decision_maker_contacts_find(**kwargs)

    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    (run,) = enqueued
    run = search_run_execute(
        organization=tenant_a.org, run_id=run.id, contacts_find=find_while_the_customer_pauses
    )
    assert Lead.objects.for_org(tenant_a.org).count() == 0
    assert UsageEvent.objects.for_org(tenant_a.org).count() == 0
    assert (run.status, run.stop_reason, run.charged) == ("succeeded", "segment_inactive", 0)


def address(world, i: int) -> str:
    person, company = world.people[i], world.companies[i]
    return f"{person.first_name}.{person.last_name}@{company.website_domain}".lower()


def night(org, segment, capture):
    enqueued = []
    with capture(execute=True):
        nightly_dispatch(organization=org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append)
    (run,) = [r for r in enqueued if r.segment_id == segment.id]
    return search_run_execute(organization=org, run_id=run.id)


def test_an_objector_reached_by_their_direct_phone_is_not_charged(
    sandbox, prefix, tenant_a, django_capture_on_commit_callbacks
):
    """The person objected with their e-mail address. Their mail domain accepts everything, so the
    address cannot be verified, but the engine tried it (now a known contact of theirs) and
    reached the direct number the company's site lists next to them: the objection is about the
    person, whatever the channel. (This used to reach the registry phone, which is the
    company's and no longer verifies anyone.)"""
    world = world_build(prefix=prefix, size=2)
    person = world.people[1]
    site = {
        "company_name": world.companies[1].name,
        "country": "GB",
        "registry_id": world.companies[1].registry_id,
        "people": [{"name": person.full_name, "title": "Director", "phone": "+44 7400 123456"}],
    }
    domains = [
        domain_entry(d["domain"], behaviour="catch_all", web=site) if i == 1 else d
        for i, d in enumerate(world.domains)
    ]
    sandbox(domains)
    suppression_add(kind="email", value=address(world, 1), reason="objected")

    run = night(tenant_a.org, segment_for(world, tenant_a.org), django_capture_on_commit_callbacks)
    assert ContactPoint.objects.filter(
        person=world.people[1], normalized=address(world, 1)
    ).exists()
    delivered = set(Lead.objects.for_org(tenant_a.org).values_list("person_id", flat=True))
    assert delivered == {world.people[0].id}
    assert (run.leads_created, run.charged, run.skipped_suppressed) == (1, 1, 1)
