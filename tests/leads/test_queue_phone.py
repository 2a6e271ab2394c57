"""The dashboard on a phone (390 px) in Debian's chromium: the menu folds behind a button that
says whether it is open and works from the keyboard; the queue's Approve is on screen without
horizontal scrolling and its counts follow an approval."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.organizations.test_browser import (
    page,  # noqa: F401 - the chromium page fixture
)
from tests.organizations.test_browser import pytestmark as browser_marks

pytestmark = browser_marks

PHONE = {"width": 390, "height": 844}


def phone_login(page, email: str) -> None:  # noqa: F811
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/o/alpha/")
    necessary = page.locator("[data-consent=necessary]:visible")
    if necessary.count():
        necessary.first.click()  # the cookie banner covers the page's bottom


@pytest.fixture
def queue(night, tenant_a, tenant_b):
    """Written before the browser starts (see the page fixture)."""
    night(tenant_a, size=3)
    night(tenant_b, size=2)


def test_the_menu_folds_on_a_phone_and_opens_from_the_keyboard(tenant_a, page):  # noqa: F811
    phone_login(page, tenant_a.member.email)
    toggle = page.locator(".menu-toggle")
    nav_link = page.locator("nav a", has_text="Calendar")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav_link).to_be_hidden()
    # The folded menu leaves the first screen to the page.
    assert page.locator(".sidebar").bounding_box()["height"] < 100
    expect(page.locator("h1")).to_be_in_viewport()

    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav_link).to_be_visible()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav_link).to_be_hidden()
    expect(toggle).to_be_focused()

    toggle.click()
    nav_link.click()
    page.wait_for_url("**/o/alpha/calendar/")

    # A wide screen shows the menu and no button.
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.locator(".menu-toggle")).to_be_hidden()
    expect(page.get_by_role("link", name="Leads", exact=True)).to_be_visible()


def test_approve_on_a_phone_updates_the_counts(tenant_a, queue, page):  # noqa: F811
    phone_login(page, tenant_a.member.email)
    page.goto("/o/alpha/queue/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    badge = page.locator("#nav-queue-count [aria-hidden=true]")
    assert badge.text_content() == "3"
    expect(page.locator("#queue-summary")).to_contain_text("3 leads await approval.")

    first = page.locator("#queue tbody tr").first
    approve = first.get_by_role("button", name="Approve")
    reject = first.locator("summary", has_text="Reject")
    expect(approve).to_be_in_viewport(ratio=1)
    expect(reject).to_be_in_viewport(ratio=1)
    approve.click()

    expect(first.locator(".badge.ok")).to_have_text("approved")
    expect(page.locator("#queue-summary")).to_contain_text("2 leads await approval.")
    expect(badge).to_have_text("2")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The reject menu opens inside the card, on screen.
    second = page.locator("#queue tbody tr").nth(1)
    second.locator("summary", has_text="Reject").click()
    expect(second.get_by_role("button", name="Not a fit")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_calendar_is_an_agenda_on_a_phone_and_the_week_keeps_its_weekend(
    tenant_a,
    queue,
    page,  # noqa: F811
):
    from leads.models import Lead
    from leads.services import leads_approve

    ids = list(Lead.objects.for_org(tenant_a.org).values_list("id", flat=True))
    approved = leads_approve(organization=tenant_a.org, lead_ids=ids, approved_by=None).approved
    day = approved[0].scheduled_date
    phone_login(page, tenant_a.member.email)
    page.goto(f"/o/alpha/calendar/?month={day:%Y-%m}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.locator(".cal-head").first).to_be_hidden()
    # Only days with leads (and today) are listed, one under the other, each with its weekday.
    shown = page.locator(".cal .day:visible")
    with_leads = page.locator(".cal .day:visible:has(.lead)")
    assert with_leads.count() >= 1
    assert shown.count() <= with_leads.count() + 1
    first = with_leads.first
    expect(first.locator(".day-weekday")).to_be_visible()
    expect(first.get_by_role("link", name="Move leads in the week view")).to_be_visible()
    boxes = [shown.nth(i).bounding_box() for i in range(shown.count())]
    assert all(b["width"] > 300 for b in boxes)  # full width, not a seventh of the screen

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/o/alpha/calendar/?view=week&date={day:%Y-%m-%d}")
    widths = [round(page.locator(".cal .day").nth(i).bounding_box()["width"]) for i in range(7)]
    assert max(widths) - min(widths) <= 1, widths  # Saturday and Sunday as wide as Monday
    # The week view moves leads; on a phone its days are the same agenda, the form on screen.
    page.set_viewport_size(PHONE)
    move = page.locator(".cal .day:visible").first.get_by_role("button", name="Move").first
    expect(move).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
