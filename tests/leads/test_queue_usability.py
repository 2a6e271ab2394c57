"""The approval queue as a person on a phone uses it (issue 17): pages of 50, counts that follow
every action (the menu's badge and the summary line, sent out of band with htmx), the links a
row builds from one reversed prefix, the favicon. The browser half is test_queue_phone.py."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from leads.models import Lead, LeadStatus
from leads.views import PAGE_SIZE


def url(name, org, **kwargs):
    return reverse(f"leads:{name}", kwargs={"org_slug": org.slug, **kwargs})


def _badge(body: str) -> str:
    match = re.search(
        r'<span id="nav-queue-count"[^>]*>.*?<span aria-hidden="true">(\d+)</span>', body
    )
    assert match, "no queue badge in the menu"
    return match.group(1)


@pytest.fixture
def queued(night, tenant_a, tenant_b):
    night(tenant_a, size=3)
    night(tenant_b, size=2)
    return list(Lead.objects.for_org(tenant_a.org).order_by("id"))


def test_the_menu_counts_the_organisations_own_queue(queued, tenant_a, tenant_b):
    body = tenant_a.client_for(tenant_a.member).get(url("runs", tenant_a.org)).content.decode()
    assert _badge(body) == "3"  # B's two queued leads are not counted
    body = tenant_b.client_for(tenant_b.member).get(url("queue", tenant_b.org)).content.decode()
    assert _badge(body) == "2"


def test_approving_a_row_sends_the_new_counts_out_of_band(queued, tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    response = client.post(
        url("approve", tenant_a.org, lead_id=queued[0].id), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'<tr id="lead-{queued[0].id}"' in body
    # Inside a <template>: beside a <tr> a <span> would be moved out by the HTML parser.
    oob = body.split("<template>", 1)[1]
    assert 'id="nav-queue-count" class="nav-count" hx-swap-oob="true"' in oob
    assert _badge(oob) == "2"
    assert 'id="queue-summary" hx-swap-oob="true"' in oob and "2 leads await approval." in oob

    response = client.post(
        url("reject", tenant_a.org, lead_id=queued[1].id),
        {"reason": "not_a_fit"},
        HTTP_HX_REQUEST="true",
    )
    assert _badge(response.content.decode()) == "1"


def test_bulk_answers_carry_the_menu_count(queued, tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    response = client.post(
        url("bulk", tenant_a.org),
        {"action": "approve", "lead_ids": [queued[0].id, queued[1].id]},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert 'hx-swap-oob="true"' in body and _badge(body) == "1"
    assert "1 lead awaits approval." in body


def test_row_links_are_the_routes_they_name(queued, tenant_a):
    body = tenant_a.client_for(tenant_a.member).get(url("queue", tenant_a.org)).content.decode()
    lead = queued[0]
    assert f'href="{url("detail", tenant_a.org, lead_id=lead.id)}"' in body
    assert f'hx-post="{url("approve", tenant_a.org, lead_id=lead.id)}"' in body
    assert f'hx-post="{url("reject", tenant_a.org, lead_id=lead.id)}"' in body


def test_the_queue_is_paginated_and_a_bulk_answer_stays_on_its_page(
    queued, tenant_a, django_assert_max_num_queries
):
    # More leads than a page holds: copies of a delivered lead without its directory links.
    template = queued[0]
    Lead.objects.for_org(tenant_a.org).bulk_create(
        Lead(
            organization=tenant_a.org,
            company_name=f"Paged Company {i}",
            person_name=f"Paged Person {i}",
            role_kind=template.role_kind,
            contact_kind=template.contact_kind,
            contact_value=f"paged{i}@example.com",
            evidence=template.evidence,
            verified_at=template.verified_at,
        )
        for i in range(PAGE_SIZE)
    )
    total = PAGE_SIZE + 3
    client = tenant_a.client_for(tenant_a.member)
    with django_assert_max_num_queries(15):
        first = client.get(url("queue", tenant_a.org)).content.decode()
    assert f"{total} leads await approval." in first
    assert first.count('name="lead_ids"') == PAGE_SIZE
    assert "Page 1 of 2" in first and 'href="?page=2" rel="next"' in first
    second = client.get(url("queue", tenant_a.org), {"page": 2}).content.decode()
    assert second.count('name="lead_ids"') == 3
    assert "Page 2 of 2" in second and 'href="?page=1" rel="prev"' in second
    # The oldest leads are on page 2: approving one there answers page 2 again.
    oldest = queued[0]
    assert f'value="{oldest.id}"' in second
    response = client.post(
        url("bulk", tenant_a.org),
        {"action": "approve", "lead_ids": [oldest.id], "page": "2"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "Page 2 of 2" in body and body.count('name="lead_ids"') == 2
    assert Lead.objects.for_org(tenant_a.org).get(pk=oldest.pk).status == LeadStatus.APPROVED


def test_the_favicon_is_served_by_the_app(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("/static/img/favicon.ico")
    body = client.get("/accounts/login/").content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg" type="image/svg+xml"' in body


def test_the_leads_list_pages_keep_their_filters(queued, tenant_a):
    template = queued[0]
    Lead.objects.for_org(tenant_a.org).bulk_create(
        Lead(
            organization=tenant_a.org,
            company_name=f"Filtered Company {i}",
            person_name=f"Filtered Person {i}",
            role_kind=template.role_kind,
            contact_kind=template.contact_kind,
            contact_value=f"filtered{i}@example.com",
            evidence=template.evidence,
            verified_at=template.verified_at,
        )
        for i in range(PAGE_SIZE + 1)
    )
    client = tenant_a.client_for(tenant_a.member)
    body = client.get(url("list", tenant_a.org), {"q": "Filtered", "status": ""}).content.decode()
    assert "Page 1 of 2" in body
    assert 'href="?q=Filtered&amp;status=&amp;page=2" rel="next"' in body
    body = client.get(url("list", tenant_a.org), {"q": "Filtered", "page": 2}).content.decode()
    assert body.count("Filtered Person") == 1 and "Page 2 of 2" in body
