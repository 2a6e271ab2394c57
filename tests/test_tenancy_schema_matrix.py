"""The cross-organisation matrix, built from the OpenAPI schema (beside the URL-resolver matrix of
tests/test_tenancy_matrix.py, which walks the URL conf).

What an integration of organisation A notices, for every operation the published schema lists:
1. with A's slug and organisation B's ids in the path it answers 404 (a problem), never B's data,
   as A's owner session and as A's key holding every scope;
2. A's lists (every GET operation without an id in its path that answers a page of `results`)
   never hold one of B's rows, whose ids and slug are known.

Ids come from tests/tenancy_registry.py (tests/<app>/tenancy_objects.py): an operation whose
path parameter is not registered fails with the fix. No row of B changes.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from organizations.models import APIKeyScope
from organizations.services import api_key_create
from tests.tenancy_registry import load_registrations

pytestmark = pytest.mark.django_db

ORG = "{org_slug}"


def _operations() -> list[tuple[str, str, dict]]:
    schema = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))
    return [
        (path, method.upper(), operation)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/orgs/")
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


OPERATIONS = _operations()


def _params(path: str) -> list[str]:
    return [p.split("}")[0] for p in path.split("{")[1:] if p.split("}")[0] != "org_slug"]


def _principals(tenant) -> dict[str, Client]:
    _key, full = api_key_create(
        organization=tenant.org,
        actor=tenant.owner,
        name="matrix (all scopes)",
        scopes=list(APIKeyScope.values),
    )
    owner = Client(raise_request_exception=False)
    owner.force_login(tenant.owner)
    keyed = Client(headers={"Authorization": f"Api-Key {full}"}, raise_request_exception=False)
    return {"owner session": owner, "key (every scope)": keyed}


def _call(client: Client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, "{}", content_type="application/json")


def test_the_schema_lists_the_apis_operations():
    # Cannot pass by finding nothing: the id operations of today are there.
    ids = {f"{m} {p}" for p, m, _op in OPERATIONS if _params(p)}
    assert "GET /api/v1/orgs/{org_slug}/leads/{lead_id}/" in ids
    assert "POST /api/v1/orgs/{org_slug}/leads/{lead_id}/contacted/" in ids
    assert "GET /api/v1/orgs/{org_slug}/disputes/{dispute_id}/" in ids


@pytest.mark.parametrize(
    ("path", "method"),
    [(p, m) for p, m, _op in OPERATIONS if _params(p)],
    ids=[f"{m} {p}" for p, m, _op in OPERATIONS if _params(p)],
)
def test_every_operation_with_bs_ids_answers_404(path, method, tenant_a, tenant_b):
    registry = load_registrations()
    missing = [name for name in _params(path) if name not in registry]
    assert not missing, (
        f"{method} {path}: register how to create a {missing} of a tenant in "
        f"tests/<app>/tenancy_objects.py (see tests/tenancy_registry.py)."
    )
    url = nowhere = path.replace(ORG, tenant_a.org.slug)
    for name in _params(path):
        factory = registry[name]
        value = factory.url_value(factory.make(tenant_b))
        url = url.replace("{" + name + "}", str(value))
        nowhere = nowhere.replace("{" + name + "}", "987654321")
    for principal, client in _principals(tenant_a).items():
        response = _call(client, method, url)
        assert response["Content-Type"] == "application/problem+json"
        assert tenant_b.org.slug not in response.content.decode().lower()
        if response.status_code == 404:
            continue
        # Refused before the lookup (an owner's session only, no key): then the answer must be
        # the very one an id that exists nowhere gets, telling nothing about B's object.
        assert principal != "owner session", (response.status_code, response.content)
        missing_answer = _call(client, method, nowhere)
        assert (response.status_code, response.content) == (
            missing_answer.status_code,
            missing_answer.content,
        ), principal


def _list_operations() -> list[str]:
    out = []
    for path, method, operation in OPERATIONS:
        if method != "GET" or _params(path):
            continue
        content = operation["responses"].get("200", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if "$ref" in schema and "Paginated" in schema["$ref"]:
            out.append(path)
    return out


LISTS = _list_operations()


def test_bs_rows_are_never_in_as_lists(tenant_a, tenant_b):
    # B gets one of every registered object; the factories put B's slug in a visible field.
    for factory in load_registrations().values():
        if not factory.is_param:
            factory.make(tenant_b)
    assert {"/api/v1/orgs/{org_slug}/leads/", "/api/v1/orgs/{org_slug}/disputes/"} <= set(LISTS)
    for principal, client in _principals(tenant_a).items():
        for path in LISTS:
            response = client.get(path.replace(ORG, tenant_a.org.slug) + "?page_size=500")
            if principal != "owner session" and response.status_code == 403:
                continue  # an owner's session only (invitations): the session row covers it
            assert response.status_code == 200, (principal, path, response.content[:300])
            rows = response.json()["results"]
            assert tenant_b.org.slug not in json.dumps(rows).lower(), (principal, path)
