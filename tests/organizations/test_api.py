"""REST API of the organisation: detail/settings, members, API keys; key auth and CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from organizations.models import AuditEvent, Organization, OrganizationAPIKey
from organizations.services import (
    api_key_create,
    api_key_revoke,
    invitation_accept_new_user,
    invitation_create,
)
from tests.api.problems import field_errors, problem_of


def api(tenant, path: str = "") -> str:
    return f"/api/v1/orgs/{tenant.org.slug}/{path}"


def key_client(full_key: str) -> Client:
    return Client(headers={"Authorization": f"Api-Key {full_key}"})


def make_key(tenant, scope: str = "read", *more: str) -> str:
    """A key with `scope` ("read": read only, "write": read and write) and any `more` scopes."""
    scopes = ["read"] if scope == "read" else ["read", scope]
    actor = tenant.owner if "billing" in more else tenant.admin
    _key, full_key = api_key_create(
        organization=tenant.org, actor=actor, name=f"{scope} key", scopes=[*scopes, *more]
    )
    return full_key


# --- organisation detail and settings ---------------------------------------------------------


def test_member_reads_organisation(tenant_a, tenant_b):
    response = tenant_a.client_for(tenant_a.member).get(api(tenant_a))
    assert response.status_code == 200
    assert response.json()["slug"] == "alpha"
    assert response.json()["working_days"] == [0, 1, 2, 3, 4]


def test_admin_patches_settings_member_cannot(tenant_a, tenant_b):
    body = {"leads_per_day": 40, "delivery_mode": "calendar", "working_days": [4, 0, 0]}
    member = tenant_a.client_for(tenant_a.member)
    assert member.patch(api(tenant_a), body, content_type="application/json").status_code == 403

    response = tenant_a.client_for(tenant_a.admin).patch(
        api(tenant_a), body, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["leads_per_day"] == 40
    assert response.json()["working_days"] == [0, 4]
    assert Organization.objects.get(pk=tenant_b.org.pk).leads_per_day == 10


def test_bad_settings_answer_400_naming_the_field(tenant_a):
    client = tenant_a.client_for(tenant_a.admin)
    response = client.patch(
        api(tenant_a), {"timezone": "Mars/Olympus"}, content_type="application/json"
    )
    assert "Unknown time zone" in field_errors(response)["timezone"][0]
    response = client.patch(
        api(tenant_a), {"slug": "taken", "night_hour": 24}, content_type="application/json"
    )
    errors = field_errors(response)
    assert set(errors) == {"night_hour"} or "slug" in errors
    assert Organization.objects.get(pk=tenant_a.org.pk).slug == "alpha"
    response = client.patch(api(tenant_a), {"slug": "taken"}, content_type="application/json")
    assert field_errors(response) == {"slug": ["This field cannot be changed."]}


# --- members ----------------------------------------------------------------------------------


def test_members_list_is_cursor_paginated_and_own_only(
    tenant_a, tenant_b, django_assert_max_num_queries
):
    for n in range(7):
        _inv, token = invitation_create(
            organization=tenant_a.org, invited_by=tenant_a.owner, email=f"m{n}@alpha.example"
        )
        invitation_accept_new_user(token=token, password="a long enough pass phrase")
    client = tenant_a.client_for(tenant_a.member)
    emails, url, pages = [], api(tenant_a, "members/?page_size=4"), 0
    while url:
        with django_assert_max_num_queries(6):
            response = client.get(url)
        assert response.status_code == 200
        data = response.json()
        emails += [row["email"] for row in data["results"]]
        url, pages = data["next"], pages + 1
    assert pages == 3
    assert len(emails) == len(set(emails)) == 10
    assert all(e.endswith("@alpha.example") for e in emails)


# --- API keys through the API -----------------------------------------------------------------


def test_admin_session_creates_lists_and_revokes_keys(tenant_a, tenant_b):
    admin = tenant_a.client_for(tenant_a.admin)
    response = admin.post(
        api(tenant_a, "api-keys/"),
        {"name": "ETL", "scopes": ["write", "read"]},
        content_type="application/json",
    )
    assert response.status_code == 201
    created = response.json()
    assert created["key"].startswith(created["prefix"] + ".")
    assert created["id"] == created["prefix"] and created["scopes"] == ["read", "write"]

    listed = admin.get(api(tenant_a, "api-keys/")).json()["results"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert key_client(created["key"]).get(api(tenant_a)).status_code == 200

    response = admin.delete(api(tenant_a, f"api-keys/{created['id']}/"))
    assert response.status_code == 200
    assert response.json()["revoked"] is True
    assert key_client(created["key"]).get(api(tenant_a)).status_code == 401
    assert admin.get(api(tenant_b, "api-keys/")).status_code == 404


def test_a_key_id_with_a_nul_byte_is_a_404(tenant_a):
    admin = tenant_a.client_for(tenant_a.admin)
    assert admin.get(api(tenant_a, "api-keys/%00/")).status_code == 404
    assert admin.delete(api(tenant_a, "api-keys/ab%00cd/")).status_code == 404
    assert admin.post(f"/o/{tenant_a.org.slug}/api-keys/%00/revoke/").status_code == 404


def test_member_cannot_manage_keys_through_the_api(tenant_a):
    make_key(tenant_a)
    member = tenant_a.client_for(tenant_a.member)
    assert member.get(api(tenant_a, "api-keys/")).status_code == 403
    response = member.post(
        api(tenant_a, "api-keys/"), {"name": "sneaky"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert OrganizationAPIKey.objects.for_org(tenant_a.org).count() == 1


def test_a_key_cannot_mint_or_revoke_keys(tenant_a):
    full_key = make_key(tenant_a, "write", "admin")
    client = key_client(full_key)
    assert client.get(api(tenant_a, "api-keys/")).status_code == 200
    response = client.post(
        api(tenant_a, "api-keys/"), {"name": "child"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "session" in response.json()["detail"]
    prefix = full_key.split(".")[0]
    assert client.delete(api(tenant_a, f"api-keys/{prefix}/")).status_code == 403
    assert OrganizationAPIKey.objects.for_org(tenant_a.org).get().revoked is False


# --- API key authentication -------------------------------------------------------------------


def test_valid_key_works_and_records_last_use(tenant_a):
    full_key = make_key(tenant_a, "read", "admin")
    api_key = OrganizationAPIKey.objects.for_org(tenant_a.org).get()
    assert api_key.last_used_at is None
    response = key_client(full_key).get(api(tenant_a, "members/"))
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3
    api_key.refresh_from_db()
    assert timezone.now() - api_key.last_used_at < timedelta(minutes=1)
    assert api_key.request_count == 1


def test_requests_are_counted_once_a_minute_and_shown_on_the_keys_page(tenant_a):
    full_key = make_key(tenant_a, "read", "admin")
    client = key_client(full_key)
    for _ in range(5):
        assert client.get(api(tenant_a)).status_code == 200
    api_key = OrganizationAPIKey.objects.for_org(tenant_a.org).get()
    # The first request wrote the row; the next four wait in the cache for the next minute.
    assert api_key.request_count == 1
    page = tenant_a.client_for(tenant_a.admin).get(f"/o/{tenant_a.org.slug}/api-keys/")
    row = re.search(rf'<tr id="key-{api_key.prefix}".*?</tr>', page.content.decode(), re.S)
    assert row and '<td class="num">5</td>' in row.group(0)
    OrganizationAPIKey.all_orgs.filter(pk=api_key.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=2)
    )
    assert client.get(api(tenant_a)).status_code == 200
    api_key.refresh_from_db()
    assert api_key.request_count == 6
    assert timezone.now() - api_key.last_used_at < timedelta(minutes=1)


def test_each_scope_opens_its_own_operations(tenant_a):
    """read: GETs; write: changes; billing: usage, invoices, disputes; admin: members, keys."""
    cases = {
        ("GET", ""): "read",
        ("PATCH", ""): "write",
        ("GET", "leads/"): "read",
        ("GET", "usage/"): "billing",
        ("GET", "billing/invoices/"): "billing",
        ("GET", "disputes/"): "billing",
        ("GET", "members/"): "admin",
        ("GET", "api-keys/"): "admin",
    }
    keys = {
        "read": make_key(tenant_a, "read"),
        "write": make_key(tenant_a, "write"),
        "billing": make_key(tenant_a, "read", "billing"),
        "admin": make_key(tenant_a, "read", "admin"),
    }
    for (method, path), needed in cases.items():
        for scope, full_key in keys.items():
            client = key_client(full_key)
            call = getattr(client, method.lower())
            response = call(api(tenant_a, path), {}, content_type="application/json")
            allowed = scope == needed or (needed == "read" and scope != "write")
            if scope in ("billing", "admin", "write") and needed == "read":
                allowed = True  # every key here also holds read
            assert (response.status_code < 400) is allowed, (method, path, scope, response.json())
            if not allowed:
                assert problem_of(response, 403)["code"] == "insufficient_scope"
                assert needed in response.json()["detail"]


def test_only_an_owner_gives_a_key_the_billing_scope(tenant_a):
    admin = tenant_a.client_for(tenant_a.admin)
    body = {"name": "Finance", "scopes": ["read", "billing"]}
    response = admin.post(api(tenant_a, "api-keys/"), body, content_type="application/json")
    assert "owner" in field_errors(response)["scopes"][0]
    owner = tenant_a.client_for(tenant_a.owner)
    response = owner.post(api(tenant_a, "api-keys/"), body, content_type="application/json")
    assert response.status_code == 201 and response.json()["scopes"] == ["read", "billing"]
    usage = key_client(response.json()["key"]).get(api(tenant_a, "billing/"))
    assert usage.status_code == 200  # an owner-only read, opened by the billing scope


def test_key_is_stored_hashed(tenant_a):
    full_key = make_key(tenant_a)
    prefix, secret = full_key.split(".")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM organizations_organizationapikey")
        rows = cursor.fetchall()
    stored = " ".join(str(v) for row in rows for v in row)
    assert prefix in stored
    assert secret not in stored and full_key not in stored


def test_revoked_expired_and_unknown_keys_are_refused(tenant_a):
    full_key = make_key(tenant_a)
    prefix = full_key.split(".")[0]
    api_key_revoke(organization=tenant_a.org, key_id=prefix, actor=tenant_a.admin)
    response = key_client(full_key).get(api(tenant_a))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"

    expiring, expiring_key = api_key_create(
        organization=tenant_a.org, actor=tenant_a.admin, name="short-lived"
    )
    OrganizationAPIKey.objects.for_org(tenant_a.org).filter(pk=expiring.pk).update(
        expiry_date=timezone.now() - timedelta(seconds=1)
    )
    assert key_client(expiring_key).get(api(tenant_a)).status_code == 401
    assert key_client(prefix + ".forged-secret").get(api(tenant_a)).status_code == 401
    assert key_client("").get(api(tenant_a)).status_code == 401
    assert Client().get(api(tenant_a)).status_code == 401


def test_key_of_a_is_404_on_b(tenant_a, tenant_b):
    client = key_client(make_key(tenant_a, "write"))
    for path in ("", "members/", "api-keys/"):
        assert client.get(api(tenant_b, path)).status_code == 404
    assert (
        client.patch(api(tenant_b), {"night_hour": 5}, content_type="application/json").status_code
        == 404
    )
    assert Organization.objects.get(pk=tenant_b.org.pk).night_hour == 2


def test_read_scoped_key_cannot_write(tenant_a):
    client = key_client(make_key(tenant_a, "read"))
    response = client.patch(api(tenant_a), {"night_hour": 5}, content_type="application/json")
    assert problem_of(response, 403)["code"] == "insufficient_scope"
    assert "write scope" in response.json()["detail"]
    assert client.post(api(tenant_a), {}, content_type="application/json").status_code == 403
    assert Organization.objects.get(pk=tenant_a.org.pk).night_hour == 2


def test_write_key_changes_settings_and_is_audited(tenant_a):
    client = key_client(make_key(tenant_a, "write"))
    response = client.patch(api(tenant_a), {"night_hour": 5}, content_type="application/json")
    assert response.status_code == 200
    assert Organization.objects.get(pk=tenant_a.org.pk).night_hour == 5
    event = AuditEvent.objects.for_org(tenant_a.org).get(action="organization.settings_update")
    assert event.actor is None and event.actor_label.startswith("API key ")


# --- CSRF ------------------------------------------------------------------------------------


def test_session_writes_need_the_csrf_token(tenant_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_a.admin)
    client.get(f"/o/{tenant_a.org.slug}/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    body = {"night_hour": 4}
    response = client.patch(api(tenant_a), body, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Organization.objects.get(pk=tenant_a.org.pk).night_hour == 2
    response = client.patch(
        api(tenant_a), body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert Organization.objects.get(pk=tenant_a.org.pk).night_hour == 4
    # Key-authenticated calls carry no cookie and need no token.
    keyed = Client(
        enforce_csrf_checks=True,
        headers={"Authorization": f"Api-Key {make_key(tenant_a, 'write')}"},
    )
    assert keyed.patch(api(tenant_a), body, content_type="application/json").status_code == 200


# --- schema and docs --------------------------------------------------------------------------


def test_schema_is_valid_and_documents_key_auth(client, db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/orgs/{org_slug}/members/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "Authorization"


def test_every_operation_is_described_for_callers_not_by_the_base_class(client, db):
    """The docs page shows each operation's description: views without a docstring used to
    inherit the API base class's notes for developers ("Sets `self.organization` ...")."""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    described = {
        f"{method.upper()} {path}": operation.get("description", "")
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method != "parameters"
    }
    assert [name for name, text in described.items() if not text] == []
    assert [name for name, text in described.items() if "self.organization" in text] == []


