"""The block list in a real browser: removing an entry asks first, as every other destructive
button does (an unblocked company can be delivered and charged again)."""

from __future__ import annotations

import pytest

from blocklists.services import block_entry_add
from tests.organizations.test_browser import (
    browser_login,
    page,  # noqa: F401 - the chromium page fixture
)
from tests.organizations.test_browser import pytestmark as browser_marks

pytestmark = browser_marks


@pytest.fixture
def entries(tenant_a, tenant_b):
    """Written before the browser starts (see the page fixture)."""
    block_entry_add(organization=tenant_a.org, kind="domain", value="acme.example")
    block_entry_add(organization=tenant_b.org, kind="domain", value="bravo-only.example")


def test_removing_a_block_entry_asks_first(tenant_a, tenant_b, entries, page):  # noqa: F811
    browser_login(page, tenant_a.admin.email)
    page.goto("/o/alpha/block-list/")
    assert "bravo-only.example" not in page.content()
    row = page.locator("#block-entries tbody tr", has_text="acme.example")

    questions: list[str] = []

    def dismiss(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.locator("button:has-text('Remove')").click()
    page.wait_for_timeout(300)
    assert questions and "acme.example" in questions[0]
    assert row.is_visible()
    page.reload()
    assert row.is_visible()  # still blocked

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Remove')").click()
    row.wait_for(state="detached")
    page.reload()
    assert row.count() == 0
