"""The fake Stripe (sandbox/stripe) through the real stripe library: Stripe's meter-event rules,
idempotency, faults, the clock and signed webhooks that stripe.Webhook.construct_event accepts."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from sandbox.stripe import FakeStripe

DAY = 86_400


@pytest.fixture
def fake():
    with FakeStripe(webhook_secret="whsec_fake_tests") as fake:
        yield fake


@pytest.fixture
def client(fake):
    return stripe.StripeClient(
        "sk_test_fake",
        base_addresses={"api": fake.url, "meter_events": fake.url},
        max_network_retries=0,
    )


def control(fake: FakeStripe, path: str, body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the fake on loopback
        f"{fake.url}{path}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def meter_event(client, customer: str, identifier: str, *, at: int | None = None, key=None):
    return client.v1.billing.meter_events.create(
        {
            "event_name": "leads",
            "identifier": identifier,
            "timestamp": int(time.time()) if at is None else at,
            "payload": {"stripe_customer_id": customer, "value": "1"},
        },
        {"idempotency_key": key} if key else {},
    )


def setup_meter(client) -> tuple[str, str]:
    customer = client.v1.customers.create({"email": "owner@alpha.example"}).id
    meter = client.v1.billing.meters.create(
        {"display_name": "Leads", "event_name": "leads", "default_aggregation": {"formula": "sum"}}
    ).id
    return customer, meter


def usage(client, meter: str, customer: str) -> float:
    now = int(time.time()) // 60 * 60
    summaries = client.v1.billing.meters.event_summaries.list(
        meter, {"customer": customer, "start_time": now - 40 * DAY, "end_time": now + 600}
    )
    return sum(s.aggregated_value for s in summaries.data)


def test_identifiers_are_deduplicated_for_24_hours_and_stale_timestamps_refused(fake, client):
    customer, meter = setup_meter(client)
    first = meter_event(client, customer, "usage-1")
    again = meter_event(client, customer, "usage-1")  # another request, same identifier
    assert again.identifier == first.identifier == "usage-1"
    assert usage(client, meter, customer) == 1 and fake.state.duplicates == 1

    now = int(time.time())
    with pytest.raises(stripe.InvalidRequestError) as stale:
        meter_event(client, customer, "old", at=now - 35 * DAY - 60)
    assert (stale.value.http_status, stale.value.code) == (400, "timestamp_too_far_in_past")
    with pytest.raises(stripe.InvalidRequestError) as future:
        meter_event(client, customer, "ahead", at=now + 6 * 60)
    assert future.value.code == "timestamp_in_future"
    meter_event(client, customer, "edge", at=now + 4 * 60)  # within 5 minutes: accepted
    assert usage(client, meter, customer) == 2

    control(fake, "/_fake/clock", {"advance": DAY + 60})
    meter_event(client, customer, "usage-1")  # the dedup window has passed
    assert len(fake.state.meter_events) == 3


def test_a_cancel_works_within_24_hours_of_receipt_only(fake, client):
    customer, meter = setup_meter(client)
    meter_event(client, customer, "a")
    meter_event(client, customer, "b")
    adjustment = client.v1.billing.meter_event_adjustments.create(
        {"event_name": "leads", "type": "cancel", "cancel": {"identifier": "a"}}
    )
    assert (adjustment.status, adjustment.cancel.identifier) == ("pending", "a")
    assert usage(client, meter, customer) == 1
    control(fake, "/_fake/clock", {"advance": DAY + 1})
    with pytest.raises(stripe.InvalidRequestError) as late:
        client.v1.billing.meter_event_adjustments.create(
            {"event_name": "leads", "type": "cancel", "cancel": {"identifier": "b"}}
        )
    assert late.value.code == "meter_event_adjustment_too_late"


def test_an_idempotency_key_replays_its_answer_and_refuses_other_parameters(fake, client):
    customer, _ = setup_meter(client)
    first = meter_event(client, customer, "x", key="meter:x")
    replay = meter_event(client, customer, "x", at=first.timestamp, key="meter:x")
    assert replay.last_response.headers.get("Idempotent-Replayed") == "true"
    with pytest.raises(stripe.IdempotencyError):
        meter_event(client, customer, "y", key="meter:x")
    assert len(fake.state.meter_events) == 1


def test_faults_rate_limit_lose_answers_and_time_out(fake, client):
    customer, meter = setup_meter(client)
    fake.set_faults(rate_limit_rate=1.0, retry_after_s=3)
    with pytest.raises(stripe.RateLimitError) as limited:
        meter_event(client, customer, "r", key="k-r")
    assert limited.value.headers.get("Retry-After") == "3"
    assert not fake.state.meter_events  # nothing recorded

    now = int(time.time())
    fake.set_faults(lose_rate=1.0)
    with pytest.raises(stripe.APIError):
        meter_event(client, customer, "l", at=now, key="k-l")
    assert len(fake.state.meter_events) == 1  # recorded, the answer lost
    fake.set_faults()
    replay = meter_event(client, customer, "l", at=now, key="k-l")
    assert replay.last_response.headers.get("Idempotent-Replayed") == "true"

    fake.set_faults(timeout_rate=1.0, timeout_s=2)
    slow = stripe.StripeClient(
        "sk_test_fake",
        base_addresses={"api": fake.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=0.5),
    )
    with pytest.raises(stripe.APIConnectionError):
        meter_event(slow, customer, "t", key="k-t")
    assert len(fake.state.meter_events) == 2
    fake.set_faults()
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("rk_live_x", base_addresses={"api": fake.url}).v1.customers.list()
    del meter


class _Inbox(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, self.headers["Stripe-Signature"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_checkout_subscription_and_invoices_post_signed_webhooks(fake, client):
    inbox = ThreadingHTTPServer(("127.0.0.1", 0), _Inbox)
    threading.Thread(target=inbox.serve_forever, daemon=True).start()
    _Inbox.received = []
    control(
        fake,
        "/_fake/webhooks",
        {"url": f"http://127.0.0.1:{inbox.server_address[1]}/", "secret": "whsec_fake_tests"},
    )
    try:
        customer, meter = setup_meter(client)
        product = client.v1.products.create({"name": "Growth"}).id
        base = client.v1.prices.create(
            {
                "product": product,
                "currency": "eur",
                "unit_amount": 9900,
                "recurring": {"interval": "month"},
            }
        )
        metered = client.v1.prices.create(
            {
                "product": product,
                "currency": "eur",
                "billing_scheme": "tiered",
                "tiers_mode": "graduated",
                "tiers": [{"up_to": 2, "unit_amount": 0}, {"up_to": "inf", "unit_amount": 150}],
                "recurring": {"interval": "month", "usage_type": "metered", "meter": meter},
            }
        )
        session = client.v1.checkout.sessions.create(
            {
                "mode": "subscription",
                "customer": customer,
                "line_items": [{"price": base.id, "quantity": 1}, {"price": metered.id}],
                "success_url": "http://127.0.0.1/billing/?ok=1",
            }
        )
        assert session.url.startswith(fake.url)
        control(fake, f"/_fake/checkout/{session.id}/complete", {})
        done = client.v1.checkout.sessions.retrieve(session.id)
        assert done.status == "complete" and done.subscription
        for identifier in ("a", "b", "c", "d"):
            meter_event(client, customer, identifier)
        invoice = control(fake, f"/_fake/subscriptions/{done.subscription}/invoice", {})
        assert invoice["total"] == 9900 + 2 * 150  # 2 free, then 1.50 each
        invoices = client.v1.invoices.list({"customer": customer})
        assert {i.status for i in invoices.data} == {"paid"} and len(invoices.data) == 2
        deadline = time.monotonic() + 10
        while len(_Inbox.received) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        types = []
        for body, signature in _Inbox.received:
            event = stripe.Webhook.construct_event(body, signature, "whsec_fake_tests")
            types.append(event.type)
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.Webhook.construct_event(body, signature, "whsec_other")
        assert {
            "checkout.session.completed",
            "customer.subscription.created",
            "invoice.paid",
        } <= set(types)
    finally:
        inbox.shutdown()
        inbox.server_close()
