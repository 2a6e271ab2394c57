"""The tenancy matrix: nobody from organisation A reaches anything of organisation B.

Every URL pattern under /o/<org_slug>/ and /api/v1/orgs/<org_slug>/ is found by walking the
resolver, so endpoints added later are covered without touching this file. For each pattern, each
method (GET, POST, PUT, PATCH, DELETE) and each principal of A (member, admin and owner sessions;
a write-scoped API key on API routes):

1. B's slug with B's object ids answers 404 (the organisation check comes first).
2. A's slug with B's object ids answers 404 -- or, when the view refuses before looking at the
   object (role 403, method 405), the very same status as for an id that does not exist at all,
   so the answer tells nothing about B. At least one principal/method must reach the object
   lookup and get a real 404, proving the lookup itself is scoped.
3. Anonymous requests never succeed.
4. No row of B is created or deleted by any of it.

Object ids come from tests/tenancy_registry.py; an unregistered kwarg fails the test with
instructions. List pages and list endpoints are checked separately: A's lists never show B's rows.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.resolvers import RoutePattern

from organizations.models import APIKeyScope
from organizations.services import api_key_create
from organizations.tenancy import TenantModel
from tests.tenancy_registry import load_registrations

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ORG_KWARG = "org_slug"
# Kwargs that select a representation, not an object (DRF's format suffixes), with their value.
REPRESENTATION_KWARGS = {"format": "json"}
ROOTS = {"o/<slug:org_slug>/": "dashboard", "api/v1/orgs/<slug:org_slug>/": "api"}
_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass
class OrgRoute:
    route: str  # e.g. "o/<slug:org_slug>/api-keys/<str:key_id>/revoke/"
    kind: str  # "dashboard" or "api"
    name: str | None
    converters: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # set when the pattern cannot be exercised

    @property
    def kwargs(self) -> list[str]:
        """Every kwarg the URL needs besides the organisation."""
        names = [m.group("name") for m in _PARAM.finditer(self.route)]
        return [n for n in names if n != ORG_KWARG and n not in REPRESENTATION_KWARGS]

    def object_kwargs(self, registry: dict) -> list[str]:
        """The kwargs that point at objects (not registered as plain params)."""
        return [n for n in self.kwargs if not (n in registry and registry[n].is_param)]

    def url(self, **values: Any) -> str:
        def sub(match: re.Match[str]) -> str:
            name = match.group("name")
            converter = self.converters.get(name)
            value = values[name] if name in values else REPRESENTATION_KWARGS[name]
            return converter.to_url(value) if converter is not None else str(value)

        path = _PARAM.sub(sub, self.route)
        return "/" + path

    def missing_value(self, kwarg: str) -> Any:
        converter = self.converters.get(kwarg)
        if isinstance(converter, IntConverter):
            return 2_147_483_000
        if isinstance(converter, UUIDConverter):
            return uuid.UUID(int=0)
        return "no-such-object-0"


def _walk(patterns: list, prefix: str, converters: dict, name_prefix: str) -> list[OrgRoute]:
    found: list[OrgRoute] = []
    for entry in patterns:
        pattern = entry.pattern
        if isinstance(pattern, RoutePattern):
            part, problem = str(pattern), None
        else:
            part, problem = str(pattern), "uses a regex (re_path); use path() so it can be tested"
        route = prefix + part
        merged = {**converters, **getattr(pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            ns = f"{name_prefix}{entry.namespace}:" if entry.namespace else name_prefix
            for sub in _walk(entry.url_patterns, route, merged, ns):
                if problem and not sub.problem:
                    sub.problem = problem
                found.append(sub)
        elif isinstance(entry, URLPattern):
            name = f"{name_prefix}{entry.name}" if entry.name else None
            found.append(
                OrgRoute(route=route, kind="", name=name, converters=merged, problem=problem)
            )
    return found


def collect_org_routes() -> list[OrgRoute]:
    """Every URL pattern mounted under an organisation root, found by walking the resolver."""
    routes = []
    for route in _walk(get_resolver().url_patterns, "", {}, ""):
        for root, kind in ROOTS.items():
            if route.route.startswith(root):
                route.kind = kind
                routes.append(route)
    # DRF format-suffix variants duplicate a route with `.<format>`; test each route once.
    seen: dict[str, OrgRoute] = {}
    for route in routes:
        seen.setdefault(route.route, route)
    return list(seen.values())


ROUTES = collect_org_routes()


@dataclass
class Principal:
    label: str
    client: Client


def _principals(tenant, kind: str) -> list[Principal]:
    principals = [
        Principal(f"{role} session", tenant.client_for(getattr(tenant, role)))
        for role in ("member", "admin", "owner")
    ]
    if kind == "api":
        _key, full_key = api_key_create(
            organization=tenant.org, actor=tenant.admin, name="matrix", scope=APIKeyScope.WRITE
        )
        principals.append(
            Principal("write API key", Client(headers={"Authorization": f"Api-Key {full_key}"}))
        )
    return principals


def _send(client: Client, method: str, url: str) -> int | str:
    """The status code, or a description of the exception the view raised (so one crashing
    endpoint is reported with its URL and method, next to everything else that failed)."""
    try:
        response = client.generic(method, url, data="{}", content_type="application/json")
    except Exception as exc:
        return f"exception {exc.__class__.__name__}: {exc}"
    return response.status_code


def _tenant_row_counts(organization) -> dict[str, int]:
    counts = {}
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            counts[model._meta.label] = model.all_orgs.filter(organization=organization).count()
    return counts


def test_walker_finds_the_organisation_routes():
    names = {r.name for r in ROUTES}
    assert {"org-home", "org-settings", "org-members", "org-api-keys"} <= names
    assert "org-api-key-revoke" in names
    assert any(r.kind == "api" for r in ROUTES), "no API routes found under /api/v1/orgs/<slug>/"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.kind}:{r.route}")
def test_foreign_objects_answer_404(route: OrgRoute, tenant_a, tenant_b):
    assert route.problem is None, f"/{route.route}: {route.problem}"
    registry = load_registrations()
    unregistered = [k for k in route.kwargs if k not in registry]
    if unregistered:
        pytest.fail(
            f"/{route.route} takes {', '.join(unregistered)}, which the tenancy matrix cannot "
            f"fill. Register a factory for each with @register_object({unregistered[0]!r}) in a "
            f"tests/<app>/tenancy_objects.py (see tests/tenancy_registry.py and docs/tenancy.md)."
        )
    object_kwargs = route.object_kwargs(registry)
    b_values = {k: registry[k].url_value(registry[k].make(tenant_b)) for k in route.kwargs}
    missing_values = {
        k: route.missing_value(k) if k in object_kwargs else b_values[k] for k in route.kwargs
    }
    b_counts_before = _tenant_row_counts(tenant_b.org)

    failures: list[str] = []
    reached_lookup = False
    for principal in _principals(tenant_a, route.kind):
        for method in METHODS:
            url = route.url(org_slug=tenant_b.org.slug, **b_values)
            status = _send(principal.client, method, url)
            if status != 404:
                failures.append(f"{method} {url} as A's {principal.label}: {status}, expected 404")
            if not object_kwargs:
                continue
            url = route.url(org_slug=tenant_a.org.slug, **b_values)
            status = _send(principal.client, method, url)
            if status == 404:
                reached_lookup = True
                continue
            missing_url = route.url(org_slug=tenant_a.org.slug, **missing_values)
            missing_status = _send(principal.client, method, missing_url)
            if status not in (403, 405) or status != missing_status:
                failures.append(
                    f"{method} {url} (B's object under A's slug) as A's {principal.label}: "
                    f"{status}, expected 404 (a missing id answers {missing_status})"
                )

    anonymous = Client()
    for method in METHODS:
        url = route.url(org_slug=tenant_b.org.slug, **b_values)
        status = _send(anonymous, method, url)
        if status not in (302, 401, 403):
            failures.append(f"{method} {url} anonymously: {status}, expected 302/401/403")

    if object_kwargs and not reached_lookup:
        failures.append(
            f"/{route.route}: no principal of A ever got 404 for B's object under A's slug; "
            f"every request was refused before the object lookup, so its scoping is untested"
        )
    assert _tenant_row_counts(tenant_b.org) == b_counts_before, "B's rows changed"
    assert not failures, "\n".join(failures)


def _list_routes() -> list[OrgRoute]:
    registry = load_registrations()
    return [
        r
        for r in ROUTES
        if r.problem is None and all(k in registry and registry[k].is_param for k in r.kwargs)
    ]


@pytest.mark.parametrize("route", _list_routes(), ids=lambda r: f"{r.kind}:{r.route}")
def test_pages_and_lists_never_show_other_orgs_rows(route: OrgRoute, tenant_a, tenant_b):
    """Every page/endpoint without an object id, read by A, shows nothing of B's (whose objects
    carry B's slug in a visible field, see tests/tenancy_registry.py)."""
    registry = load_registrations()
    secrets_of_b = {tenant_b.org.slug, tenant_b.org.name}
    params = {}
    for factory in registry.values():
        value = factory.url_value(factory.make(tenant_b))
        if factory.is_param:
            params[factory.kwarg] = value
        elif isinstance(value, str) and len(value) >= 6:
            secrets_of_b.add(value)
    url = route.url(org_slug=tenant_a.org.slug, **{k: params[k] for k in route.kwargs})
    for principal in _principals(tenant_a, route.kind)[1:]:  # admin, owner (and API key)
        response = principal.client.get(url)
        if response.status_code != 200:
            continue
        body = response.content.decode(errors="replace").lower()
        leaked = sorted(s for s in secrets_of_b if s.lower() in body)
        assert not leaked, f"GET {url} as A's {principal.label} shows B's {leaked}"


def test_walker_builds_urls_and_flags_regex_routes():
    from django.http import HttpResponse
    from django.urls import include, path, re_path

    def view(request, **kwargs):
        return HttpResponse()

    patterns = [
        path(
            "o/<slug:org_slug>/",
            include(
                [
                    path("cal/<int:year>/<str:key_id>/", view, name="cal"),
                    re_path(r"^old/(?P<thing_id>\d+)/$", view, name="old"),
                ]
            ),
        )
    ]
    cal, old = _walk(patterns, "", {}, "")
    assert cal.kwargs == ["year", "key_id"]
    assert cal.url(org_slug="alpha", year=2026, key_id="Ab12") == "/o/alpha/cal/2026/Ab12/"
    assert cal.missing_value("year") == 2_147_483_000
    assert cal.problem is None
    assert old.problem and "re_path" in old.problem
