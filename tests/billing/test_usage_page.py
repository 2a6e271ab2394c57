"""The Usage and Disputes pages read as finished: charges by kind when the month has several,
figures through the locale, empty states that say what to do, and another organisation's usage
never shown."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing.selectors import usage_month
from billing.services import usage_event_record
from billing.views import billing_month_of

SNAPSHOT = {"verified": True, "kind": "email", "value": "kari@example.no", "status": "valid"}


def charge(org, lead_id, kind="verified"):
    with transaction.atomic():
        usage_event_record(
            organization=org, lead_id=lead_id, verification_snapshot=SNAPSHOT, kind=kind
        )


def test_usage_counts_kinds_and_reads_figures_through_the_locale(tenant_a, tenant_b):
    tenant_a.org.monthly_lead_quota = 12_000
    tenant_a.org.save()
    for lead_id in (1, 2, 3):
        charge(tenant_a.org, lead_id)
    charge(tenant_a.org, 4, kind="enriched")
    charge(tenant_a.org, 5, kind="found")
    charge(tenant_b.org, 6, kind="enriched")
    month = usage_month(
        organization=tenant_a.org,
        month=billing_month_of(organization=tenant_a.org, at=timezone.now()),
    )
    assert [(k.kind, k.charged) for k in month.kinds] == [
        ("found", 1),
        ("enriched", 1),
        ("verified", 3),
    ]
    client = tenant_a.client_for(tenant_a.member)
    html = client.get(reverse("billing:usage", kwargs={"org_slug": "alpha"})).content.decode()
    assert "Leads found: 1" in html
    assert "Own-list rows enriched: 1" in html
    assert "Uploaded contacts verified: 3" in html
    assert 'id="usage-quota">12,000<' in html
    assert "11,995 leads left this month" in html
    api = client.get(reverse("billing-api:usage", kwargs={"org_slug": "alpha"})).json()
    assert api["kinds"] == [
        {"kind": "found", "charged": 1},
        {"kind": "enriched", "charged": 1},
        {"kind": "verified", "charged": 3},
    ]
    # A Swedish browser: the same figures with Swedish grouping (a no-break space).
    swedish = client.get(
        reverse("billing:usage", kwargs={"org_slug": "alpha"}), HTTP_ACCEPT_LANGUAGE="sv"
    )
    assert 'id="usage-quota">12\xa0000<' in swedish.content.decode()
    # B's month: one kind only, so no breakdown, and none of A's charges.
    b_html = (
        tenant_b.client_for(tenant_b.owner)
        .get(reverse("billing:usage", kwargs={"org_slug": "bravo"}))
        .content.decode()
    )
    assert 'id="usage-charged">1<' in b_html
    assert 'id="usage-kinds"' not in b_html


def test_empty_usage_and_disputes_pages_say_what_to_do(tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    usage = client.get(reverse("billing:usage", kwargs={"org_slug": "alpha"})).content.decode()
    assert "Nothing charged this month yet." in usage
    assert "activate a segment to start" in usage
    assert "report bounced addresses on the Disputes page" in usage
    disputes = client.get(
        reverse("billing:disputes", kwargs={"org_slug": "alpha"})
    ).content.decode()
    assert "No disputes. If a charged lead is wrong" in disputes
    assert "Dispute this charge" in disputes and "within 90 days of its delivery" in disputes
    filtered = client.get(
        reverse("billing:disputes", kwargs={"org_slug": "alpha"}), {"status": "accepted"}
    ).content.decode()
    assert "No dispute has this status." in filtered
