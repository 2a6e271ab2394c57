# ruff: noqa: F811 - pytest fixtures imported from other test modules
"""The Billing page in a real browser at 1280 and 390 px: the plan, the month's figures, the chart,
the plans and the invoices are visible, nothing scrolls sideways, no CSP violation.
LP_SCREENSHOTS=DIR keeps the screenshots."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from billing.services import usage_events_record
from tests.billing.stripe_peer import fake_stripe, plans_seed, seeded_plans, subscribe  # noqa: F401
from tests.organizations.test_browser import browser_login, page  # noqa: F401
from tests.organizations.test_browser import pytestmark as browser_marks

pytestmark = browser_marks


@pytest.fixture
def billed(fake_stripe, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    """Organisation A on Growth with charges on several days of this month (before the browser
    starts, see the page fixture)."""
    plans_seed()
    subscribe(
        organization=tenant_a.org,
        owner_email=tenant_a.owner.email,
        plan_code="starter-eur",
        fake=fake_stripe,
        capture=django_capture_on_commit_callbacks,
    )
    now = timezone.now()
    start = now.astimezone(tenant_a.org.tz).replace(day=1, hour=12)
    lead_id = 1000
    for offset, count in enumerate([4, 0, 7, 3, 9, 0, 5, 6, 2, 8, 4, 11, 3]):
        at = start + dt.timedelta(days=offset)
        if at > now or not count:
            continue
        charges = []
        for _ in range(count):
            lead_id += 1
            charges.append((lead_id, {"verified": True, "kind": "email", "status": "valid"}))
        with transaction.atomic():
            usage_events_record(organization=tenant_a.org, charges=charges, occurred_at=at)
    return tenant_a


@pytest.mark.parametrize("width", [1280, 390])
def test_the_billing_page_reads_at_both_widths(billed, width, page):
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content-Security" in m.text else None
    )
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, billed.owner.email)
    page.goto("/o/alpha/billing/")
    assert page.locator("h1").inner_text() == "Billing"
    assert page.locator("#billing-plan").inner_text().startswith("Your plan")
    assert "Starter" in page.locator("#billing-plan").inner_text()
    assert page.locator("#billing-totals .card").count() == 5
    assert page.locator("#billing-expected").is_visible()
    assert page.locator("#billing-chart svg rect").count() >= 28
    assert page.locator("#billing-plans form").count() == 3  # Free, Starter, Growth in EUR
    assert page.locator("#billing-invoices tbody tr").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert violations == []
    folder = os.environ.get("LP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/billing-{width}.png", full_page=True)


@pytest.fixture
def past_due(billed, fake_stripe, django_capture_on_commit_callbacks):
    """A's renewal failed nine days ago: past the grace period."""
    from billing.models import Subscription
    from tests.billing.stripe_peer import deliver_all, events

    sub = Subscription.objects.for_org(billed.org).get()
    remote = fake_stripe.state.get("subscription", sub.stripe_subscription_id)
    seen = len(events(fake_stripe))
    remote["status"] = "past_due"
    fake_stripe.state.emit("customer.subscription.updated", remote)
    deliver_all(fake_stripe, django_capture_on_commit_callbacks, since=seen)
    Subscription.objects.for_org(billed.org).update(
        past_due_since=timezone.now() - dt.timedelta(days=9)
    )
    return billed


def test_the_pause_banner_sits_on_every_dashboard_page(past_due, page):
    page.set_viewport_size({"width": 1280, "height": 800})
    browser_login(page, past_due.member.email)
    for path in ("/o/alpha/", "/o/alpha/leads/", "/o/alpha/usage/"):
        page.goto(path)
        banner = page.locator("#billing-banner")
        assert banner.is_visible()
        assert "The nightly search is paused since" in banner.inner_text()
        assert "An owner of the organisation can update the payment." in banner.inner_text()
    folder = os.environ.get("LP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/billing-banner-1280.png")
