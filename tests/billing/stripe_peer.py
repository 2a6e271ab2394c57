"""The fake Stripe (sandbox/stripe) as the billing tests' peer, and Stripe's webhooks delivered
to our endpoint signed by the fake itself (stripe.Webhook.construct_event verifies for real).

The fake posts no webhooks here (no live server in a test's transaction): the test takes the
events the fake recorded and delivers them through the test client, as Stripe would."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from django.test import Client

from sandbox.stripe import FakeStripe

WEBHOOK_SECRET = "whsec_leadpilot_tests"


def plans_seed() -> None:
    """The plans migration 0005 seeds, again (idempotent): a transactional test's flush empties
    the table for every test after it."""
    import importlib

    from django.apps import apps

    importlib.import_module("billing.migrations.0005_plans").seed_plans(apps, None)


@pytest.fixture
def seeded_plans(db):
    plans_seed()


@pytest.fixture
def fake_stripe(settings, seeded_plans):
    with FakeStripe(webhook_secret=WEBHOOK_SECRET) as fake:
        settings.STRIPE_API_KEY = "sk_test_leadpilot"
        settings.STRIPE_API_BASE = fake.url
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_NETWORK_RETRIES = 0
        from billing.subscriptions import stripe_plans_sync

        stripe_plans_sync()
        yield fake


def fake_control(fake: FakeStripe, path: str, data: dict | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - the fake on loopback
        f"{fake.url}{path}",
        data=json.dumps(data).encode() if data is not None else None,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def events(fake: FakeStripe, event_type: str | None = None) -> list[dict[str, Any]]:
    found = fake.state.all("event")
    return [e for e in found if event_type is None or e["type"] == event_type]


def deliver(
    event: dict[str, Any] | bytes,
    *,
    fake: FakeStripe,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    body: bytes | None = None,
    client: Client | None = None,
):
    """POST one event to /stripe/webhook/ as Stripe does; `body` replaces the signed bytes."""
    signed = event if isinstance(event, bytes) else json.dumps(event).encode()
    signature = fake.state.sign(signed, timestamp=timestamp, secret=secret)
    return (client or Client()).post(
        "/stripe/webhook/",
        data=body if body is not None else signed,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )


def deliver_all(fake: FakeStripe, capture, *, since: int = 0) -> int:
    """Deliver every event the fake recorded after the first `since`, processing each (the
    on-commit task runs eagerly). Returns how many were delivered."""
    pending = events(fake)[since:]
    for event in pending:
        with capture(execute=True):
            response = deliver(event, fake=fake)
        assert response.status_code == 200, response.content
    return len(pending)


def subscribe(*, organization, owner_email: str, plan_code: str, fake: FakeStripe, capture):
    """An owner picks a paid plan, pays on Stripe's Checkout page, Stripe's webhooks arrive."""
    from billing.subscriptions import subscription_plan_change

    seen = len(events(fake))
    change = subscription_plan_change(
        organization=organization,
        plan_code=plan_code,
        email=owner_email,
        success_url="http://testserver/ok",
        cancel_url="http://testserver/cancel",
    )
    assert change.outcome == "checkout"
    session_id = change.redirect_url.rsplit("/", 1)[1]
    fake_control(fake, f"/_fake/checkout/{session_id}/complete", {})
    deliver_all(fake, capture, since=seen)
    return session_id
