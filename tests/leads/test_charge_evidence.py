"""Honest charges and their evidence in words (docs/charges.md), through a real nightly search
against the sandbox's DNS, SMTP and HTTP servers.

Four companies, one CEO each:
  0. the CEO's own mailbox exists                          -> charged, e-mail
  1. mail accepts anything; the site lists the CEO with a direct mobile -> charged, phone
  2. mail accepts anything; the site prints the registry phone next to the CEO -> not charged
  3. only post@ exists (a role account)                     -> not charged
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.html import escape

from enrichment.models import ContactPoint
from leads.models import CandidateOutcome, Lead, SearchCandidate
from leads.services import nightly_dispatch, search_run_execute
from sandbox.servers.worlds import domain_entry
from tests.factories import CompanyFactory, PersonFactory, RoleFactory

from .world import World, segment_for

CEOS = [("Kari", "Nordmann"), ("Ola", "Hansen"), ("Ingrid", "Berg"), ("Lars", "Lund")]
REGISTRY_PHONE = "+44 20 7946 0321"
SWITCHBOARD = "+44 20 7946 0555"
DIRECT = "+44 7400 123456"


def _site(world: World, i: int, **kw) -> dict:
    company = world.companies[i]
    return {
        "company_name": company.name,
        "country": "GB",
        "registry_id": company.registry_id,
        **kw,
    }


@pytest.fixture
def charged(sandbox, prefix, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    world = World(prefix=prefix)
    for i, (first, last) in enumerate(CEOS):
        company = CompanyFactory(
            name=f"{prefix.title()} Trading {i:03d} Ltd",
            country="GB",
            status="active",
            nace_primary=6201,
            website_domain=f"{prefix}{i:03d}.co.uk",
            phone=REGISTRY_PHONE if i == 2 else "",
        )
        person = PersonFactory(first_name=first, last_name=last, full_name=f"{first} {last}")
        RoleFactory(company=company, person=person, kind="ceo")
        world.companies.append(company)
        world.people.append(person)
    d = [c.website_domain for c in world.companies]
    world.domains = [
        domain_entry(
            d[0],
            mailboxes=["kari.nordmann", "info"],
            web=_site(world, 0, phones=[SWITCHBOARD], emails=[f"info@{d[0]}"]),
        ),
        domain_entry(
            d[1],
            behaviour="catch_all",
            web=_site(
                world,
                1,
                phones=[SWITCHBOARD],
                people=[{"name": "Ola Hansen", "title": "Managing Director", "phone": DIRECT}],
            ),
        ),
        domain_entry(
            d[2],
            behaviour="catch_all",
            web=_site(
                world,
                2,
                people=[{"name": "Ingrid Berg", "title": "Director", "phone": REGISTRY_PHONE}],
            ),
        ),
        domain_entry(d[3], mailboxes=["post"], web=_site(world, 3, emails=[f"post@{d[3]}"])),
    ]
    sandbox(world.domains)
    segment = segment_for(world, tenant_a.org)
    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    (run,) = [r for r in enqueued if r.segment_id == segment.id]
    run = search_run_execute(organization=tenant_a.org, run_id=run.id)
    leads = {lead.person_id: lead for lead in Lead.objects.for_org(tenant_a.org)}
    return world, run, leads


def test_only_the_decision_makers_own_contacts_are_charged(charged, tenant_b):
    world, run, leads = charged
    kari, ola, ingrid, lars = world.people
    assert {p: (lead.contact_kind, lead.contact_value) for p, lead in leads.items()} == {
        kari.id: ("email", f"kari.nordmann@{world.companies[0].website_domain}"),
        ola.id: ("phone", "+447400123456"),
    }
    assert (run.leads_created, run.charged) == (2, 2)
    assert not Lead.objects.for_org(tenant_b.org).exists()

    # The direct number is stored as Ola's, with the page that attributes it to him.
    point = ContactPoint.objects.get(id=leads[ola.id].contact_point_id)
    assert (point.person_id, point.attribution, point.attribution_source) == (
        ola.id,
        "person",
        f"http://{world.companies[1].website_domain}/",
    )
    # The registry phone next to Ingrid's name is her company's switchboard: not charged.
    outcomes = dict(
        SearchCandidate.objects.for_org(run.organization)
        .filter(run=run)
        .values_list("person_id", "reason")
    )
    assert outcomes[ingrid.id] == "catch_all"  # her own address is unproven; no number is hers
    registry = ContactPoint.objects.get(company=world.companies[2], kind="phone")
    assert (registry.person_id, registry.attribution, registry.normalized) == (
        None,
        "company",
        "+442079460321",
    )
    # post@ exists but is the company's: Lars is not charged.
    assert lars.id not in leads
    assert SearchCandidate.objects.for_org(run.organization).get(
        run=run, person_id=lars.id
    ).outcome == (CandidateOutcome.UNVERIFIED)
    assert not ContactPoint.objects.filter(
        person=lars, status="valid", attribution="person"
    ).exists()


def _at(lead: Lead) -> dt.datetime:
    return timezone.localtime(lead.verified_at)


def test_the_evidence_reads_as_sentences_on_the_page_and_in_the_api(charged, tenant_a, tenant_b):
    world, _run, leads = charged
    kari, ola = world.people[0], world.people[1]
    email_lead, phone_lead = leads[kari.id], leads[ola.id]
    d0, d1 = world.companies[0].website_domain, world.companies[1].website_domain
    at = _at(email_lead)
    email_sentences = [
        f"The e-mail address kari.nordmann@{d0} was built from the name Kari Nordmann in a "
        "common company format (first.last).",
        f"{d0} is the website the company registry lists for {world.companies[0].name}.",
        f"Its mail server mx1.{d0} accepted it on {date_format(at, 'DATE_FORMAT')} at "
        f"{time_format(at, 'H:i')} and rejects addresses that do not exist, so the "
        "mailbox exists.",
    ]
    phone_sentences = [
        f"The number +44 7400 123456 is listed next to Ola Hansen on http://{d1}/ "
        f"(checked {date_format(_at(phone_lead), 'DATE_FORMAT')}).",
        "It is a valid UK mobile number.",
        "Valid means the number is assigned in the numbering plan; the line was not called.",
        f"The company's own website names Ola Hansen as Managing Director on http://{d1}/ "
        "(confidence 95 %).",
    ]

    client = tenant_a.client_for(tenant_a.member)
    api = reverse(
        "leads-api:lead-detail", kwargs={"org_slug": tenant_a.org.slug, "lead_id": email_lead.id}
    )
    body = client.get(api).json()
    assert body["evidence_summary"] == email_sentences
    assert body["company_contacts"] == [
        {
            "kind": "phone",
            "value": "+44 20 7946 0555",
            "label": "Company switchboard",
            "source": f"http://{d0}/",
        },
        {
            "kind": "email",
            "value": f"info@{d0}",
            "label": "Company e-mail",
            "source": f"http://{d0}/",
        },
    ]
    assert body["evidence"]["evidence"]["verification"]["smtp"]  # the raw record stays
    phone_api = api.replace(f"/{email_lead.id}/", f"/{phone_lead.id}/")
    assert client.get(phone_api).json()["evidence_summary"] == phone_sentences
    # Another organisation's member sees neither.
    other = tenant_b.client_for(tenant_b.member)
    assert other.get(api.replace(tenant_a.org.slug, tenant_b.org.slug)).status_code == 404

    page = reverse("leads:detail", kwargs={"org_slug": tenant_a.org.slug, "lead_id": phone_lead.id})
    html = client.get(page).content.decode()
    for sentence in phone_sentences:
        assert f"<li>{escape(sentence)}</li>" in html
    assert (
        '<span class="muted">Company switchboard:</span> <span class="wrap">+44 20 7946 0555</span>'
        in html
    )
    assert '<p class="wrap">+44 7400 123456</p>' in html  # the charged number, as people write it
    assert '<details class="evidence-raw">' in html and "line_type" in html  # folded away
    assert (
        " style="
        not in html.split('<section class="charge-evidence"', 1)[1].split("</section>", 1)[0]
    )
