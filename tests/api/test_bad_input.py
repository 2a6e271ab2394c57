"""Hostile input to the API answers 4xx in the API's JSON error shape, never a 500 or an HTML page.

What a caller would notice: a tampered pagination cursor, a lone surrogate ("\\ud800" in a JSON
string, which no database can store), JSON nested 1,000 levels deep and a body over the upload
limit each answer with a JSON body that says what is wrong, like every other error of the API.

The cursor test walks the URL conf: every GET route under /api/v1/orgs/<slug>/ that answers a page
is a list, so a list added later is walked too, whatever base class it uses.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver
from drf_spectacular.generators import SchemaGenerator

from organizations.services import api_key_create
from segments.services import segment_create
from tests.api.problems import field_errors, problem_of
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# Each is a cursor no page ever links to: not base64, not ASCII, a negative offset, a direction
# that is not 0/1, positions that are not an id or an aware time stamp of the list's ordering.
TAMPERED_CURSORS = {
    "not base64": "!!!",
    "not ascii": "é",
    "bytes not ascii": _b64(b"\xff\xfe"),
    "negative offset": _b64(b"o=-1"),
    "direction not 0 or 1": _b64(b"r=x"),
    "position a word": _b64(b"p=abc"),
    "position a float": _b64(b"p=1e5"),
    "position NUL": _b64(b"p=%00"),
    "position bad date": _b64(b"p=2024-13-01"),
    "position naive time": _b64(b"p=2024-01-01+00%3A00%3A00"),
}


def _org_get_routes(ids: dict[str, int]) -> list[str]:
    """Every route under /api/v1/orgs/<slug>/ without a parameter of its own, and those whose
    parameters `ids` fills with one of the organisation's own objects (a list nested under an
    object, such as a webhook endpoint's deliveries)."""
    from leadpilot.urls import api_org_patterns

    def walk(patterns: list, prefix: str):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                for name, value in ids.items():
                    route = re.sub(rf"<(?:\w+:)?{name}>", str(value), route)
                if "<" not in route:
                    yield route

    return sorted(set(walk(api_org_patterns, "")))


