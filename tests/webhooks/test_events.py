"""The product's own actions emit their webhook events, in their transaction, to the subscribed
endpoints of their organisation only: a night's lead (and its charge), an approval, a rejection,
a finished run and a decided dispute."""

from __future__ import annotations

import json

import pytest

from billing.disputes import dispute_accept, dispute_open
from leads.services import lead_approve, lead_reject, search_run_execute
from tests.leads.tenancy_objects import make_lead, make_run
from webhooks.models import EventType
from webhooks.services import endpoint_create


@pytest.fixture
def subscribed(tenant_a, tenant_b, receiver):
    """A receiver per organisation, subscribed to every event."""
    out = {}
    for tenant in (tenant_a, tenant_b):
        rcv = receiver()
        endpoint_create(organization=tenant.org, url=rcv.url(), events=list(EventType.values))
        out[tenant.org.slug] = rcv
    return out


def events(rcv) -> list[tuple[str, dict]]:
    bodies = [json.loads(r.body) for r in rcv.received]
    return [(b["type"], b["data"]) for b in bodies]


def test_lead_lifecycle_events_reach_only_their_organisation(
    tenant_a, tenant_b, subscribed, django_capture_on_commit_callbacks
):
    a, b = subscribed[tenant_a.org.slug], subscribed[tenant_b.org.slug]
    with django_capture_on_commit_callbacks(execute=True):
        lead = make_lead(tenant_a)
    got = events(a)
    assert [t for t, _ in got] == ["usage.recorded", "lead.created"]
    usage, created = got[0][1], got[1][1]
    assert usage["lead_id"] == lead.pk and usage["kind"] == "found"
    assert created["id"] == lead.pk and created["status"] == "pending_approval"
    assert created["contact"] == {"kind": "email", "value": lead.contact_value}
    assert created["company"]["name"] == lead.company_name

    with django_capture_on_commit_callbacks(execute=True):
        lead_approve(organization=tenant_a.org, lead_id=lead.pk, approved_by=tenant_a.member)
        lead_approve(organization=tenant_a.org, lead_id=lead.pk, approved_by=tenant_a.member)
    approved = [d for t, d in events(a) if t == "lead.approved"]
    assert len(approved) == 1, "approving twice announces once"
    assert approved[0]["status"] == "approved" and approved[0]["scheduled_date"]

    with django_capture_on_commit_callbacks(execute=True):
        other = make_lead(tenant_a)
        lead_reject(
            organization=tenant_a.org,
            lead_id=other.pk,
            rejected_by=tenant_a.member,
            reason="not_a_fit",
        )
    rejected = [d for t, d in events(a) if t == "lead.rejected"]
    assert [(d["id"], d["rejection_reason"]) for d in rejected] == [(other.pk, "not_a_fit")]
    assert b.received == [], "B hears nothing of A's leads"


def test_a_decided_dispute_and_a_finished_run_are_announced(
    tenant_a, tenant_b, subscribed, django_capture_on_commit_callbacks
):
    a = subscribed[tenant_a.org.slug]
    with django_capture_on_commit_callbacks(execute=True):
        lead = make_lead(tenant_a)
        dispute = dispute_open(
            organization=tenant_a.org,
            lead_id=lead.pk,
            reason="other",
            note="Not our market",
            created_by=tenant_a.member,
        )
        dispute_accept(organization=tenant_a.org, dispute_id=dispute.pk, decided_by=None, note="ok")
    (resolved,) = [d for t, d in events(a) if t == "dispute.resolved"]
    assert resolved["id"] == dispute.pk and resolved["status"] == "accepted"
    assert resolved["lead_id"] == lead.pk

    with django_capture_on_commit_callbacks(execute=True):
        run = make_run(tenant_a)
        search_run_execute(organization=tenant_a.org, run_id=run.pk)
    (completed,) = [d for t, d in events(a) if t == "search_run.completed"]
    assert completed["id"] == run.pk and completed["status"] in ("succeeded", "failed")
    assert completed["run_date"] == "2026-11-26"
    assert subscribed[tenant_b.org.slug].received == []
