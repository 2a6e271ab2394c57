"""Disputes and usage in a real browser, at desktop and phone width: a member disputes a lead from
its page, finds it on the Disputes page with when to expect the answer, and reads the month on the
Usage page; tables scroll in their own box, the page never sideways.

LP_SCREENSHOTS=DIR keeps a screenshot of each page (for looking at the layout)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from billing.disputes import dispute_accept, dispute_open, dispute_reject
from billing.models import Dispute
from billing.services import usage_event_record
from tests.organizations.test_browser import (
    browser_login,
    page,  # noqa: F401 - the chromium page fixture
)
from tests.organizations.test_browser import pytestmark as browser_marks

from .test_disputes import leads_of

pytestmark = browser_marks

EXTRA_SNAPSHOT = {
    "verified": True,
    "kind": "email",
    "value": "earlier@example.no",
    "status": "valid",
}


@pytest.fixture
def month_of_disputes(night, sandbox, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    """A's month: 8 leads from tonight's search, charges on earlier days of the month (one an
    own-list enrichment), and a dispute of each status: accepted (credited), rejected with a
    note, and two awaiting staff after their automatic check. B has a lead and a dispute."""
    capture = django_capture_on_commit_callbacks
    night(tenant_b, size=1)
    night(tenant_a, size=8)
    leads = leads_of(tenant_a.org)
    now = timezone.now()
    earlier = [now - dt.timedelta(days=k) for k in (3, 2, 2, 1)]
    for n, at in enumerate(earlier):
        if at.astimezone(tenant_a.org.tz).month != now.astimezone(tenant_a.org.tz).month:
            continue  # the first days of a month have no earlier day in it
        with transaction.atomic():
            usage_event_record(
                organization=tenant_a.org,
                lead_id=900_000 + n,
                verification_snapshot={**EXTRA_SNAPSHOT, "value": f"earlier{n}@example.no"},
                kind="enriched" if n == 0 else "verified",
                occurred_at=at,
            )

    def open_(lead, reason, note=""):
        with capture(execute=True):
            return dispute_open(
                organization=tenant_a.org,
                lead_id=lead.id,
                reason=reason,
                note=note,
                created_by=tenant_a.member,
            )

    accepted = open_(leads[0], "wrong_person", "She left the company in the spring.")
    rejected = open_(leads[1], "other", "The number is the reception's.")
    waiting = open_(leads[2], "outside_criteria", "Far smaller than the segment asks.")
    with capture(execute=True):
        dispute_accept(
            organization=tenant_a.org,
            dispute_id=accepted.pk,
            decided_by=None,
            note="Confirmed: she left before the lead was delivered.",
        )
        dispute_reject(
            organization=tenant_a.org,
            dispute_id=rejected.pk,
            decided_by=None,
            note="The company's site lists this number next to the CEO's name.",
        )
    (b_lead,) = leads_of(tenant_b.org)
    with capture(execute=True):
        dispute_open(
            organization=tenant_b.org,
            lead_id=b_lead.id,
            reason="wrong_person",
            note="Bravo's own dispute.",
            created_by=tenant_b.member,
        )
    bounced = open_(leads[3], "bounced", "550 5.1.1 user unknown")
    statuses = dict(
        Dispute.objects.for_org(tenant_a.org).values_list("pk", "status").order_by("pk")
    )
    assert statuses == {
        accepted.pk: "accepted",
        rejected.pk: "rejected",
        waiting.pk: "awaiting_staff",
        bounced.pk: "awaiting_staff",  # the sandbox's mail server still accepts the address
    }
    charged = len(leads) + sum(
        1 for at in earlier if at.astimezone(tenant_a.org.tz).month == now.month
    )
    return leads, charged


def no_sideways_scroll(browser_page, width: int, what: str) -> None:
    overflow = browser_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px at {width}px"


def shot(browser_page, name: str) -> None:
    if shots := os.environ.get("LP_SCREENSHOTS"):
        browser_page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)


def open_from_menu(tab, label: str) -> None:
    """Click a menu entry as a user does: on a phone the menu folds behind its Menu button."""
    toggle = tab.locator(".menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    tab.click(f".sidebar >> text={label}")


@pytest.mark.parametrize("width", [1280, 390])
def test_dispute_from_the_lead_page_then_see_it_and_the_months_usage(
    month_of_disputes,
    tenant_a,
    width,
    page,  # noqa: F811
):
    leads, charged = month_of_disputes
    lead = leads[4]
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, tenant_a.member.email)
    # The overview tells of the two decisions of this week.
    notice = page.locator("#disputes-decided")
    expect(notice).to_contain_text("2 disputes were decided")
    expect(notice).to_contain_text("Confirmed: she left before the lead was delivered.")
    no_sideways_scroll(page, width, "the overview")
    shot(page, f"overview-{width}")

    page.goto(f"/o/alpha/leads/{lead.id}/")
    expect(page.locator("form input[name=dispute]")).to_be_visible()  # reject and dispute
    no_sideways_scroll(page, width, "the lead page")
    shot(page, f"lead-{width}")
    page.click("text=Dispute this charge")
    page.select_option("select[name=reason]", "wrong_person")
    page.fill("textarea[name=note]", "He retired last month.")
    no_sideways_scroll(page, width, "the dispute form")
    shot(page, f"dispute-form-{width}")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/o/alpha/disputes/")
    # (No ORM call once the browser runs: the row is found by its lead link.)
    row = page.locator("#disputes tbody tr", has=page.locator(f"a[href$='/leads/{lead.id}/']"))
    expect(row).to_contain_text("Wrong person")
    expect(row).to_contain_text("He retired last month.")
    expect(row).to_contain_text("Staff answer by ")
    expect(page.locator("#disputes")).to_contain_text("Accepted")
    expect(page.locator("#disputes")).to_contain_text("The charge stands.")
    expect(page.locator("#disputes")).not_to_contain_text("Bravo's own dispute.")
    no_sideways_scroll(page, width, "the Disputes page")
    box = page.locator("#disputes").locator("xpath=..")
    assert "table-scroll" in (box.get_attribute("class") or "")
    if width == 390:  # the table scrolls in its own box, not the page
        assert page.evaluate("el => el.scrollWidth > el.clientWidth", box.element_handle())
    shot(page, f"disputes-{width}")

    # The queue: a row's Reject menu rejects and disputes in one step.
    open_from_menu(page, "Approval queue")
    queued = page.locator(f"#lead-{leads[5].id}")
    queued.locator("details.row-reject summary").click()
    dispute_button = queued.locator("[data-reject-dispute=bad_contact]")
    expect(dispute_button).to_be_visible()
    no_sideways_scroll(page, width, "the approval queue")
    shot(page, f"queue-reject-{width}")
    dispute_button.click()
    expect(page.locator(f"#lead-{leads[5].id}")).to_contain_text(
        "Charge disputed: awaiting the answer"
    )

    open_from_menu(page, "Usage")
    page.wait_for_url("**/o/alpha/usage/")
    expect(page.locator("#usage-charged")).to_have_text(str(charged))
    expect(page.locator("#usage-credited")).to_have_text("1")
    expect(page.locator("#usage-net")).to_have_text(str(charged - 1))
    if charged > len(leads):  # the earlier days of the month: an own-list row among them
        expect(page.locator("#usage-kinds")).to_contain_text("Own-list rows enriched: 1")
    today = page.locator("#usage-days tbody tr").last
    expect(today.locator("td").nth(1)).to_have_text(str(len(leads)))
    expect(today.locator("td").nth(2)).to_have_text("1")
    expect(page.locator("#usage-days tfoot")).to_contain_text(str(charged))
    no_sideways_scroll(page, width, "the Usage page")
    shot(page, f"usage-{width}")