def test_docs_page_loads_its_assets_locally(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assets += re.findall(r'(?:src|href)\s*[:=]\s*"([^"]+\.(?:js|css|png))"', html)
    static = [a for a in assets if a.startswith("/static/")]
    assert any(a.endswith("swagger-ui-bundle.js") for a in static), assets
    assert any(a.endswith("swagger-ui.css") for a in static), assets
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in static:
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not served locally"


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_schema_and_docs_reveal_no_tenant_data(path, client, tenant_a):
    assert "alpha" not in client.get(path).content.decode().lower()


# --- members and invitations through the API --------------------------------------------------


def test_owner_invites_lists_and_revokes_through_the_api(
    tenant_a, tenant_b, mailoutbox, django_capture_on_commit_callbacks
):
    owner = tenant_a.client_for(tenant_a.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            api(tenant_a, "invitations/"),
            {"email": "api@example.com", "role": "admin"},
            content_type="application/json",
        )
    assert response.status_code == 201
    created = response.json()
    assert created["email"] == "api@example.com" and "token" not in created
    assert mailoutbox[0].to == ["api@example.com"]
    listed = owner.get(api(tenant_a, "invitations/")).json()["results"]
    assert [i["id"] for i in listed] == [created["id"]]

    response = owner.post(
        api(tenant_a, "invitations/"),
        {"email": "member@alpha.example"},
        content_type="application/json",
    )
    assert "already a member" in field_errors(response)["email"][0]

    response = owner.delete(api(tenant_a, f"invitations/{created['id']}/"))
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert owner.get(api(tenant_a, "invitations/")).json()["results"] == []
    assert (
        tenant_b.client_for(tenant_b.owner).get(api(tenant_b, "invitations/")).json()["results"]
        == []
    )


def test_owner_changes_roles_through_the_api_admins_and_keys_cannot(tenant_a):
    from organizations.models import Membership

    member = Membership.objects.for_org(tenant_a.org).get(user=tenant_a.member)
    own = Membership.objects.for_org(tenant_a.org).get(user=tenant_a.owner)
    path = api(tenant_a, f"members/{member.pk}/")
    body = {"role": "admin"}
    admin = tenant_a.client_for(tenant_a.admin)
    assert admin.get(path).json()["email"] == "member@alpha.example"
    assert admin.patch(path, body, content_type="application/json").status_code == 403
    keyed = key_client(make_key(tenant_a, "write", "admin"))
    response = keyed.patch(path, body, content_type="application/json")
    assert response.status_code == 403
    assert "owner's session" in response.json()["detail"]
    assert keyed.delete(path).status_code == 403

    owner = tenant_a.client_for(tenant_a.owner)
    response = owner.patch(path, body, content_type="application/json")
    assert response.status_code == 200 and response.json()["role"] == "admin"
    response = owner.patch(
        api(tenant_a, f"members/{own.pk}/"), {"role": "member"}, content_type="application/json"
    )
    assert "at least one owner" in field_errors(response)[""][0]
    assert owner.delete(path).status_code == 204
    assert not Membership.objects.for_org(tenant_a.org).filter(pk=member.pk).exists()
    assert owner.get(path).status_code == 404


@pytest.mark.parametrize("n_members", [2, 25])
def test_key_requests_and_lists_take_a_fixed_number_of_queries(
    tenant_a, tenant_b, n_members, django_assert_max_num_queries
):
    for n in range(n_members):
        _inv, token = invitation_create(
            organization=tenant_a.org, invited_by=tenant_a.owner, email=f"q{n}@alpha.example"
        )
        invitation_accept_new_user(token=token, password="a long enough pass phrase")
    client = key_client(make_key(tenant_a, "read", "admin"))
    client.get(api(tenant_a))  # first use records last_used_at
    with django_assert_max_num_queries(1):  # the key and its organisation, in one query
        assert client.get(api(tenant_a)).status_code == 200
    with django_assert_max_num_queries(2):
        response = client.get(api(tenant_a, "members/"))
    assert len(response.json()["results"]) == n_members + 3
    with django_assert_max_num_queries(2):
        assert len(client.get(api(tenant_a, "api-keys/")).json()["results"]) == 1
