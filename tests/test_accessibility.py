"""axe-core (npm, pinned in package.json; `make test` runs `npm ci`) in Debian's chromium on every
page a person can open with a GET: the public pages and every dashboard page, at 1280 and 390 px.
No serious or critical violation may remain.

The pages are found by walking the URL patterns, so a page added later is checked without
editing this file: every pattern without parameters (besides the organisation's slug), plus the
detail pages of a lead, a segment and a nightly run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from playwright.sync_api import Error as PlaywrightError

from tests.leads.conftest import night, prefix, sandbox  # noqa: F401 - fixtures
from tests.organizations.test_browser import (
    CHROMIUM,
    browser_login,
    page,  # noqa: F401 - the chromium page fixture
)

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and AXE.exists()) and not os.environ.get("CI"),
        reason="chromium or node_modules/axe-core missing (make test installs both)",
    ),
]

# Not pages: machine endpoints, downloads, redirects, POST-only actions and the admin.
SKIP_PREFIXES = ("/api/", "/admin/", "/healthz", "/favicon.ico", "/calendar-feeds/", "/static/")
SKIP_SUFFIXES = (".csv", ".ics", "/logout/")
VIEWPORTS = ({"width": 1280, "height": 900}, {"width": 390, "height": 844})


def _routes(patterns, base: str = "") -> list[str]:
    out: list[str] = []
    for p in patterns:
        route = base + str(p.pattern)
        if isinstance(p, URLResolver):
            out += _routes(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            out.append(route)
    return out


def page_paths(slug: str) -> list[str]:
    """Every parameterless GET route, the organisation's slug filled in."""
    paths = []
    for route in _routes(get_resolver().url_patterns):
        route = route.replace("<slug:org_slug>", slug)
        if "<" in route or "^" in route or "(" in route:
            continue
        path = "/" + route
        if path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
            continue
        paths.append(path)
    return sorted(set(paths))


def axe_problems(page) -> list[str]:  # noqa: F811
    """Serious and critical violations of the page as shown, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated over the DevTools protocol, not as a <script>: the page's CSP allows no
        # inline script, and axe is a test tool, not an asset the app serves.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(
            " ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
            for n in v["nodes"][:4]
        )
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def _check(page, paths) -> dict[str, list[str]]:  # noqa: F811
    found: dict[str, list[str]] = {}
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        for path in paths:
            try:
                response = page.goto(path)
            except PlaywrightError:  # a POST-only route answers 405 with no page at all
                continue
            if response is None or response.status != 200:
                continue
            if "text/html" not in (response.headers.get("content-type") or ""):
                continue
            problems = axe_problems(page)
            if problems:
                found[f"{path} @{viewport['width']}px"] = problems
    return found


@pytest.fixture
def dashboard(night, tenant_a, tenant_b):  # noqa: F811
    """A dashboard with something on every page: leads in the queue and on the calendar, a run,
    a segment (written before the browser starts, see the page fixture)."""
    from leads.models import Lead
    from leads.services import leads_approve

    _world, segment, run = night(tenant_a, size=4)
    night(tenant_b, size=1)
    lead = Lead.objects.for_org(tenant_a.org).order_by("id").first()
    leads_approve(organization=tenant_a.org, lead_ids=[lead.id], approved_by=None)
    return {"segment": segment, "run": run, "lead": lead}


def test_public_pages_have_no_serious_accessibility_violation(db, page):  # noqa: F811
    paths = [p for p in page_paths("alpha") if not p.startswith("/o/")]
    assert "/accounts/login/" in paths
    problems = _check(page, paths)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_dashboard_pages_have_no_serious_accessibility_violation(tenant_a, dashboard, page):  # noqa: F811
    slug = tenant_a.org.slug
    paths = [p for p in page_paths(slug) if p.startswith(f"/o/{slug}/")]
    paths += [
        f"/o/{slug}/leads/{dashboard['lead'].id}/",
        f"/o/{slug}/segments/{dashboard['segment'].id}/",
        f"/o/{slug}/runs/{dashboard['run'].id}/",
        f"/o/{slug}/calendar/?view=week",
        "/accounts/profile/",
    ]
    assert f"/o/{slug}/queue/" in paths and f"/o/{slug}/block-list/" in paths
    browser_login(page, tenant_a.owner.email, org_path=f"/o/{slug}/")
    problems = _check(page, paths)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