def _schema_list_routes(ids: dict[str, int]) -> set[str]:
    """Routes whose GET documents the cursor parameter, as the OpenAPI schema says."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    prefix = "/api/v1/orgs/{org_slug}/"
    routes = set()
    for path, item in schema["paths"].items():
        if "get" in item and any(p["name"] == "cursor" for p in item["get"].get("parameters", [])):
            route = path.removeprefix(prefix)
            for name, value in ids.items():
                route = route.replace("{" + name + "}", str(value))
            routes.add(route)
    return routes


def _is_page(response) -> bool:
    if response.status_code != 200 or response["Content-Type"] != "application/json":
        return False
    body = response.json()
    return isinstance(body, dict) and {"next", "previous", "results"} <= set(body)


def _list_routes(client: Client, slug: str, ids: dict[str, int]) -> list[str]:
    return [
        route
        for route in _org_get_routes(ids)
        if _is_page(client.get(f"/api/v1/orgs/{slug}/{route}"))
    ]


def _nested_ids(tenant) -> dict[str, int]:
    """One object of the organisation for each list nested under an object."""
    endpoint = endpoint_create(
        organization=tenant.org, url="http://127.0.0.1:9/alpha-hooks", events=["lead.created"]
    )
    return {"webhook_id": endpoint.pk}


def _cursor_problems(client: Client, slug: str, routes: list[str]) -> list[str]:
    problems = []
    for route in routes:
        for name, cursor in TAMPERED_CURSORS.items():
            response = client.get(f"/api/v1/orgs/{slug}/{route}", {"cursor": cursor})
            errors: dict[str, list[str]] = {}
            if response["Content-Type"] == "application/problem+json":
                for error in response.json().get("errors", []):
                    errors.setdefault(error.get("field"), []).append(error.get("message"))
            ok = (
                response.status_code == 400
                and list(errors) == ["cursor"]
                and all(isinstance(m, str) and m for m in errors["cursor"])
            )
            shape = errors or response["Content-Type"]
            if not ok:
                problems.append(f"{route} {name}: {response.status_code} {str(shape)[:120]}")
    return problems


def test_every_list_endpoint_answers_a_tampered_cursor_with_a_400_naming_the_cursor(
    tenant_a, tenant_b
):
    owner = Client(raise_request_exception=False)
    owner.force_login(tenant_a.owner)
    ids = _nested_ids(tenant_a)
    routes = _list_routes(owner, tenant_a.org.slug, ids)
    # The walk finds the lists there are today (so it cannot pass by finding none) and the schema
    # documents a cursor on exactly those.
    assert {
        "members/",
        "invitations/",
        "api-keys/",
        "segments/",
        "leads/",
        "runs/",
        "block-entries/",
        f"webhooks/{ids['webhook_id']}/deliveries/",
    } <= set(routes)
    assert set(routes) == _schema_list_routes(ids)

    assert _cursor_problems(owner, tenant_a.org.slug, routes) == []

    # A read-only key meets the same answer on every list it may read.
    _key, full = api_key_create(
        organization=tenant_a.org, actor=tenant_a.admin, name="reader", scope="read"
    )
    reader = Client(raise_request_exception=False, headers={"Authorization": f"Api-Key {full}"})
    readable = [r for r in routes if reader.get(f"/api/v1/orgs/alpha/{r}").status_code == 200]
    # Members, invitations, keys and webhooks need the admin scope; the customer's data lists do not.
    assert {"segments/", "leads/", "runs/", "block-entries/", "uploads/"} <= set(readable)
    assert _cursor_problems(reader, tenant_a.org.slug, readable) == []


def test_the_cursors_a_page_links_to_still_work(tenant_a, tenant_b):
    for i in range(3):
        segment_create(organization=tenant_a.org, name=f"S{i}", criteria={}, created_by=None)
    for name in ("k1", "k2"):
        api_key_create(organization=tenant_a.org, actor=tenant_a.admin, name=name)
    owner = tenant_a.client_for(tenant_a.owner)
    for route in ("segments/", "api-keys/", "members/"):
        first = owner.get(f"/api/v1/orgs/alpha/{route}", {"page_size": 1}).json()
        second = owner.get(first["next"]).json()
        assert second["results"] and second["results"] != first["results"]
        back = owner.get(second["previous"]).json()
        assert back["results"] == first["results"]


# --- lone surrogates ---------------------------------------------------------------------------

SURROGATE = '"\\ud800"'  # a JSON escape that decodes to a lone surrogate, not to text
IN_WORD = '"ab\\ud800cd"'


def _post_raw(client: Client, path: str, body: str, method: str = "post"):
    return getattr(client, method)(path, body.encode("ascii"), content_type="application/json")


@pytest.mark.parametrize(
    ("method", "route"),
    [("post", "segments/"), ("post", "segments/preview/"), ("patch", "segments/{id}/")],
)
@pytest.mark.parametrize("criterion", ["regions", "name_keywords", "municipalities"])
def test_a_lone_surrogate_in_segment_criteria_is_a_400_naming_the_criterion(
    tenant_a, tenant_b, method, route, criterion
):
    segment = segment_create(
        organization=tenant_a.org, name="Existing", criteria={}, created_by=None
    )
    client = Client(raise_request_exception=False)
    client.force_login(tenant_a.admin)
    body = f'{{"name": "New", "criteria": {{"{criterion}": ["ab", {IN_WORD}]}}}}'
    response = _post_raw(
        client, f"/api/v1/orgs/alpha/{route.format(id=segment.pk)}", body, method=method
    )
    errors = field_errors(response)
    assert list(errors) == [f"criteria.{criterion}"]
    assert "U+D800" in errors[f"criteria.{criterion}"][0]


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        # A choice field echoes the value it refuses: the echo could not be encoded.
        ("segments/", f'{{"name": "x", "delivery_mode": {SURROGATE}}}', "delivery_mode"),
        ("block-entries/", f'{{"kind": {SURROGATE}, "value": "x"}}', "kind"),
        ("leads/bulk/", f'{{"action": {SURROGATE}, "lead_ids": [1]}}', "action"),
        # An unknown criterion is named in the answer: a surrogate key could not be.
        ("segments/preview/", f'{{"criteria": {{{SURROGATE}: 1}}}}', "criteria"),
        ("", f'{{"working_days": [1], "delivery_mode": {SURROGATE}}}', "delivery_mode"),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_json_body_is_a_400_naming_the_field(
    tenant_a, tenant_b, route, body, field
):
    client = Client(raise_request_exception=False)
    client.force_login(tenant_a.owner)
    method = "patch" if route == "" else "post"
    response = _post_raw(client, f"/api/v1/orgs/alpha/{route}", body, method=method)
    assert list(field_errors(response)) == [field]


# --- deeply nested JSON ------------------------------------------------------------------------

DEEP = "[" * 1000 + "]" * 1000  # 2 KB


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("post", "segments/", DEEP),
        ("post", "segments/preview/", f'{{"criteria": {{"regions": {DEEP}}}}}'),
        ("post", "block-entries/", DEEP),
        ("post", "leads/bulk/", f'{{"lead_ids": {DEEP}}}'),
        ("patch", "", f'{{"working_days": {DEEP}}}'),
        # Deep enough to be refused, shallow enough for Python's parser: the limit, not luck.
        ("post", "segments/preview/", f'{{"criteria": {{"regions": {"[" * 40 + "]" * 40}}}}}'),
    ],
)
def test_json_nested_too_deeply_is_a_400(tenant_a, tenant_b, method, route, body):
    client = Client(raise_request_exception=False)
    client.force_login(tenant_a.owner)
    response = _post_raw(client, f"/api/v1/orgs/alpha/{route}", body, method=method)
    assert "nested too deeply" in problem_of(response, 400)["detail"]


def test_json_as_deep_as_real_criteria_is_accepted(tenant_a, tenant_b):
    client = tenant_a.client_for(tenant_a.admin)
    response = client.post(
        "/api/v1/orgs/alpha/segments/preview/",
        {"criteria": {"countries": ["GB"], "roles": ["ceo"]}},
        content_type="application/json",
    )
    assert response.status_code == 200


# --- bodies over the upload limit --------------------------------------------------------------


def test_a_json_body_over_the_upload_limit_is_a_413_in_json(tenant_a, tenant_b, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = Client(raise_request_exception=False)
    client.force_login(tenant_a.admin)
    response = client.post(
        "/api/v1/orgs/alpha/segments/",
        json.dumps({"name": "x" * 2000}),
        content_type="application/json",
    )
    assert "1024 bytes" in problem_of(response, 413)["detail"]


def test_a_form_over_the_upload_limits_is_answered_in_json(tenant_a, tenant_b, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    client = Client(raise_request_exception=False)
    client.force_login(tenant_a.admin)
    url = "/api/v1/orgs/alpha/block-entries/import/"

    response = client.post(url, {"note": "x" * 2000})  # multipart, a field over the limit
    assert problem_of(response, 413)["code"] == "request_too_large"

    many = "&".join(f"f{i}=1" for i in range(20))
    response = client.post(url, many, content_type="application/x-www-form-urlencoded")
    assert "fields" in problem_of(response, 400)["detail"]
