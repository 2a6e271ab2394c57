"""The Content-Security-Policy in a real browser: the dashboard pages, the API docs and the admin
report no violation (a blocked script or style would), and what used inline handlers still works
from static/js/app.js (select every lead of the queue, the confirmation before archiving)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from tests.organizations.test_browser import (
    browser_login,
    page,  # noqa: F401 - the chromium page fixture
)
from tests.organizations.test_browser import pytestmark as browser_marks

pytestmark = browser_marks

# Runs in every document before its own scripts: a violation is an event on the document.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline code"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


@pytest.fixture
def world(night, tenant_a, tenant_b):
    """Alpha has 3 leads awaiting approval and a run; its owner is staff. Written before the
    browser starts (see the page fixture)."""
    _, segment, run = night(tenant_a, size=3)
    night(tenant_b, size=1)
    tenant_a.owner.is_staff = tenant_a.owner.is_superuser = True
    tenant_a.owner.save(update_fields=["is_staff", "is_superuser"])
    lead = Lead.objects.for_org(tenant_a.org).order_by("id").first()
    return segment, run, lead


def test_pages_docs_and_admin_run_without_violations(tenant_a, world, page):  # noqa: F811
    segment, run, lead = world
    page.add_init_script(WATCH)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Security Policy" in m.text else None)
    browser_login(page, tenant_a.owner.email)
    # htmx was told not to inject its indicator <style>, which the policy would block.
    assert page.evaluate("document.querySelectorAll('style').length") == 0

    violations: dict[str, list[str]] = {}

    def visit(url: str, ready: str = "body") -> None:
        response = page.goto(url)
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        page.locator(ready).first.wait_for()
        page.wait_for_load_state("networkidle")
        violations[url] = page.evaluate("window.__cspViolations")

    for path in [
        "",
        "segments/",
        "segments/new/",
        f"segments/{segment.id}/",
        "block-list/",
        "queue/",
        "leads/",
        f"leads/{lead.id}/",
        "calendar/",
        "calendar/?view=week",
        "runs/",
        f"runs/{run.id}/",
        "settings/",
        "members/",
        "invitations/",
        "api-keys/",
    ]:
        visit(f"/o/alpha/{path}")
    visit("/accounts/profile/")

    visit("/api/docs/", ready=".swagger-ui .info .title")
    assert "LeadPilot API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary").first.click()  # Swagger UI renders an operation
    page.locator(".opblock-body").first.wait_for()
    violations["/api/docs/ (an operation open)"] = page.evaluate("window.__cspViolations")

    visit("/admin/", ready="#content")
    visit("/admin/leads/lead/", ready="#result_list")
    visit(f"/admin/leads/lead/{lead.id}/change/", ready="#content-main form")
    visit("/admin/blocklists/suppression/add/", ready="#content-main form")

    assert {url: found for url, found in violations.items() if found} == {}
    assert console == []


def test_select_all_and_confirmation_work_without_inline_handlers(tenant_a, world, page):  # noqa: F811
    segment, _, _ = world
    browser_login(page, tenant_a.admin.email)

    # The queue's "select all" box (was an onclick attribute).
    page.goto("/o/alpha/queue/")
    boxes = page.locator("input[name=lead_ids]")
    expect(boxes).to_have_count(3)
    page.check("input[data-select-all]")
    assert [boxes.nth(i).is_checked() for i in range(3)] == [True, True, True]
    page.uncheck("input[data-select-all]")
    assert [boxes.nth(i).is_checked() for i in range(3)] == [False, False, False]
    # Still works in the table htmx swapped in after a bulk action.
    boxes.first.check()
    page.click("button:has-text('Approve selected')")
    expect(page.locator("#queue .messages li.success")).to_be_visible()
    expect(boxes).to_have_count(2)
    page.check("input[data-select-all]")
    assert [boxes.nth(i).is_checked() for i in range(2)] == [True, True]

    # Archiving a segment asks first (was an onsubmit attribute); "Cancel" keeps it.
    page.goto(f"/o/alpha/segments/{segment.id}/")
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("button:has-text('Archive')")
    assert asked == ["Archive this segment? It stops for good."]
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("Active")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Archive')")
    page.wait_for_url("**/o/alpha/segments/")
    expect(page.locator(".messages li.success")).to_contain_text("is archived.")
    page.goto(f"/o/alpha/segments/{segment.id}/")
    expect(page.locator("h1 .badge")).to_have_text("Archived")
