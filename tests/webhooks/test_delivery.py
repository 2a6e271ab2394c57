"""Webhooks to a real loopback receiver: signed as Standard Webhooks says (checked with the code
docs/webhooks.md gives receivers), retried with the same webhook-id, written only with the change
that announces it, and the endpoint disabled with an e-mail when its time is up."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks import WebhookVerificationError

from webhooks.events import event_emit
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create, endpoint_secret_rotate

from .receiver import Answer

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify():
    """The first Python block of docs/webhooks.md, as a receiver would paste it."""
    block = re.search(r"```python\n(.*?)```", DOCS.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(block, str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def emit(org, type_="lead.approved", data=None, capture=None):
    with capture(execute=True), transaction.atomic():
        event_emit(organization=org, type=type_, data=data or {"lead": {"id": 7}})


@pytest.fixture
def hook(tenant_a, receiver):
    def make(script=None, events=("lead.approved",)):
        r = receiver(script)
        endpoint = endpoint_create(
            organization=tenant_a.org, url=r.url(), events=list(events), created_by=tenant_a.admin
        )
        return r, endpoint

    return make


def test_the_signature_verifies_with_the_documented_code(
    tenant_a, hook, django_capture_on_commit_callbacks
):
    rcv, endpoint = hook()
    emit(
        tenant_a.org,
        data={"lead": {"id": 7, "company": "Åkesson AB"}},
        capture=django_capture_on_commit_callbacks,
    )

    (request,) = rcv.received
    assert endpoint.secret.startswith("whsec_")
    assert request.headers["webhook-id"].startswith("msg_")
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]+=*", request.headers["webhook-signature"])
    event = documented_verify()(endpoint.secret, request.body, request.headers)
    assert event["type"] == "lead.approved"
    assert event["data"] == {"lead": {"id": 7, "company": "Åkesson AB"}}
    with pytest.raises(WebhookVerificationError):
        documented_verify()(endpoint.secret, request.body.replace(b"7", b"8"), request.headers)
    other = endpoint_create(organization=tenant_a.org, url=rcv.url(), events=["lead.created"])
    with pytest.raises(WebhookVerificationError):
        documented_verify()(other.secret, request.body, request.headers)


def test_a_rotated_secret_signs_twice_until_the_overlap_ends(
    tenant_a, hook, django_capture_on_commit_callbacks
):
    rcv, endpoint = hook()
    old = endpoint.secret
    endpoint = endpoint_secret_rotate(organization=tenant_a.org, endpoint_id=endpoint.pk)
    emit(tenant_a.org, capture=django_capture_on_commit_callbacks)
    request = rcv.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verify = documented_verify()
    assert verify(old, request.body, request.headers)["type"] == "lead.approved"
    assert verify(endpoint.secret, request.body, request.headers)["type"] == "lead.approved"

    WebhookEndpoint.objects.for_org(tenant_a.org).filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    emit(tenant_a.org, capture=django_capture_on_commit_callbacks)
    request = rcv.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        verify(old, request.body, request.headers)


def test_a_receiver_failing_three_times_gets_the_event_once_it_answers_200(
    tenant_a, tenant_b, hook, settings, django_capture_on_commit_callbacks
):
    settings.LEADPILOT_WEBHOOKS_RETRY_DELAYS = [0]  # retry at once (production: 5 s, 5 min, ...)
    rcv, _endpoint = hook(script=[Answer(500), Answer(503, b"busy"), Answer(404)])
    emit(tenant_a.org, capture=django_capture_on_commit_callbacks)

    assert len(rcv.received) == 4
    assert len({r.headers["webhook-id"] for r in rcv.received}) == 1, "webhook-id must be stable"
    assert len({r.body for r in rcv.received}) == 1
    delivery = WebhookDelivery.objects.for_org(tenant_a.org).get()
    assert delivery.status == "succeeded" and delivery.attempts == 4
    codes = list(
        WebhookAttempt.objects.for_org(tenant_a.org)
        .order_by("attempted_at", "id")
        .values_list("status_code", "succeeded")
    )
    assert codes == [(500, False), (503, False), (404, False), (200, True)]
    assert WebhookAttempt.objects.for_org(tenant_a.org).filter(response_excerpt="busy").exists()
    assert not WebhookDelivery.objects.for_org(tenant_b.org).exists()


def test_nothing_is_sent_for_a_rolled_back_change_or_an_unsubscribed_event(
    tenant_a, hook, django_capture_on_commit_callbacks
):
    rcv, _endpoint = hook()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                event_emit(organization=tenant_a.org, type="lead.approved", data={"id": 1})
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    emit(tenant_a.org, type_="lead.rejected", capture=django_capture_on_commit_callbacks)
    assert rcv.received == []
    assert not WebhookDelivery.objects.for_org(tenant_a.org).exists()
    with pytest.raises(ValueError, match=r"lead\.aproved"):
        event_emit(organization=tenant_a.org, type="lead.aproved", data={})


def test_a_delivery_out_of_time_disables_the_endpoint_and_emails_the_admins(
    tenant_a, hook, settings, django_capture_on_commit_callbacks
):
    settings.LEADPILOT_WEBHOOKS_RETRY_HOURS = 0  # the first failure is the last
    rcv, endpoint = hook(script=[Answer(500)])
    emit(tenant_a.org, capture=django_capture_on_commit_callbacks)

    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason
    assert WebhookDelivery.objects.for_org(tenant_a.org).get().status == "failed"
    assert sorted(m.to[0] for m in mail.outbox) == [tenant_a.admin.email, tenant_a.owner.email]
    assert endpoint.url in mail.outbox[0].body
    emit(tenant_a.org, capture=django_capture_on_commit_callbacks)
    assert len(rcv.received) == 1, "a disabled endpoint gets nothing"


def test_the_body_is_the_json_the_docs_describe(tenant_a, hook, django_capture_on_commit_callbacks):
    rcv, _ = hook(events=["usage.recorded"])
    emit(
        tenant_a.org,
        type_="usage.recorded",
        data={"lead_id": 3, "month": dt.date(2026, 12, 1)},
        capture=django_capture_on_commit_callbacks,
    )
    body = json.loads(rcv.received[0].body)
    assert body["type"] == "usage.recorded"
    assert body["data"] == {"lead_id": 3, "month": "2026-12-01"}
    assert dt.datetime.fromisoformat(body["timestamp"]).tzinfo is not None
