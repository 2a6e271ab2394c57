# ruff: noqa: F811 - pytest fixtures imported from tests/leads/conftest.py and stripe_peer.py
"""Plans decide the night: the free plan's hard cap stops the search, a paid plan's soft cap
bills the leads beyond the quota, and a subscription past due beyond its grace period pauses the
search (with a banner and one e-mail to the owners) while everything charged stays charged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import BillingPeriod, Subscription, UsageEvent
from billing.plans import billing_overview, billing_search_paused, plan_terms_of
from billing.selectors import billing_invariant_violations, billing_quota_remaining
from leads.models import SearchRun
from leads.services import nightly_dispatch
from tests.billing.stripe_peer import (  # noqa: F401
    deliver_all,
    events,
    fake_stripe,
    seeded_plans,
    subscribe,
)
from tests.leads.conftest import _fresh_process_caches, night, prefix, sandbox  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_plans")]


def test_the_free_plans_hard_cap_stops_the_night(night, tenant_a, tenant_b, settings):
    settings.STRIPE_API_KEY = ""
    assert billing_quota_remaining(organization=tenant_a.org, at=timezone.now()) == 25
    _, _, run = night(tenant_a, size=30, nightly_cap=40, run_date=timezone.localdate())
    assert (run.leads_created, run.charged, run.stop_reason) == (25, 25, "quota")
    period = BillingPeriod.objects.for_org(tenant_a.org).get()
    assert (period.quota_included, period.hard_cap, period.units_net) == (25, True, 25)
    assert billing_quota_remaining(organization=tenant_a.org, at=timezone.now()) == 0
    overview = billing_overview(organization=tenant_a.org)
    assert (overview.overage, str(overview.expected_cost)) == (0, "0.00")
    assert billing_invariant_violations(organization=tenant_a.org) == []
    assert not UsageEvent.objects.for_org(tenant_b.org).exists()


def test_a_soft_cap_bills_the_leads_beyond_the_quota(
    night, fake_stripe, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    subscribe(
        organization=tenant_a.org,
        owner_email=tenant_a.owner.email,
        plan_code="starter-gbp",
        fake=fake_stripe,
        capture=django_capture_on_commit_callbacks,
    )
    tenant_a.org.monthly_lead_quota = 3  # staff's override of the plan's quota; the cap stays soft
    tenant_a.org.save(update_fields=["monthly_lead_quota"])
    _, _, run = night(tenant_a, size=8, nightly_cap=25, run_date=timezone.localdate())
    assert (run.leads_created, run.charged, run.stop_reason) == (8, 8, "exhausted")
    period = BillingPeriod.objects.for_org(tenant_a.org).get()
    assert (period.quota_included, period.hard_cap, period.units_net) == (3, False, 8)
    overview = billing_overview(organization=tenant_a.org)
    assert (overview.included, overview.overage) == (3, 5)
    assert str(overview.expected_cost) == "90.00"  # 85.00 a month + 5 x 1.00
    api = tenant_a.client_for(tenant_a.owner).get(f"/api/v1/orgs/{tenant_a.org.slug}/billing/")
    assert (api.json()["overage"], api.json()["expected_cost"]) == (5, "90.00")
    assert billing_invariant_violations(organization=tenant_a.org) == []
    assert billing_overview(organization=tenant_b.org).net == 0


def _past_due(fake, org, capture) -> None:
    """Stripe could not collect the renewal: the subscription turns past_due (what a declined
    card does at Stripe), and its webhook arrives."""
    sub = Subscription.objects.for_org(org).get()
    remote = fake.state.get("subscription", sub.stripe_subscription_id)
    seen = len(events(fake))
    remote["status"] = "past_due"
    fake.state.emit("customer.subscription.updated", remote)
    deliver_all(fake, capture, since=seen)


def test_past_due_keeps_delivering_for_the_grace_period_then_pauses(
    night, fake_stripe, tenant_a, tenant_b, settings, django_capture_on_commit_callbacks
):
    settings.LEADPILOT_PAST_DUE_GRACE_DAYS = 7
    org = tenant_a.org
    subscribe(
        organization=org,
        owner_email=tenant_a.owner.email,
        plan_code="starter-eur",
        fake=fake_stripe,
        capture=django_capture_on_commit_callbacks,
    )
    _, segment, first = night(tenant_a, size=4, run_date=timezone.localdate())
    assert first.charged == 4
    _past_due(fake_stripe, org, django_capture_on_commit_callbacks)
    sub = Subscription.objects.for_org(org).get()
    assert sub.status == "past_due" and sub.past_due_since is not None

    # Within the grace period: the night runs, a warning on every page.
    now = timezone.now()
    enqueued: list = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(
            organization=org, now=now + dt.timedelta(days=6), force=True, enqueue=enqueued.append
        )
    assert [r.segment_id for r in enqueued] == [segment.id]
    page = tenant_a.client_for(tenant_a.member).get(f"/o/{org.slug}/leads/").content.decode()
    assert 'id="billing-banner"' in page and "goes on until" in page
    assert not mail.outbox

    # After it: no run, a banner on every dashboard page, one e-mail to the owners only.
    later = now + dt.timedelta(days=8)
    SearchRun.objects.for_org(org).delete()
    for _ in range(2):
        enqueued = []
        with django_capture_on_commit_callbacks(execute=True):
            nightly_dispatch(organization=org, now=later, force=True, enqueue=enqueued.append)
        assert enqueued == []
    assert billing_search_paused(organization=org, at=later)
    assert [m.to for m in mail.outbox] == [[tenant_a.owner.email]]
    assert "paused" in mail.outbox[0].subject
    assert f"/o/{org.slug}/billing/" in mail.outbox[0].body
    # Nothing charged is lost.
    assert UsageEvent.objects.for_org(org).count() == 4
    assert billing_invariant_violations(organization=org) == []
    # Organisation B is not affected.
    b_runs: list = []
    segment_b = night(tenant_b, size=2, run_date=timezone.localdate())[1]
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(organization=tenant_b.org, now=later, force=True, enqueue=b_runs.append)
    assert [r.segment_id for r in b_runs] == [segment_b.id]
    assert (
        'id="billing-banner"'
        not in tenant_b.client_for(tenant_b.owner)
        .get(f"/o/{tenant_b.org.slug}/leads/")
        .content.decode()
    )

    # Paid: Stripe says active again; the search resumes, the banner goes.
    sub_id = Subscription.objects.for_org(org).get().stripe_subscription_id
    remote = fake_stripe.state.get("subscription", sub_id)
    seen = len(events(fake_stripe))
    remote["status"] = "active"
    fake_stripe.state.emit("customer.subscription.updated", remote)
    deliver_all(fake_stripe, django_capture_on_commit_callbacks, since=seen)
    assert not billing_search_paused(organization=org, at=later)
    enqueued = []
    with django_capture_on_commit_callbacks(execute=True):
        nightly_dispatch(organization=org, now=later, force=True, enqueue=enqueued.append)
    assert [r.segment_id for r in enqueued] == [segment.id]
    page = tenant_a.client_for(tenant_a.owner).get(f"/o/{org.slug}/leads/").content.decode()
    assert 'id="billing-banner"' not in page


def test_an_agreement_set_by_staff_in_the_admin_gives_the_organisations_own_terms(
    tenant_a, tenant_b
):
    from billing.models import Plan
    from organizations.models import User

    staff = User.objects.create_superuser("staff@leadpilot.example", "pw-staff-1234")
    admin = tenant_a.client_for(staff)
    agreement = Plan.objects.get(code="agreement")
    now = timezone.localtime()
    response = admin.post(
        "/admin/billing/subscription/add/",
        {
            "organization": tenant_a.org.pk,
            "plan": agreement.pk,
            "status": "active",
            "started_at_0": now.date().isoformat(),
            "started_at_1": now.strftime("%H:%M:%S"),
            "agreement_quota": 2000,
            "agreement_price_per_month": "1500.00",
            "agreement_price_per_extra_lead": "0.50",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    month = timezone.localdate().replace(day=1)
    terms = plan_terms_of(organization=tenant_a.org, period_start=month)
    assert (terms.plan.code, terms.quota, terms.hard_cap) == ("agreement", 2000, False)
    assert str(terms.expected_cost(net_units=2010)) == "1505.00"
    api = tenant_a.client_for(tenant_a.owner).get(f"/api/v1/orgs/{tenant_a.org.slug}/billing/")
    assert (api.json()["plan"]["quota"], api.json()["plan"]["price_per_month"]) == (2000, "1500.00")
    assert plan_terms_of(organization=tenant_b.org, period_start=month).plan.code == "free"
    # The admin lists it, and the plans with their prices.
    assert tenant_a.org.name in admin.get("/admin/billing/subscription/").content.decode()
    assert "Growth" in admin.get("/admin/billing/plan/").content.decode()
