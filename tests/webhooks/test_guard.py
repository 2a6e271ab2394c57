"""The SSRF guard in production settings: https only, public addresses only, checked at save and
again before each attempt on the address the connection then uses, and no redirect followed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from webhooks.events import event_emit
from webhooks.guard import UnsafeURL, url_check
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import delivery_attempt, endpoint_create

from .receiver import Answer


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.com/x", "https://"),
        ("https://127.0.0.1/hooks", "127.0.0.1"),
        ("https://[::1]/hooks", "::1"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://10.1.2.3/hooks", "10.1.2.3"),
        ("https://192.168.0.10/hooks", "192.168.0.10"),
        ("https://[::ffff:127.0.0.1]/hooks", "::ffff:7f00:1"),
        ("https://0.0.0.0/hooks", "0.0.0.0"),  # noqa: S104 - the address refused
        ("https://224.0.0.1/hooks", "224.0.0.1"),
        ("https://user:pw@hooks.example.com/x", "password"),
        ("ftp://hooks.example.com/x", "https://"),
        ("https://hooks.example.com:99999/x", "not valid"),
        ("https://hooks exam ple.com/x", "could not be resolved"),
        ("https:///x", "host name"),
    ],
)
def test_unsafe_urls_are_refused_at_save_with_the_reason(production_guard, tenant_a, url, problem):
    with pytest.raises(ValidationError) as refused:
        endpoint_create(organization=tenant_a.org, url=url, events=["lead.created"])
    assert problem in " ".join(refused.value.message_dict["url"])


def test_a_host_name_resolving_to_10_or_127_is_refused(production_guard, test_dns):
    test_dns.answers["crm.example.com"] = "10.0.0.7"
    test_dns.answers["loop.example.com"] = "127.0.0.1"
    test_dns.answers["public.example.com"] = "93.184.215.14"
    with pytest.raises(UnsafeURL, match=r"10\.0\.0\.7"):
        url_check("https://crm.example.com/hooks")
    with pytest.raises(UnsafeURL, match=r"127\.0\.0\.1"):
        url_check("https://loop.example.com/hooks")
    target = url_check("https://public.example.com/hooks")
    assert (target.host, target.address, target.port) == (
        "public.example.com",
        "93.184.215.14",
        443,
    )


def test_a_host_that_turns_private_after_save_is_refused_at_delivery(
    production_guard, test_dns, tenant_a, receiver, django_capture_on_commit_callbacks
):
    """DNS rebinding: saved while public, answering 127.0.0.1 at delivery: nothing is sent."""
    rcv = receiver()
    test_dns.answers["rebind.example.com"] = "93.184.215.14"
    endpoint_create(
        organization=tenant_a.org,
        url=f"https://rebind.example.com:{rcv.port}/hooks",
        events=["lead.created"],
    )
    test_dns.answers["rebind.example.com"] = "127.0.0.1"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(organization=tenant_a.org, type="lead.created", data={"id": 1})
    attempt = WebhookAttempt.objects.for_org(tenant_a.org).get()
    assert not attempt.succeeded and attempt.status_code is None
    assert "127.0.0.1" in attempt.error
    assert rcv.received == []
    assert WebhookDelivery.objects.for_org(tenant_a.org).get().status == "pending"  # retried later


def test_a_redirect_to_127_0_0_1_is_not_followed(
    settings, tenant_a, receiver, django_capture_on_commit_callbacks
):
    """The receiver answers 302 to an internal address: the attempt fails naming the Location,
    and the internal address never sees a request. (The first receiver is on loopback too, so
    this test lets private addresses through for it; in production settings the redirect target
    would also fail the guard, see above.)"""
    internal = receiver()
    redirecting = receiver(
        [Answer(302, b"", headers={"location": internal.url("/admin/delete-everything")})]
    )
    endpoint_create(organization=tenant_a.org, url=redirecting.url(), events=["lead.created"])
    settings.LEADPILOT_WEBHOOKS_RETRY_DELAYS = [3600]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(organization=tenant_a.org, type="lead.created", data={"id": 1})
    attempt = WebhookAttempt.objects.for_org(tenant_a.org).get()
    assert attempt.status_code == 302 and not attempt.succeeded
    assert "Redirect refused" in attempt.error and "/admin/delete-everything" in attempt.error
    assert len(redirecting.received) == 1
    assert internal.received == []
    with pytest.raises(UnsafeURL):
        production_settings_check(settings, internal.url("/admin/delete-everything"))


def production_settings_check(settings, url):
    settings.LEADPILOT_WEBHOOKS_ALLOW_PRIVATE = False
    settings.LEADPILOT_WEBHOOKS_REQUIRE_HTTPS = True
    url_check(url.replace("http://", "https://"))


def test_a_slow_receiver_times_out_after_the_total_limit(
    settings, tenant_a, receiver, django_capture_on_commit_callbacks
):
    settings.LEADPILOT_WEBHOOKS_TIMEOUT = 1.0
    settings.LEADPILOT_WEBHOOKS_RETRY_DELAYS = [3600]
    slow = receiver([Answer(200, delay=3)])
    endpoint_create(organization=tenant_a.org, url=slow.url(), events=["lead.created"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_emit(organization=tenant_a.org, type="lead.created", data={"id": 1})
    attempt = WebhookAttempt.objects.for_org(tenant_a.org).get()
    assert not attempt.succeeded and "in time" in attempt.error
    assert 900 <= attempt.response_ms < 2500
    delivery = WebhookDelivery.objects.for_org(tenant_a.org).get()
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    assert delivery_attempt(delivery_id=delivery.pk) is None, "not due yet: nothing is sent"


def test_https_goes_to_the_checked_address_with_the_host_name_for_tls(
    settings, test_dns, tenant_a, tmp_path, django_capture_on_commit_callbacks
):
    """Pinned to the resolved address, the request still names the host (Host header, SNI) and
    the certificate is verified for that name: a certificate for another name is refused."""
    import ssl

    import trustme

    from .receiver import Receiver

    settings.LEADPILOT_WEBHOOKS_REQUIRE_HTTPS = True  # private addresses stay allowed: loopback
    settings.LEADPILOT_WEBHOOKS_RETRY_DELAYS = [3600]
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    settings.LEADPILOT_HTTP_CA_FILE = str(ca_file)
    test_dns.answers["hooks.example.com"] = "127.0.0.1"
    test_dns.answers["other.example.com"] = "127.0.0.1"
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.example.com").configure_cert(tls)
    with Receiver(tls=tls) as rcv:
        endpoint_create(
            organization=tenant_a.org,
            url=f"https://hooks.example.com:{rcv.port}/in",
            events=["lead.created"],
        )
        endpoint_create(
            organization=tenant_a.org,
            url=f"https://other.example.com:{rcv.port}/in",
            events=["lead.created"],
        )
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            event_emit(organization=tenant_a.org, type="lead.created", data={"id": 1})
        (request,) = rcv.received
    assert request.headers["host"] == f"hooks.example.com:{rcv.port}"
    attempts = {
        a.delivery.endpoint.url.split("//")[1].split(":")[0]: a
        for a in WebhookAttempt.objects.for_org(tenant_a.org).select_related("delivery__endpoint")
    }
    assert attempts["hooks.example.com"].succeeded
    refused = attempts["other.example.com"]
    assert not refused.succeeded and refused.status_code is None
    assert "certificate" in refused.error.lower() or "hostname" in refused.error.lower()
