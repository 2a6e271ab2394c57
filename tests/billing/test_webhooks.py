# ruff: noqa: F811 - pytest fixtures imported from tests/billing/stripe_peer.py
"""Stripe's webhooks in (I7): verified, stored once by event id, processed once by re-fetching the
object from Stripe (the fake Stripe on loopback), whatever the number of deliveries."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.core import mail
from django.db import connection

from billing.models import Invoice, StripeEvent, Subscription
from billing.models import StripeCustomer as StripeCustomerRow
from tests.billing.stripe_peer import (  # noqa: F401 - fixtures
    WEBHOOK_SECRET,
    deliver,
    events,
    fake_control,
    fake_stripe,
    seeded_plans,
    subscribe,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded_plans")]


def _fake_requests(fake, path: str) -> int:
    return sum(1 for r in fake_control(fake, "/_fake/requests")["data"] if r["path"] == path)


def test_the_same_event_delivered_five_times_is_processed_once(
    fake_stripe, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    org = tenant_a.org
    plan_change_events = len(events(fake_stripe))
    from billing.subscriptions import subscription_plan_change

    change = subscription_plan_change(
        organization=org, plan_code="starter-eur", email=tenant_a.owner.email
    )
    session_id = change.redirect_url.rsplit("/", 1)[1]
    fake_control(fake_stripe, f"/_fake/checkout/{session_id}/complete", {})
    (completed,) = [
        e
        for e in events(fake_stripe)[plan_change_events:]
        if e["type"] == "checkout.session.completed"
    ]

    answers = []
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            answers.append(deliver(completed, fake=fake_stripe))
        assert len(callbacks) <= 1
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["duplicate"] for a in answers] == [False, True, True, True, True]

    stored = StripeEvent.objects.get(pk=completed["id"])
    assert (stored.status, stored.attempts, stored.organization_id) == ("succeeded", 1, org.id)
    # One side effect: the checkout session was fetched from Stripe once, the subscription set.
    assert _fake_requests(fake_stripe, f"/v1/checkout/sessions/{session_id}") == 1
    sub = Subscription.objects.for_org(org).get()
    assert (sub.plan.code, sub.status) == ("starter-eur", "active")
    assert sub.stripe_subscription_id.startswith("sub_")
    assert not Subscription.objects.for_org(tenant_b.org).exists()


def test_tampered_wrong_secret_and_stale_signatures_get_400_and_store_nothing(fake_stripe):
    event = {
        "id": "evt_signed_1",
        "object": "event",
        "type": "invoice.paid",
        "data": {"object": {}},
    }
    signed = json.dumps(event).encode()
    tampered = signed.replace(b"invoice.paid", b"invoice.void")
    now = fake_stripe.state.now()

    assert deliver(signed, fake=fake_stripe, body=tampered).status_code == 400
    assert deliver(signed, fake=fake_stripe, secret="whsec_someone_else").status_code == 400
    assert deliver(signed, fake=fake_stripe, timestamp=now - 301).status_code == 400
    assert not StripeEvent.objects.exists()
    # Unsigned, or not an event at all.
    assert deliver(b"[]", fake=fake_stripe).status_code == 400
    from django.test import Client

    assert (
        Client().post("/stripe/webhook/", data=signed, content_type="application/json").status_code
        == 400
    )
    assert Client().get("/stripe/webhook/").status_code == 405

    assert deliver(signed, fake=fake_stripe, timestamp=now - 200).status_code == 200
    assert StripeEvent.objects.filter(pk="evt_signed_1").count() == 1


def test_without_a_webhook_secret_every_delivery_is_refused(fake_stripe, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    event = {"id": "evt_x", "object": "event", "type": "invoice.paid", "data": {"object": {}}}
    assert deliver(event, fake=fake_stripe).status_code == 400
    assert not StripeEvent.objects.exists()


def test_invoices_are_mirrored_from_stripe_and_listed_for_owners_only(
    fake_stripe, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    subscribe(
        organization=tenant_a.org,
        owner_email=tenant_a.owner.email,
        plan_code="growth-eur",
        fake=fake_stripe,
        capture=django_capture_on_commit_callbacks,
    )
    invoice = Invoice.objects.for_org(tenant_a.org).get()
    assert invoice.status == "paid" and invoice.number.startswith("FAKE-")
    assert str(invoice.amount_due) == "390.00" and invoice.currency == "EUR"
    assert invoice.hosted_invoice_url.startswith(fake_stripe.url)

    api = tenant_a.client_for(tenant_a.owner)
    listed = api.get(f"/api/v1/orgs/{tenant_a.org.slug}/billing/invoices/").json()
    assert [row["number"] for row in listed["results"]] == [invoice.number]
    assert listed["results"][0]["amount_due"] == "390.00"
    page = api.get(f"/o/{tenant_a.org.slug}/billing/")
    assert invoice.number in page.content.decode()
    # Organisation B has none, and cannot see A's.
    b_owner = tenant_b.client_for(tenant_b.owner)
    assert (
        b_owner.get(f"/api/v1/orgs/{tenant_b.org.slug}/billing/invoices/").json()["results"] == []
    )
    assert b_owner.get(f"/api/v1/orgs/{tenant_a.org.slug}/billing/invoices/").status_code == 404
    for role in ("member", "admin"):
        client = tenant_a.client_for(getattr(tenant_a, role))
        assert client.get(f"/api/v1/orgs/{tenant_a.org.slug}/billing/invoices/").status_code == 403
    assert not mail.outbox


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_deliveries_store_and_process_one_event(fake_stripe, tenant_a):
    """Stripe retries overlap: five deliveries of one event at once (each its own connection,
    tasks run eagerly after each commit) still give one row, processed once."""
    from billing.subscriptions import stripe_customer_ensure

    stripe_customer_ensure(organization=tenant_a.org)
    remote = fake_stripe.state.get(
        "customer", StripeCustomerRow.objects.for_org(tenant_a.org).get().customer_id
    )
    seen = len(events(fake_stripe))
    fake_stripe.state.emit("customer.updated", remote)
    (event,) = events(fake_stripe)[seen:]
    barrier = threading.Barrier(5)
    answers: list[int] = []

    def post() -> None:
        try:
            barrier.wait()
            answers.append(deliver(event, fake=fake_stripe).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [200] * 5
    stored = StripeEvent.objects.get(pk=event["id"])
    assert (stored.status, stored.attempts) == ("ignored", 1)


def test_an_event_left_unprocessed_is_swept_up(fake_stripe, tenant_a):
    """The enqueue after commit was lost (no on-commit callback ran here): the sweeper finds the
    stored event after 10 minutes, and processing it then works once."""
    from billing.subscriptions import stripe_event_process, stripe_events_stuck

    event = {
        "id": "evt_lost_1",
        "object": "event",
        "type": "customer.updated",
        "data": {"object": {}},
    }
    assert deliver(event, fake=fake_stripe).status_code == 200
    stored = StripeEvent.objects.get(pk="evt_lost_1")
    assert stored.status == "pending"
    assert stripe_events_stuck() == []
    later = stored.received_at + dt.timedelta(minutes=11)
    assert stripe_events_stuck(now=later) == ["evt_lost_1"]
    assert stripe_event_process(event_id="evt_lost_1") is True
    assert stripe_event_process(event_id="evt_lost_1") is False
    assert stripe_events_stuck(now=later) == []
