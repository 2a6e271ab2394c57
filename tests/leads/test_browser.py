"""The approval queue in a real browser: what a bulk action says is where the user is looking."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.organizations.test_browser import (
    browser_login,
    page,  # noqa: F401 - the chromium page fixture
)
from tests.organizations.test_browser import pytestmark as browser_marks

pytestmark = browser_marks


@pytest.fixture
def queue(night, tenant_a, tenant_b):
    """Written before the browser starts (see the page fixture)."""
    night(tenant_a, size=6)
    night(tenant_b, size=2)


def test_a_bulk_action_answer_is_scrolled_into_view(tenant_a, queue, page):  # noqa: F811
    page.set_viewport_size({"width": 390, "height": 700})
    browser_login(page, tenant_a.member.email)
    page.goto("/o/alpha/queue/")

    # The bulk buttons sit below the table; the answer appears above it.
    page.click("button:has-text('Approve selected')")
    message = page.locator("#queue .messages li")
    message.wait_for()
    assert message.inner_text() == "Select at least one lead."
    expect(message).to_be_in_viewport()  # retried: htmx scrolls once the swap has settled

    page.locator("input[name=lead_ids]").first.check()
    page.click("button:has-text('Approve selected')")
    expect(page.locator("#queue .messages li.success")).to_be_in_viewport()
    assert page.locator("input[name=lead_ids]").count() == 5
