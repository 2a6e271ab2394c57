"""The segment editor in a real browser: the live preview follows the criteria as they are typed
(htmx), saving keeps them, and the saved segment's preview loads after the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.organizations.test_browser import (
    browser_login,
    page,  # noqa: F401 - the chromium page fixture
)
from tests.organizations.test_browser import pytestmark as browser_marks

from .helpers import company, role

pytestmark = browser_marks


@pytest.fixture
def directory(db):
    """Written before the browser starts (see the page fixture)."""
    for _ in range(3):
        role(company(country="GB"))
    for i in range(2):
        role(company(country="NO", registry_id=f"91234567{i}"))


def test_live_preview_follows_the_criteria(tenant_a, directory, page):  # noqa: F811
    browser_login(page, tenant_a.admin.email)

    page.click("nav >> text=Segments")
    page.click("text=New segment")
    companies = page.locator("[data-testid=companies]")
    companies.wait_for()
    assert companies.inner_text() == "5"  # no country yet: every active company

    # Countries are picked by name (static/js/picker.js); the hidden box posts the codes.
    countries = page.get_by_role("combobox", name="Countries")
    countries.fill("Norway")
    page.get_by_role("option", name="Norway (NO)").click()
    # expect(), not wait_for_function("..."): a string predicate is eval'd, which the page's
    # Content-Security-Policy refuses.
    expect(page.locator("[data-testid=companies]")).to_have_text("2")
    countries.fill("XX")
    expect(page.get_by_role("option", name="No matches")).to_be_visible()
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Remove Norway (NO)").click()
    countries.fill("United Kingdom")
    page.get_by_role("option", name="United Kingdom (GB)").click()
    page.fill("input[name=name]", "UK companies")
    page.click("button[type=submit] >> text=Save as draft")
    page.wait_for_url("**/o/alpha/segments/*/")
    expect(page.locator("[data-testid=companies]")).to_have_text("3")
    assert page.locator("input[name=countries]").input_value() == "GB"
    expect(page.locator(".picker-chip", has_text="United Kingdom (GB)")).to_be_visible()
    page.click("button >> text=Activate")
    page.locator("h1 >> text=Active").wait_for()
