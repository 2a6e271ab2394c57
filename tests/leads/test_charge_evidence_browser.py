"""The charge evidence in a real browser, at desktop and phone width: the sentences are what the
reader sees, the raw record opens on demand, nothing scrolls sideways.

LP_SCREENSHOTS=DIR keeps a screenshot of each page (for looking at the layout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.organizations.test_browser import (
    browser_login,
    page,  # noqa: F401 - the chromium page fixture
)
from tests.organizations.test_browser import pytestmark as browser_marks

from .test_charge_evidence import charged  # noqa: F401 - the night with both kinds of charge

pytestmark = browser_marks


@pytest.mark.parametrize("width", [1280, 390])
def test_the_charge_reads_as_sentences_at_desktop_and_phone_width(
    charged,  # noqa: F811
    tenant_a,
    width,
    page,  # noqa: F811
):
    world, _run, leads = charged
    kari, ola = world.people[0], world.people[1]
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, tenant_a.member.email)
    for person, first_words in (
        (ola, "The number +44 7400 123456 is listed next to Ola Hansen"),
        (kari, "The e-mail address kari.nordmann@"),
    ):
        page.goto(f"/o/alpha/leads/{leads[person.id].id}/")
        sentences = page.locator(".charge-evidence .evidence-sentences li")
        expect(sentences.first).to_contain_text(first_words)
        expect(sentences.first).to_be_visible()
        # The raw record is folded away until asked for.
        raw = page.locator(".charge-evidence details.evidence-raw pre")
        expect(raw).to_be_hidden()
        expect(page.locator(".company-contacts li").first).to_contain_text("Company switchboard")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
        if shots := os.environ.get("LP_SCREENSHOTS"):
            name = f"lead-{person.last_name.lower()}-{width}"
            page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)
        page.click(".charge-evidence details.evidence-raw summary")
        expect(raw).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the open record scrolls the page sideways at {width}px"
        if shots:
            page.screenshot(path=str(Path(shots) / f"{name}-open.png"), full_page=True)
