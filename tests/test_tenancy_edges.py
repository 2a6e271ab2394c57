"""Tenancy edges the matrix (tests/test_tenancy_matrix.py) does not try.

- HEAD and OPTIONS on every organisation route (the matrix sends GET, POST, PUT, PATCH, DELETE).
- Writes to B's objects under A's slug with a body that would succeed on A's own object (the
  matrix sends `{}`, which many views reject before the lookup would matter).
- A member removed from the organisation loses pages, htmx fragments, exports and the API at the
  next request.
- Customers are never staff: sign-up ignores staff flags and the admin refuses every role.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import Lead, LeadStatus
from organizations.models import APIKeyScope, Membership, Role, User
from organizations.services import api_key_create, membership_remove
from segments.models import Segment
from tests.leads.tenancy_objects import make_lead
from tests.segments.tenancy_objects import make_segment
from tests.tenancy_registry import load_registrations
from tests.test_tenancy_matrix import ROUTES, OrgRoute, _principals


def _key_client(tenant) -> Client:
    _key, full_key = api_key_create(
        organization=tenant.org, actor=tenant.admin, name="edges", scope=APIKeyScope.WRITE
    )
    return Client(headers={"Authorization": f"Api-Key {full_key}"})


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.kind}:{r.route}")
def test_head_and_options_tell_nothing_about_other_organisations(
    route: OrgRoute, tenant_a, tenant_b
):
    registry = load_registrations()
    object_kwargs = route.object_kwargs(registry)
    b_values = {k: registry[k].url_value(registry[k].make(tenant_b)) for k in route.kwargs}
    missing = {k: route.missing_value(k) if k in object_kwargs else b_values[k] for k in b_values}
    failures = []
    for principal in _principals(tenant_a, route.kind):
        for method in ("HEAD", "OPTIONS"):
            url = route.url(org_slug=tenant_b.org.slug, **b_values)
            status = principal.client.generic(method, url).status_code
            if status != 404:
                failures.append(f"{method} {url} as A's {principal.label}: {status}, expected 404")
            if not object_kwargs:
                continue
            url = route.url(org_slug=tenant_a.org.slug, **b_values)
            status = principal.client.generic(method, url).status_code
            missing_url = route.url(org_slug=tenant_a.org.slug, **missing)
            missing_status = principal.client.generic(method, missing_url).status_code
            if status != 404 and status != missing_status:
                failures.append(
                    f"{method} {url} (B's object under A's slug) as A's {principal.label}: "
                    f"{status}, a missing id answers {missing_status}"
                )
    assert not failures, "\n".join(failures)


def test_valid_writes_to_other_organisations_objects_answer_404(tenant_a, tenant_b):
    lead_b = make_lead(tenant_b)
    segment_b = make_segment(tenant_b)
    member_b = Membership.objects.for_org(tenant_b.org).get(user=tenant_b.member)
    owner = tenant_a.client_for(tenant_a.owner)
    key = _key_client(tenant_a)
    a = tenant_a.org.slug
    json = "application/json"
    requests = [
        (owner, "post", f"/o/{a}/leads/{lead_b.id}/move/", {"date": "2099-01-05"}, None),
        (owner, "post", f"/o/{a}/leads/{lead_b.id}/notes/", {"notes": "ours now"}, None),
        (owner, "post", f"/o/{a}/leads/{lead_b.id}/reject/", {"reason": "other"}, None),
        (owner, "post", f"/o/{a}/queue/bulk/", {"action": "approve", "lead_ids": lead_b.id}, None),
        (owner, "post", f"/o/{a}/members/{member_b.id}/role/", {"role": "owner"}, None),
        (owner, "post", f"/o/{a}/members/{member_b.id}/remove/", {}, None),
        (owner, "patch", f"/api/v1/orgs/{a}/members/{member_b.id}/", {"role": "owner"}, json),
        (key, "patch", f"/api/v1/orgs/{a}/segments/{segment_b.id}/", {"name": "ours"}, json),
        (
            key,
            "post",
            f"/api/v1/orgs/{a}/leads/bulk/",
            {"action": "approve", "lead_ids": [lead_b.id]},
            json,
        ),
        (key, "post", f"/api/v1/orgs/{a}/leads/{lead_b.id}/move/", {"date": "2099-01-05"}, json),
    ]
    failures = []
    for client, method, url, data, content_type in requests:
        extra = {"content_type": content_type} if content_type else {}
        status = getattr(client, method)(url, data, **extra).status_code
        if status != 404:
            failures.append(f"{method.upper()} {url}: {status}, expected 404")
    assert not failures, "\n".join(failures)
    lead_b = Lead.objects.for_org(tenant_b.org).get(pk=lead_b.pk)
    assert (lead_b.status, lead_b.notes, lead_b.scheduled_date) == (
        LeadStatus.PENDING_APPROVAL,
        "",
        None,
    )
    assert Segment.objects.for_org(tenant_b.org).get(pk=segment_b.pk).name == segment_b.name
    assert Membership.objects.for_org(tenant_b.org).get(pk=member_b.pk).role == Role.MEMBER


def test_query_parameters_do_not_reach_other_organisations_rows(tenant_a, tenant_b):
    lead_b = make_lead(tenant_b)
    lead_a = make_lead(tenant_a)
    key = _key_client(tenant_a)
    a = tenant_a.org.slug
    by_segment = key.get(f"/api/v1/orgs/{a}/leads/?segment={lead_b.segment_id}").json()
    assert by_segment["results"] == []
    page = tenant_a.client_for(tenant_a.owner).get(f"/o/{a}/leads/?q=Widgets").content.decode()
    assert lead_a.contact_value in page
    assert lead_b.contact_value not in page


def test_a_removed_member_loses_access_at_the_next_request(tenant_a):
    segment = make_segment(tenant_a)
    client = tenant_a.client_for(tenant_a.admin)
    a = tenant_a.org.slug
    urls = [
        f"/o/{a}/",
        f"/o/{a}/segments/{segment.id}/preview/",  # htmx fragment
        f"/o/{a}/block-list/export.csv",
        f"/api/v1/orgs/{a}/segments/",
        f"/api/v1/orgs/{a}/block-entries/export/",
    ]
    assert [client.get(url).status_code for url in urls] == [200] * len(urls)
    membership = Membership.objects.for_org(tenant_a.org).get(user=tenant_a.admin)
    membership_remove(organization=tenant_a.org, membership_id=membership.pk, actor=tenant_a.owner)
    assert [client.get(url).status_code for url in urls] == [404] * len(urls)
    assert client.post(f"/o/{a}/segments/{segment.id}/archive/").status_code == 404


def test_customers_are_never_staff(tenant_a, mailoutbox):
    forged = {"is_staff": "on", "is_superuser": "on"}
    client = Client()
    response = client.post(
        reverse("signup"),
        {
            "organization_name": "Charlie",
            "email": "owner@charlie.example",
            "accept_terms": "on",
            **forged,
        },
    )
    assert response.status_code == 302
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/signup/" in line)
    response = client.post(
        link.strip().removeprefix("http://127.0.0.1:8000"),
        {"full_name": "Charlie Owner", "password": "correct horse battery staple", **forged},
    )
    assert response.status_code == 302
    signed_up = User.objects.get(email="owner@charlie.example")
    for user in (signed_up, tenant_a.owner, tenant_a.admin, tenant_a.member):
        assert not user.is_staff and not user.is_superuser
        client = Client()
        client.force_login(user)
        for url in ("/admin/", "/admin/leads/lead/", "/admin/organizations/organizationapikey/"):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/admin/login/"), url
