"""The Webhooks pages in chromium at desktop and phone width: the secret is hidden until revealed,
the delivery log opens per attempt, deleting asks first, nothing overflows at 390 px."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import transaction

from tests.organizations.test_browser import (
    browser_login,
    page,  # noqa: F401 - the chromium page fixture
)
from tests.organizations.test_browser import pytestmark as browser_marks
from webhooks.events import event_emit
from webhooks.models import EventType
from webhooks.services import endpoint_create

from .receiver import Answer

pytestmark = browser_marks


@pytest.fixture
def hooks(tenant_a, tenant_b, receiver, django_capture_on_commit_callbacks, settings):
    """Written before the browser starts (see the page fixture)."""
    settings.LEADPILOT_WEBHOOKS_RETRY_DELAYS = [3600]
    rcv = receiver([Answer(500, b'{"error":"database is down"}'), Answer(200)])
    endpoint = endpoint_create(
        organization=tenant_a.org,
        url=rcv.url("/integrations/leadpilot/a-rather-long-path-for-the-phone-layout"),
        events=list(EventType.values),
        description="HubSpot sync",
    )
    endpoint_create(organization=tenant_b.org, url=rcv.url("/bravo-only"), events=["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(2):
            with transaction.atomic():
                event_emit(organization=tenant_a.org, type="lead.created", data={"id": i})
    return endpoint


def test_webhook_pages_at_1280_and_390(tenant_a, hooks, page):  # noqa: F811
    shots = os.environ.get("LP_SCREENSHOTS")  # a folder: keep screenshots to look at
    browser_login(page, tenant_a.admin.email)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/o/alpha/webhooks/")
        assert "bravo-only" not in page.content()
        if shots:
            page.screenshot(path=str(Path(shots) / f"webhooks-{width}.png"), full_page=True)
        page.goto(f"/o/alpha/webhooks/{hooks.pk}/")
        secret = page.locator("#secret-value")
        assert not secret.is_visible()
        page.click("text=Reveal secret")
        assert secret.inner_text() == hooks.secret
        page.locator("#deliveries details summary").first.click()
        if shots:
            page.screenshot(path=str(Path(shots) / f"webhook-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than {width}px"
    assert "database is down" in page.content()

    questions: list[str] = []

    def dismiss(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("text=Delete this endpoint")
    page.click("button:has-text('Delete endpoint')")
    page.wait_for_timeout(300)
    assert questions and hooks.url in questions[0]
    assert page.url.endswith(f"/webhooks/{hooks.pk}/")
