"""The dashboard's lead actions through the API: mark contacted, reschedule (move), notes.

What an integration notices: each answers the lead as the dashboard leaves it, refuses a lead in
the wrong state with a 409 problem, and organisation B's lead is a 404 whatever the action.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import Lead, LeadStatus
from organizations.services import api_key_create
from tests.api.problems import problem_of


def _url(name, org, **kwargs):
    return reverse(f"leads-api:{name}", kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def leads(night, tenant_a, tenant_b):
    night(tenant_a, size=3)
    night(tenant_b, size=1)
    return (
        list(Lead.objects.for_org(tenant_a.org).order_by("id")),
        list(Lead.objects.for_org(tenant_b.org).order_by("id")),
    )


def _write_key(tenant) -> Client:
    _key, full = api_key_create(organization=tenant.org, actor=tenant.admin, name="actions")
    return Client(headers={"Authorization": f"Api-Key {full}"}, raise_request_exception=False)


def test_mark_contacted_reschedule_and_notes(leads, tenant_a):
    a, _b = leads
    client = _write_key(tenant_a)
    org = tenant_a.org
    pending = client.post(_url("lead-contacted", org, lead_id=a[0].id))
    assert "approved" in problem_of(pending, 409)["detail"]

    approved = client.post(_url("lead-approve", org, lead_id=a[0].id)).json()["approved"][0]
    day = approved["scheduled_date"]
    contacted = client.post(_url("lead-contacted", org, lead_id=a[0].id))
    assert contacted.status_code == 200 and contacted.json()["status"] == LeadStatus.CONTACTED
    again = client.post(_url("lead-contacted", org, lead_id=a[0].id))
    assert again.status_code == 200 and again.json()["status"] == LeadStatus.CONTACTED

    client.post(_url("lead-approve", org, lead_id=a[1].id))
    moved = client.post(
        _url("lead-move", org, lead_id=a[1].id), {"date": day}, content_type="application/json"
    )
    assert moved.status_code == 200 and moved.json()["scheduled_date"] == day

    notes = client.patch(
        _url("lead-detail", org, lead_id=a[2].id),
        {"notes": "Call back in May"},
        content_type="application/json",
    )
    assert notes.json()["notes"] == "Call back in May"
    assert Lead.objects.for_org(org).get(pk=a[2].id).notes == "Call back in May"


def test_another_organisations_lead_is_a_404_for_every_action(leads, tenant_a):
    _a, b = leads
    client = _write_key(tenant_a)
    org = tenant_a.org
    for name in ("lead-contacted", "lead-approve", "lead-move", "lead-reject"):
        response = client.post(
            _url(name, org, lead_id=b[0].id), {}, content_type="application/json"
        )
        assert problem_of(response, 404)["code"] == "not_found", name
    response = client.patch(
        _url("lead-detail", org, lead_id=b[0].id), {"notes": "x"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert Lead.objects.for_org(b[0].organization).get(pk=b[0].id).notes == ""
