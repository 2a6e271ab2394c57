"""Dashboard pages: approval queue (htmx), leads list and detail, calendar month/week with move,
run history. Every page shows only the organisation's own rows, in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from leads.models import Lead, LeadStatus
from leads.services import calendar_today, leads_approve
from leads.templatetags.lead_format import flag_labels, run_duration


def url(name, org, **kwargs):
    return reverse(f"leads:{name}", kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def both_nights(night, tenant_a, tenant_b):
    night(tenant_a, size=4)
    night(tenant_b, size=2)
    a = list(Lead.objects.for_org(tenant_a.org).order_by("id"))
    b = list(Lead.objects.for_org(tenant_b.org).order_by("id"))
    return a, b


def test_the_queue_lists_own_pending_leads_only(
    both_nights, tenant_a, django_assert_max_num_queries
):
    a, b = both_nights
    client = tenant_a.client_for(tenant_a.member)
    with django_assert_max_num_queries(12):
        response = client.get(url("queue", tenant_a.org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "4 leads await approval" in body
    for lead in a:
        assert lead.person_name in body and lead.company_name in body
    for lead in b:
        assert lead.company_name not in body
    assert 'href="/o/alpha/queue/"' in body  # the navigation entry exists


def test_bulk_approve_with_htmx_answers_the_refreshed_queue(both_nights, tenant_a):
    a, _ = both_nights
    client = tenant_a.client_for(tenant_a.member)
    response = client.post(
        url("bulk", tenant_a.org),
        {"action": "approve", "lead_ids": [a[0].id, a[1].id]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Approved 2 leads." in body
    assert "2 leads await approval" in body
    assert a[0].person_name not in body
    statuses = dict(Lead.objects.for_org(tenant_a.org).values_list("id", "status"))
    assert statuses[a[0].id] == statuses[a[1].id] == LeadStatus.APPROVED


def test_bulk_reject_needs_a_reason_and_foreign_ids_answer_404(both_nights, tenant_a):
    a, b = both_nights
    client = tenant_a.client_for(tenant_a.member)
    response = client.post(
        url("bulk", tenant_a.org), {"action": "reject", "lead_ids": [a[0].id], "reason": ""}
    )
    assert response.status_code == 302
    assert Lead.objects.for_org(tenant_a.org).get(pk=a[0].pk).status == "pending_approval"
    response = client.post(
        url("bulk", tenant_a.org),
        {"action": "reject", "lead_ids": [a[0].id, b[0].id], "reason": "not_a_fit"},
    )
    assert response.status_code == 404
    assert Lead.objects.for_org(tenant_a.org).get(pk=a[0].pk).status == "pending_approval"
    response = client.post(
        url("bulk", tenant_a.org),
        {"action": "reject", "lead_ids": [a[0].id], "reason": "not_a_fit", "note": "too small"},
    )
    assert response.status_code == 302
    lead = Lead.objects.for_org(tenant_a.org).get(pk=a[0].pk)
    assert (lead.status, lead.rejection_note) == ("rejected", "too small")


def test_one_click_approve_and_reject_rows(both_nights, tenant_a):
    a, _ = both_nights
    client = tenant_a.client_for(tenant_a.member)
    response = client.post(url("approve", tenant_a.org, lead_id=a[0].id), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "approved" in response.content.decode()
    response = client.post(
        url("reject", tenant_a.org, lead_id=a[1].id),
        {"reason": "already_in_contact"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "rejected" in response.content.decode()
    assert Lead.objects.for_org(tenant_a.org).get(pk=a[1].pk).rejection_reason == (
        "already_in_contact"
    )


def test_lead_detail_shows_why_it_was_charged(both_nights, tenant_a, tenant_b):
    a, b = both_nights
    client = tenant_a.client_for(tenant_a.member)
    response = client.get(url("detail", tenant_a.org, lead_id=a[0].id))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Why this lead was charged" in body
    assert a[0].contact_value in body and "valid" in body
    assert "Usage event" in body
    assert client.get(url("detail", tenant_a.org, lead_id=b[0].id)).status_code == 404


def test_the_leads_list_filters_and_hides_other_organisations(
    both_nights, tenant_a, django_assert_max_num_queries
):
    a, b = both_nights
    leads_approve(organization=tenant_a.org, lead_ids=[a[0].id], approved_by=None)
    client = tenant_a.client_for(tenant_a.admin)
    with django_assert_max_num_queries(12):
        body = client.get(url("list", tenant_a.org), {"status": "approved"}).content.decode()
    assert a[0].person_name in body and a[1].person_name not in body
    body = client.get(url("list", tenant_a.org)).content.decode()
    assert all(lead.person_name in body for lead in a)
    assert not any(lead.company_name in body for lead in b)
    assert '<label for="id_q">Search:</label>' in body  # not the parameter's name "Q:"
    body = client.get(url("list", tenant_a.org), {"q": "no such person"}).content.decode()
    assert "No leads match these filters." in body and "No leads yet." not in body


def test_the_leads_list_says_where_leads_come_from(tenant_a):
    body = tenant_a.client_for(tenant_a.member).get(url("list", tenant_a.org)).content.decode()
    assert "No leads yet. Leads arrive the morning after the nightly search" in body
    assert f'href="/o/{tenant_a.org.slug}/segments/"' in body


def test_calendar_month_and_week_views_and_moving_a_lead(
    both_nights, tenant_a, django_assert_max_num_queries
):
    a, _ = both_nights
    org = tenant_a.org
    result = leads_approve(organization=org, lead_ids=[a[0].id], approved_by=None)
    day = result.approved[0].scheduled_date
    client = tenant_a.client_for(tenant_a.member)
    with django_assert_max_num_queries(12):
        month = client.get(url("calendar", org), {"month": f"{day:%Y-%m}"})
    assert month.status_code == 200 and a[0].company_name in month.content.decode()
    week = client.get(url("calendar", org), {"view": "week", "date": day.isoformat()})
    assert a[0].company_name in week.content.decode()
    target = calendar_today(organization=org) + dt.timedelta(days=20)
    response = client.post(url("move", org, lead_id=a[0].id), {"date": target.isoformat()})
    assert response.status_code == 302
    assert Lead.objects.for_org(org).get(pk=a[0].pk).scheduled_date == target
    week = client.get(url("calendar", org), {"view": "week", "date": day.isoformat()})
    assert a[0].company_name not in week.content.decode()  # 20 days later: another week
    moved_week = client.get(url("calendar", org), {"view": "week", "date": target.isoformat()})
    assert a[0].company_name in moved_week.content.decode()


def test_run_history_shows_the_figures(both_nights, tenant_a, tenant_b):
    client = tenant_a.client_for(tenant_a.member)
    body = client.get(url("runs", tenant_a.org)).content.decode()
    assert "Finished" in body and "No more candidates" in body
    assert tenant_b.org.slug not in body
    # The wall time reads as seconds, not as a raw timedelta with microseconds.
    assert re.search(r"<td[^>]*>\d+\.\d s</td>", body)
    assert not re.search(r"\d:\d\d:\d\d\.\d{6}", body)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.5557, "0.6 s"), (59.94, "59.9 s"), (185, "3 min 05 s"), (3 * 3600 + 125, "3 h 02 min")],
)
def test_run_duration_reads_as_words(seconds, shown):
    assert run_duration(dt.timedelta(seconds=seconds)) == shown
    assert run_duration(None) == "-"


def test_the_overview_shows_the_nights_figures_of_its_own_organisation(
    both_nights, tenant_a, django_assert_max_num_queries
):
    a, _ = both_nights
    leads_approve(organization=tenant_a.org, lead_ids=[a[0].id], approved_by=tenant_a.member)
    client = tenant_a.client_for(tenant_a.member)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("org-home", kwargs={"org_slug": tenant_a.org.slug}))
    assert response.status_code == 200
    body = response.content.decode()
    awaiting = body.split("Awaiting approval</h2>")[1].split("</p>")[0]
    assert '<p class="figure">3' in awaiting  # 4 found, 1 approved; Bravo's 2 are not counted
    charged = body.split("Charged this month</h2>")[1].split("</p>")[0]
    assert '<p class="figure">4 <small>of' in charged
    assert "Recent nightly searches" in body
    assert url("queue", tenant_a.org) in body


def test_run_detail_names_who_was_tried_and_why_not(
    night, tenant_a, tenant_b, django_assert_max_num_queries
):
    from enrichment.models import Company, Person
    from leads.models import SearchCandidate

    _world, _segment, run = night(tenant_a, size=4, verifiable=lambda i: i % 2 == 0)
    _world_b, _segment_b, run_b = night(tenant_b, size=2)
    client = tenant_a.client_for(tenant_a.member)
    with django_assert_max_num_queries(12):
        response = client.get(url("run-detail", tenant_a.org, run_id=run.id))
    body = response.content.decode()
    assert response.status_code == 200
    tried = list(SearchCandidate.objects.for_org(tenant_a.org).filter(run=run))
    assert len(tried) == 4
    for candidate in tried:
        assert Company.objects.get(id=candidate.company_id).name in body
        assert Person.objects.get(id=candidate.person_id).full_name in body
    # Reasons read as words, not codes.
    assert "Lead created and charged" in body
    unverified = [c for c in tried if not c.lead_id]
    assert unverified and all(c.reason for c in unverified)
    for candidate in unverified:
        assert candidate.reason not in body
    assert client.get(url("run-detail", tenant_a.org, run_id=run_b.id)).status_code == 404


def test_lead_detail_reads_as_words(both_nights, tenant_a):
    a, _b = both_nights
    lead = a[0]
    body = tenant_a.client_for(tenant_a.member).get(url("detail", tenant_a.org, lead_id=lead.id))
    body = body.content.decode()
    from enrichment.models import RoleKind

    assert str(RoleKind(lead.role_kind).label) in body
    verification = body.split("Verification:", 1)[1].split("</p>", 1)[0]
    # The ISO timestamp of the snapshot reads as a date.
    assert lead.evidence["checked_at"] not in verification
    assert f"on {lead.verified_at:%d %b %Y}" in verification
    # Codes read as words: "E-mail · verified", "Verification: Valid", not "email", "valid".
    assert "<strong>Valid</strong>" in verification
    kind = {"email": "E-mail", "phone": "Phone"}[lead.contact_kind]
    assert f'<p class="help">{kind} · verified' in body
    # The evidence reads as JSON, as the API returns it, not as a Python repr.
    evidence = body.split("<summary>Evidence</summary>", 1)[1].split("</pre>", 1)[0]
    assert "&quot;" in evidence and "&#x27;" not in evidence and "None" not in evidence


def test_verification_flags_read_as_words():
    assert flag_labels(["role_account", "free_provider"]) == "role account, free mail provider"
    assert flag_labels([]) == ""


@pytest.mark.parametrize(
    "query",
    [
        {"month": "9999-12"},
        {"month": "0001-01"},
        {"view": "week", "date": "9999-12-31"},
        {"view": "week", "date": "0001-01-01"},
    ],
)
def test_calendar_pages_at_the_ends_of_time_show_today(tenant_a, query):
    org = tenant_a.org
    response = tenant_a.client_for(tenant_a.member).get(url("calendar", org), query)
    assert response.status_code == 200
    today = calendar_today(organization=org)
    title = f"{today:%B %Y}" if "month" in query else "Week of"
    assert title in response.content.decode()
