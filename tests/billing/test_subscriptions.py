# ruff: noqa: F811 - pytest fixtures imported from tests/billing/stripe_peer.py
"""Subscriptions seen by an owner: the Billing page and API, Stripe Checkout and portal (the fake
Stripe on loopback), plan changes (an upgrade at once, a downgrade from the next month) and who
may see any of it."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.models import Subscription
from billing.plans import plan_terms_of
from billing.services import billing_month_of
from tests.billing.stripe_peer import (  # noqa: F401
    fake_control,
    fake_stripe,
    seeded_plans,
    subscribe,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_plans")]


def _page(tenant, user=None):
    return tenant.client_for(user or tenant.owner).get(f"/o/{tenant.org.slug}/billing/")


def test_a_new_organisation_is_on_the_free_plan_without_a_card(tenant_a, tenant_b, settings):
    settings.STRIPE_API_KEY = ""
    response = _page(tenant_a)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Free" in body and "25 leads a month" in body
    assert "Billing is not configured on this installation" in body
    assert tenant_b.org.name not in body
    api = tenant_a.client_for(tenant_a.owner).get(f"/api/v1/orgs/{tenant_a.org.slug}/billing/")
    assert api.status_code == 200
    data = api.json()
    assert data["plan"]["code"] == "free" and data["plan"]["hard_cap"] is True
    assert (data["plan"]["quota"], data["expected_cost"], data["status"]) == (25, "0.00", "active")
    # No row is needed for that: the free plan is what no subscription means.
    assert not Subscription.objects.for_org(tenant_a.org).exists()


def test_without_stripe_paid_plans_say_so_and_free_still_works(tenant_a, settings):
    settings.STRIPE_API_KEY = ""
    client = tenant_a.client_for(tenant_a.owner)
    url = f"/o/{tenant_a.org.slug}/billing/plan/"
    response = client.post(url, {"plan": "starter-eur"}, follow=True)
    assert "Billing is not configured on this installation." in response.content.decode()
    assert not Subscription.objects.for_org(tenant_a.org).exists()
    response = client.post(url, {"plan": "free"}, follow=True)
    assert response.status_code == 200
    assert Subscription.objects.for_org(tenant_a.org).get().plan.code == "free"
    assert client.post(url, {"plan": "agreement"}, follow=True).status_code == 200
    assert Subscription.objects.for_org(tenant_a.org).get().plan.code == "free"


def test_the_billing_page_and_api_are_for_owners_only(tenant_a, tenant_b):
    for role in ("member", "admin"):
        user = getattr(tenant_a, role)
        client = tenant_a.client_for(user)
        assert _page(tenant_a, user).status_code == 403
        assert (
            client.post(f"/o/{tenant_a.org.slug}/billing/plan/", {"plan": "free"}).status_code
            == 403
        )
        assert client.get(f"/api/v1/orgs/{tenant_a.org.slug}/billing/").status_code == 403
        nav = client.get(f"/o/{tenant_a.org.slug}/usage/").content.decode()
        assert f"/o/{tenant_a.org.slug}/billing/" not in nav
    owner_nav = tenant_a.client_for(tenant_a.owner).get(f"/o/{tenant_a.org.slug}/usage/")
    assert f"/o/{tenant_a.org.slug}/billing/" in owner_nav.content.decode()
    # Another organisation's billing answers 404, page and API, even to an owner.
    a_owner = tenant_a.client_for(tenant_a.owner)
    assert a_owner.get(f"/o/{tenant_b.org.slug}/billing/").status_code == 404
    assert a_owner.get(f"/api/v1/orgs/{tenant_b.org.slug}/billing/").status_code == 404
    assert (
        a_owner.post(f"/o/{tenant_b.org.slug}/billing/plan/", {"plan": "free"}).status_code == 404
    )
    assert not Subscription.objects.for_org(tenant_b.org).exists()


def test_paying_goes_through_stripe_checkout_and_the_portal(
    fake_stripe, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    client = tenant_a.client_for(tenant_a.owner)
    response = client.post(f"/o/{tenant_a.org.slug}/billing/plan/", {"plan": "starter-sek"})
    assert response.status_code == 302
    assert response.url.startswith(f"{fake_stripe.url}/checkout/cs_")
    # Nothing changes before Stripe says it is paid.
    assert plan_terms_of(
        organization=tenant_a.org, period_start=dt.date.today().replace(day=1)
    ).plan.code == ("free")
    session = fake_stripe.state.get("checkout.session", response.url.rsplit("/", 1)[1])
    assert session["client_reference_id"] == str(tenant_a.org.id)
    assert session["success_url"].endswith(f"/o/{tenant_a.org.slug}/billing/?checkout=success")

    subscribe(
        organization=tenant_a.org,
        owner_email=tenant_a.owner.email,
        plan_code="growth-sek",
        fake=fake_stripe,
        capture=django_capture_on_commit_callbacks,
    )
    page = _page(tenant_a).content.decode()
    assert ("Growth" in page and "4,290.00 SEK" in page) or "4290.00 SEK" in page
    portal = client.post(f"/o/{tenant_a.org.slug}/billing/portal/")
    assert portal.status_code == 302 and portal.url.startswith(f"{fake_stripe.url}/portal/")
    b_api = tenant_b.client_for(tenant_b.owner).get(f"/api/v1/orgs/{tenant_b.org.slug}/billing/")
    assert b_api.json()["plan"]["code"] == "free"


def test_an_upgrade_applies_at_once_and_a_downgrade_from_next_month(
    fake_stripe, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    org = tenant_a.org
    subscribe(
        organization=org,
        owner_email=tenant_a.owner.email,
        plan_code="starter-eur",
        fake=fake_stripe,
        capture=django_capture_on_commit_callbacks,
    )
    month = billing_month_of(organization=org, at=dt.datetime.now(dt.UTC))
    following = (month + dt.timedelta(days=32)).replace(day=1)
    starter = plan_terms_of(organization=org, period_start=month)
    assert (starter.plan.code, starter.quota, starter.hard_cap) == ("starter-eur", 125, False)

    client = tenant_a.client_for(tenant_a.owner)
    url = f"/o/{org.slug}/billing/plan/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"plan": "growth-eur"}, follow=True)
    assert "You are on Growth from now on." in response.content.decode()
    assert plan_terms_of(organization=org, period_start=month).plan.code == "growth-eur"
    remote = fake_stripe.state.get(
        "subscription", Subscription.objects.for_org(org).get().stripe_subscription_id
    )
    assert remote["items"]["data"][0]["price"]["unit_amount"] == 39000

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"plan": "starter-eur"}, follow=True)
    assert "You move to Starter on" in response.content.decode()
    assert plan_terms_of(organization=org, period_start=month).plan.code == "growth-eur"
    assert plan_terms_of(organization=org, period_start=following).plan.code == "starter-eur"
    api = client.get(f"/api/v1/orgs/{org.slug}/billing/").json()
    assert (api["plan"]["code"], api["pending_plan"]) == ("growth-eur", "starter-eur")
    assert api["pending_from"] == following.isoformat()
    # Stripe bills the lower price from the next invoice on, without a proration now.
    assert remote["items"]["data"][0]["price"]["unit_amount"] == 9900
    assert plan_terms_of(organization=tenant_b.org, period_start=month).plan.code == "free"

    # Changing one's mind before the month ends: the downgrade is dropped, here and at Stripe.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"plan": "growth-eur"}, follow=True)
    assert "You are on Growth." in response.content.decode()
    assert plan_terms_of(organization=org, period_start=following).plan.code == "growth-eur"
    assert remote["items"]["data"][0]["price"]["unit_amount"] == 39000


def test_prices_in_another_currency_and_tampered_currencies(tenant_a, settings):
    settings.STRIPE_API_KEY = ""
    client = tenant_a.client_for(tenant_a.owner)
    page = f"/o/{tenant_a.org.slug}/billing/"
    sek = client.get(page, {"currency": "SEK"}).content.decode()
    assert "1,090 SEK" in sek and "4,290 SEK" in sek and "99 EUR" not in sek
    for tampered in ("XYZ", "\x00", "%ED%A0%80", "SEK" * 100):
        response = client.get(page, {"currency": tampered})
        assert response.status_code == 200
        assert "99 EUR" in response.content.decode()  # the plan's own currency
    plan = client.post(f"{page}plan/", {"plan": "\x00"}, follow=True)
    assert "There is no such plan." in plan.content.decode()
