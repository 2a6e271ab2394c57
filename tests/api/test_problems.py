"""Every error of the API answers in one shape: RFC 9457 problem details.

What an integration notices: whatever went wrong (no key, a foreign object, a wrong method, an
Accept it cannot have, a content type it does not read, too many requests, an unknown URL, a crash)
the answer is application/problem+json with type, title, status and detail, and invalid input names
each field in `errors`; the OpenAPI schema documents those answers on every operation.
"""

from __future__ import annotations

import json

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import include, path
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

from organizations.services import api_key_create
from tests.api.problems import field_errors, problem_of

pytestmark = pytest.mark.django_db


def _boom(request: HttpRequest):
    raise RuntimeError("an unexpected failure")


urlpatterns = [path("api/boom/", _boom), path("", include("leadpilot.urls"))]


def _key(tenant, scope="write") -> Client:
    _api_key, full = api_key_create(
        organization=tenant.org, actor=tenant.admin, name="k", scope=scope
    )
    return Client(headers={"Authorization": f"Api-Key {full}"}, raise_request_exception=False)


def test_each_kind_of_error_answers_a_problem(tenant_a, tenant_b, settings):
    base = f"/api/v1/orgs/{tenant_a.org.slug}/"
    anonymous = Client(raise_request_exception=False)
    body = problem_of(anonymous.get(base + "leads/"), 401)
    assert body["code"] == "not_authenticated"

    bad_key = Client(headers={"Authorization": "Api-Key nope.nope"})
    assert problem_of(bad_key.get(base + "leads/"), 401)["code"] == "authentication_failed"

    read_only = _key(tenant_a, "read")
    body = problem_of(read_only.post(base + "segments/", {"name": "x"}), 403)
    assert body["code"] == "insufficient_scope" and "write" in body["detail"]

    keyed = _key(tenant_a)
    foreign = problem_of(keyed.get(f"/api/v1/orgs/{tenant_b.org.slug}/leads/"), 404)
    missing = problem_of(keyed.get(base + "segments/999999/"), 404)
    assert foreign["detail"] == missing["detail"]  # a foreign object reads like a missing one

    assert problem_of(keyed.put(base + "segments/"), 405)["code"] == "method_not_allowed"
    assert problem_of(keyed.get(base + "leads/", HTTP_ACCEPT="text/html"), 406)
    response = keyed.post(base + "segments/", "name=x", content_type="text/plain")
    assert problem_of(response, 415)["code"] == "unsupported_media_type"

    errors = field_errors(keyed.post(base + "segments/", {}, content_type="application/json"))
    assert "name" in errors

    settings.LEADPILOT_API_RATES = {"api_key": "1/min"}
    fresh = _key(tenant_a)
    fresh.get(base)
    response = fresh.get(base)
    assert problem_of(response, 429)["code"] == "throttled" and response["Retry-After"]


def test_django_own_404_and_500_under_api_are_problems(tenant_a, settings):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    assert problem_of(client.get("/api/v1/nothing-here/"), 404)["code"] == "not_found"
    body = problem_of(client.get("/api/boom/"), 500)
    assert "unexpected failure" not in json.dumps(body)  # no internals leak
    # Pages outside the API keep their HTML error pages.
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_titles_follow_the_request_language(tenant_a):
    client = Client(raise_request_exception=False, headers={"Accept-Language": "sv"})
    english = problem_of(Client().get(f"/api/v1/orgs/{tenant_a.org.slug}/leads/"), 401)
    swedish = problem_of(client.get(f"/api/v1/orgs/{tenant_a.org.slug}/leads/"), 401)
    # The same shape and code in every language; the words are the catalogue's.
    assert swedish["code"] == english["code"] and swedish["type"] == english["type"]


def test_the_schema_documents_problem_answers_on_every_operation():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "Problem" in schema["components"]["schemas"]
    missing = []
    for route, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            responses = operation["responses"]
            for code in ("400", "401", "403", "404", "429"):
                content = responses.get(code, {}).get("content", {})
                if "application/problem+json" not in content:
                    missing.append(f"{method.upper()} {route} {code}")
            if method != "get" and "422" not in responses:
                missing.append(f"{method.upper()} {route} 422")
            for code, response in responses.items():
                if int(code) >= 400 and set(response.get("content", {})) != {
                    "application/problem+json"
                }:
                    missing.append(f"{method.upper()} {route} {code} not a problem")
    assert missing == []


def test_the_schema_names_each_operations_key_scope_and_the_path_shape():
    with translation.override("en-gb"):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    # Markdown shows `<slug>` in backticks; bare, it was read as an HTML tag ("/api/v1/orgs//.").
    assert "`/api/v1/orgs/<slug>/…`" in schema["info"]["description"]
    scopes = {}
    for route, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                scopes[f"{method.upper()} {route}"] = operation["x-api-key-scope"]
                assert "API key" in operation["description"], route
    assert scopes["GET /api/v1/orgs/{org_slug}/leads/"] == "read"
    assert scopes["POST /api/v1/orgs/{org_slug}/leads/{lead_id}/contacted/"] == "write"
    assert scopes["GET /api/v1/orgs/{org_slug}/billing/invoices/"] == "billing"
    assert scopes["GET /api/v1/orgs/{org_slug}/members/"] == "admin"
