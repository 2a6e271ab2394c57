"""A real browser (Debian's chromium through Playwright) against the live server: log in, land on
the dashboard, create an API key and see it exactly once; the API docs render with no network
beyond our own server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    # Skipped only on a developer machine without chromium; CI (CI=true) must run it.
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="chromium missing (make test installs it)",
    ),
]


def browser_login(page, email: str, *, org_path: str = "/o/alpha/") -> None:
    """Log in through the form, land on the organisation, dismiss the cookie banner (it covers
    the page corner)."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{org_path}")
    page.click("#cookie-consent [data-consent=necessary]")


@pytest.fixture
def page(live_server, monkeypatch) -> Iterator:
    """A chromium page on the live server. Request it AFTER fixtures that write to the database
    (`def test_x(tenant_a, page)`): once Playwright runs, ORM calls in this thread may open a
    connection outside the test's bookkeeping, and the test database cannot be dropped."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # ordinary synchronous code, so Django's async-safety guard does not apply to them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        # Nothing may leave the machine: every request must go to the live server.
        outside: list[str] = []

        def guard(route) -> None:
            if route.request.url.startswith(live_server.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", guard)
        yield page
        context.close()
        browser.close()
        assert outside == [], f"requests left the live server: {outside}"


def test_login_and_create_an_api_key_shown_once(tenant_a, page):
    page.goto("/")  # the landing page for visitors; "Log in" in its header
    page.click(".site-header >> text=Log in")
    page.wait_for_url("**/accounts/login/")
    page.fill("input[name=username]", tenant_a.admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/o/alpha/")
    assert page.locator("h1").inner_text() == "Alpha"
    page.click("#cookie-consent [data-consent=necessary]")  # the banner covers the page corner
    assert page.locator("#cookie-consent").is_hidden()

    page.click("nav >> text=API keys")
    page.wait_for_url("**/o/alpha/api-keys/")
    page.fill("input[name=name]", "Browser key")
    page.check("input[name=scopes][value=write]")
    page.click("button:has-text('Create key')")
    secret = page.locator("#new-key-value")
    secret.wait_for()
    full_key = secret.inner_text().strip()
    prefix = full_key.split(".")[0]
    assert len(full_key) > 20
    assert page.locator(f"#key-{prefix}").is_visible()

    page.goto("/o/alpha/api-keys/")
    assert page.locator("#new-key-value").count() == 0
    assert full_key not in page.content()
    row = page.locator(f"#key-{prefix}")
    assert row.is_visible()

    # Revoke in place with htmx (served locally, CSRF header from the layout), after confirming.
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Revoke')").click()
    page.locator(f"#key-{prefix} .badge.bad").wait_for()
    assert page.url.endswith("/o/alpha/api-keys/")  # swapped in place, no navigation
    page.reload()
    assert page.locator(f"#key-{prefix} .badge.bad").inner_text() == "Revoked"


def test_api_docs_render_from_local_assets(db, page):
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "LeadPilot API" in page.locator(".swagger-ui .info .title").inner_text()


def test_pages_fit_a_phone_screen(tenant_a, tenant_b, page):
    """At 390 px a wide table scrolls inside its own box; the page itself never scrolls sideways
    (the sidebar and headings stay put). The owner sees every page of the menu."""
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, tenant_a.owner.email)
    links = page.locator("nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "/o/alpha/members/" in links
    wide = {}
    for href in links:
        page.goto(href)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[href] = width
    assert wide == {}
    assert "bravo" not in page.content().lower()
