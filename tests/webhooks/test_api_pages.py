"""Webhooks API and dashboard pages: admins create, edit, rotate, test and redeliver; members and
read keys cannot change anything; another organisation's endpoints are never listed."""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from organizations.services import api_key_create
from webhooks.events import event_emit
from webhooks.models import WebhookAttempt, WebhookEndpoint
from webhooks.services import endpoint_create

from .receiver import Answer

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_crud_test_event_deliveries_and_redeliver(
    tenant_a, tenant_b, receiver, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    rcv = receiver([Answer(500)])
    client = api(tenant_a.admin)
    base = f"/api/v1/orgs/{tenant_a.org.slug}/webhooks/"
    created = client.post(
        base, {"url": rcv.url(), "events": ["lead.created", "lead.approved"]}, format="json"
    )
    assert created.status_code == 201, created.content
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["is_active"] is True
    bad = client.post(base, {"url": rcv.url(), "events": ["lead.eaten"]}, format="json")
    assert bad.status_code == 400 and "lead.eaten" in bad.content.decode()
    endpoint_create(organization=tenant_b.org, url=rcv.url("/bravo"), events=["lead.created"])
    with django_assert_max_num_queries(6):
        listed = client.get(base).json()["results"]
    assert [e["id"] for e in listed] == [endpoint["id"]]

    url = f"{base}{endpoint['id']}/"
    patched = client.patch(url, {"events": ["lead.rejected"], "description": "CRM"}, format="json")
    assert patched.json()["events"] == ["lead.rejected"] and patched.json()["description"] == "CRM"
    rotated = client.post(f"{url}rotate-secret/").json()
    assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_expires_at"]

    with django_capture_on_commit_callbacks(execute=True):
        test = client.post(f"{url}test/")
    assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"
    deliveries = client.get(f"{url}deliveries/").json()["results"]
    (delivery,) = deliveries
    assert delivery["status"] == "failed" and delivery["attempt_log"][0]["status_code"] == 500
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"{url}deliveries/{delivery['id']}/redeliver/")
    assert again.status_code == 202
    (delivery,) = client.get(f"{url}deliveries/").json()["results"]
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempt_log"]] == [200, 500]
    assert delivery["attempt_log"][0]["manual"] is True
    assert rcv.received[0].headers["webhook-id"] == rcv.received[1].headers["webhook-id"]

    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_members_and_read_keys_cannot_manage_webhooks(tenant_a):
    base = f"/api/v1/orgs/{tenant_a.org.slug}/webhooks/"
    assert api(tenant_a.member).get(base).status_code == 403
    _key, read_key = api_key_create(organization=tenant_a.org, actor=tenant_a.admin, name="ro")
    reader = APIClient(HTTP_AUTHORIZATION=f"Api-Key {read_key}")
    refused = reader.post(base, {"url": "http://127.0.0.1:9/", "events": ["lead.created"]})
    assert refused.status_code == 403
    assert not WebhookEndpoint.objects.for_org(tenant_a.org).exists()


def test_api_refuses_an_internal_url_in_production_settings(production_guard, tenant_a):
    response = api(tenant_a.admin).post(
        f"/api/v1/orgs/{tenant_a.org.slug}/webhooks/",
        {"url": "https://169.254.169.254/latest/", "events": ["lead.created"]},
        format="json",
    )
    assert response.status_code == 400
    assert "169.254.169.254" in response.content.decode()


def test_dashboard_pages(
    tenant_a, tenant_b, receiver, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    rcv = receiver()
    admin = tenant_a.client_for(tenant_a.admin)
    base = f"/o/{tenant_a.org.slug}/webhooks/"
    page = admin.get(base)
    assert page.status_code == 200 and b"Add an endpoint" in page.content
    nav = admin.get(f"/o/{tenant_a.org.slug}/").content.decode()
    assert base in nav
    assert (
        base
        not in tenant_a.client_for(tenant_a.member).get(f"/o/{tenant_a.org.slug}/").content.decode()
    )
    assert tenant_a.client_for(tenant_a.member).get(base).status_code == 403

    refused = admin.post(base, {"url": "ftp://x.example/", "events": ["lead.created"]})
    assert refused.status_code == 400 and b"https://" in refused.content
    refused = admin.post(base, {"url": rcv.url()})
    assert refused.status_code == 400 and b"Choose at least one event" in refused.content
    done = admin.post(base, {"url": rcv.url(), "events": ["lead.created"], "description": "Zapier"})
    assert done.status_code == 302
    endpoint = WebhookEndpoint.objects.for_org(tenant_a.org).get()
    detail = admin.get(done["Location"]).content.decode()
    assert endpoint.secret in detail and "Zapier" in detail

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"{base}{endpoint.pk}/test/")
        for i in range(5):
            with transaction.atomic():
                event_emit(organization=tenant_a.org, type="lead.created", data={"id": i})
    with django_assert_max_num_queries(12):
        detail = admin.get(f"{base}{endpoint.pk}/")
    assert detail.content.decode().count("webhook.test") == 1
    assert WebhookAttempt.objects.for_org(tenant_a.org).count() == 6

    old = endpoint.secret
    admin.post(f"{base}{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    edited = admin.post(
        f"{base}{endpoint.pk}/", {"url": rcv.url("/v2"), "events": ["lead.rejected"]}
    )
    assert edited.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url.endswith("/v2") and not endpoint.is_active  # unticked "Enabled"

    other = endpoint_create(organization=tenant_b.org, url=rcv.url("/b"), events=["lead.created"])
    assert admin.get(f"{base}{other.pk}/").status_code == 404
    assert admin.post(f"{base}{other.pk}/delete/").status_code == 404
    assert admin.post(f"{base}{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.for_org(tenant_a.org).exists()
