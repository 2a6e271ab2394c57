"""People found on company websites become leads through the nightly search (issue 15): a
Swedish company (Bolagsverket names no officers) whose own team page names its VD with a direct
mobile; a British company whose page names someone else than its registry CEO."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from enrichment.evidence import charge_sentences
from enrichment.models import Role
from enrichment.people import site_decision_makers_create
from leads.models import Lead
from leads.services import nightly_dispatch, search_run_execute
from sandbox.servers.worlds import domain_entry
from segments.services import segment_activate, segment_create
from tests.factories import CompanyFactory, PersonFactory, RoleFactory

TEAM_PATH = "/om-oss/medarbetare"


def _web(name, country, registry_id, people, **extra):
    return {
        "company_name": name,
        "country": country,
        "registry_id": registry_id,
        "https": True,
        "www": True,
        "pages": [{"path": TEAM_PATH, "title": "Medarbetare", "lang": "sv", "people": people}],
        **extra,
    }


@pytest.fixture
def https_sandbox(sandbox, settings):
    def start(domains):
        sb = sandbox(domains)
        settings.LEADPILOT_HTTPS_PORT = sb.https_port
        settings.LEADPILOT_HTTP_CA_FILE = sb.ca_file
        return sb

    return start


def _night(tenant, *, country, keyword, capture):
    segment = segment_create(
        organization=tenant.org,
        name=f"{keyword} {country}",
        criteria={"countries": [country], "name_keywords": [keyword]},
        nightly_cap=10,
    )
    segment_activate(organization=tenant.org, segment_id=segment.id)
    enqueued = []
    with capture(execute=True):
        nightly_dispatch(
            organization=tenant.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    (run,) = [r for r in enqueued if r.segment_id == segment.id]
    return search_run_execute(organization=tenant.org, run_id=run.id)


def test_a_vd_named_on_a_swedish_team_page_becomes_a_lead_with_its_source(
    https_sandbox, prefix, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    domain = f"{prefix}fjall.se"
    company = CompanyFactory(
        name=f"{prefix} Fjäll AB",
        country="SE",
        status="active",
        nace_primary=6201,
        registry_id="5566778899",
        website_domain=domain,
    )
    people = [
        {"name": "Anna Lindqvist", "title": "VD", "phone": "+46 70 123 45 67"},
        {"name": "Erik Berg", "title": "Säljare", "phone": "+46 70 999 88 77"},
    ]
    sb = https_sandbox(
        [
            domain_entry(
                domain,
                mailboxes=["info"],
                web=_web(company.name, "SE", "5566778899", people, phones=["+46 8 123 456 78"]),
            )
        ]
    )
    assert not Role.objects.filter(company=company).exists()  # the registry names nobody

    created = site_decision_makers_create(company_ids=[company.id])
    page = f"https://www.{domain}{TEAM_PATH}"
    assert [(c["name"], c["kind"], c["source_url"]) for c in created] == [
        ("Anna Lindqvist", "ceo", page)
    ]
    role = Role.objects.get(company=company)
    assert role.details["source"] == "website" and role.details["source_url"] == page
    assert role.details["confidence"] >= 0.7 and role.kind_raw == "VD"
    # Read over HTTPS after redirects (http -> https, bare -> www); the salesperson is no
    # decision-maker.
    assert ("https", f"www.{domain}", TEAM_PATH) in sb.http.log
    assert site_decision_makers_create(company_ids=[company.id]) == []  # has one now

    run = _night(tenant_a, country="SE", keyword=prefix, capture=django_capture_on_commit_callbacks)
    (lead,) = Lead.objects.for_org(tenant_a.org)
    assert lead.person_id == role.person_id and lead.person_name == "Anna Lindqvist"
    assert (lead.contact_kind, lead.contact_value) == ("phone", "+46701234567")
    proof = lead.evidence["evidence"]
    verification = proof["verification"]
    assert verification["attribution"] == "person"
    assert verification["attribution_source"] == page
    assert proof["site_person"]["page"] == page
    assert proof["site_person"]["title"] == "VD"
    sentences = charge_sentences(
        evidence=lead.evidence, person=lead.person_snapshot, company=lead.company_snapshot
    )
    assert sentences[0] == (
        f"The number +46 70 123 45 67 is listed next to Anna Lindqvist on {page} (checked "
        f"{date_format(timezone.localtime(lead.verified_at), 'DATE_FORMAT')})."
    )
    assert sentences[-1] == (
        f"The company's own website names Anna Lindqvist as VD on {page} (confidence 95 %)."
    )
    assert run.leads_created == 1
    assert not Lead.objects.for_org(tenant_b.org).exists()


def test_a_page_naming_someone_else_is_not_attributed_to_the_registry_ceo(
    https_sandbox, prefix, tenant_a, django_capture_on_commit_callbacks
):
    domain = f"{prefix}wrong.co.uk"
    company = CompanyFactory(
        name=f"{prefix} Wrong Page Ltd",
        country="GB",
        status="active",
        nace_primary=6201,
        website_domain=domain,
    )
    ceo = PersonFactory(first_name="Kari", last_name="Nordmann", full_name="Kari Nordmann")
    RoleFactory(company=company, person=ceo, kind="ceo")
    others = [{"name": "Ola Hansen", "title": "CEO", "phone": "+44 7400 123456"}]
    https_sandbox(
        [domain_entry(domain, mailboxes=["info"], web=_web(company.name, "GB", "", others))]
    )
    run = _night(tenant_a, country="GB", keyword=prefix, capture=django_capture_on_commit_callbacks)
    assert not Lead.objects.for_org(tenant_a.org).exists()
    assert (run.matched, run.leads_created) == (1, 0)
    assert site_decision_makers_create(company_ids=[company.id]) == []  # registry names a CEO


def test_the_site_people_task_skips_read_sites_and_tries_unreachable_ones_again(
    https_sandbox, prefix, db
):
    from django.core.cache import cache

    from enrichment.tasks import discover_site_people

    up, down = f"{prefix}oppe.se", f"{prefix}nere.se"
    people = [{"name": "Lars Sjöberg", "title": "Verkställande direktör"}]
    companies = {
        d: CompanyFactory(name=f"{prefix} {d}", country="SE", status="active", website_domain=d)
        for d in (up, down)
    }
    https_sandbox(
        [
            domain_entry(up, mailboxes=["info"], web=_web(up, "SE", "5566000001", people)),
            domain_entry(down, dns="servfail", mailboxes=["info"]),
        ]
    )
    cache.clear()
    assert discover_site_people(limit=10) == {"companies": 2, "people": 1, "unreachable": 1}
    role = Role.objects.get(company=companies[up])
    assert (role.kind, role.person.full_name) == ("ceo", "Lars Sjöberg")
    assert not Role.objects.filter(company=companies[down]).exists()
    # The read site is not read again; the unreachable one is tried on the next run.
    assert discover_site_people(limit=10) == {"companies": 1, "people": 0, "unreachable": 1}


def test_a_swedish_segment_activated_today_delivers_a_site_found_vd_in_its_first_night(
    https_sandbox, prefix, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    """No hourly task ran: the night reads the sites of the segment's companies that name no
    decision-maker. One company's registry entry names its website, one names none (its site is
    found from its name and confirmed by the registry number on it), one's site is down tonight
    (not marked as read: the next night reads it), one has no site at all."""
    from django.core.cache import cache

    cache.clear()
    listed, unlisted, down = f"{prefix}fjall.se", f"{prefix}dal.se", f"{prefix}nere.se"
    fjall = CompanyFactory(
        name=f"{prefix} Fjäll AB", country="SE", status="active", registry_id="5566778899",
        website_domain=listed,
    )  # fmt: skip
    dal = CompanyFactory(
        name=f"{prefix} Dal AB", country="SE", status="active", registry_id="5566112233"
    )
    nere = CompanyFactory(
        name=f"{prefix} Nere AB", country="SE", status="active", registry_id="5566445566",
        website_domain=down,
    )  # fmt: skip
    CompanyFactory(name=f"{prefix} Ingen AB", country="SE", status="active")
    # Another country's company in organisation B's segment: not read for A's run.
    norsk = CompanyFactory(
        name=f"{prefix} Nord AS", country="NO", status="active", website_domain=f"{prefix}n.no"
    )
    vd = [{"name": "Anna Lindqvist", "title": "VD", "phone": "+46 70 123 45 67"}]
    vd_dal = [{"name": "Johan Ek", "title": "Verkställande direktör", "phone": "+46 70 555 12 34"}]
    sb = https_sandbox(
        [
            domain_entry(listed, mailboxes=["info"], web=_web(fjall.name, "SE", "5566778899", vd)),
            domain_entry(
                unlisted, mailboxes=["info"], web=_web(dal.name, "SE", "5566112233", vd_dal)
            ),
            domain_entry(down, dns="servfail", mailboxes=["info"]),
            domain_entry(
                f"{prefix}n.no",
                mailboxes=["post"],
                web=_web(norsk.name, "NO", "", [{"name": "Ola Hansen", "title": "Daglig leder"}]),
            ),
        ]
    )
    segment = segment_create(
        organization=tenant_a.org,
        name="Swedish companies, VD",
        criteria={"countries": ["SE"], "name_keywords": [prefix], "roles": ["ceo"]},
        nightly_cap=10,
    )
    # Bolagsverket names nobody: activation needs the confirmation, and the segment is new.
    segment_activate(
        organization=tenant_a.org, segment_id=segment.id, confirm_no_decision_makers=True
    )
    assert not Role.objects.filter(company__name__startswith=prefix).exists()

    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=tenant_a.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
        )
    (run,) = [r for r in enqueued if r.segment_id == segment.id]
    run = search_run_execute(organization=tenant_a.org, run_id=run.id)

    leads = {lead.person_name: lead for lead in Lead.objects.for_org(tenant_a.org)}
    assert sorted(leads) == ["Anna Lindqvist", "Johan Ek"]
    assert (run.status, run.leads_created, run.charged) == ("succeeded", 2, 2)
    for name, domain in (("Anna Lindqvist", listed), ("Johan Ek", unlisted)):
        lead = leads[name]
        page = f"https://www.{domain}{TEAM_PATH}"
        role = Role.objects.get(person_id=lead.person_id)
        assert role.details["source"] == "website" and role.details["source_url"] == page
        assert role.details["confidence"] >= 0.7
        # The lead names where its decision-maker came from, and with what confidence.
        site_person = lead.evidence["evidence"]["site_person"]
        assert site_person["page"] == page
        assert site_person["confidence"] == role.details["confidence"]
        sentences = charge_sentences(
            evidence=lead.evidence, person=lead.person_snapshot, company=lead.company_snapshot
        )
        assert sentences[-1].startswith(f"The company's own website names {name} as ")
        assert page in sentences[-1]
    assert leads["Johan Ek"].company_id == dal.id
    # The site that was down is not recorded as read, nor as naming nobody: the next run reads
    # it again. Read sites are marked; organisation B and Norway saw nothing of it.
    assert cache.get(f"site-people:{nere.id}") is None
    assert cache.get(f"site-people:{fjall.id}") == 1 and cache.get(f"site-people:{dal.id}") == 1
    assert not Role.objects.filter(company=norsk).exists()
    assert not Role.objects.filter(company=nere).exists()
    assert not any(host.endswith(f"{prefix}n.no") for _, host, _ in sb.http.log)
    assert not Lead.objects.for_org(tenant_b.org).exists()
