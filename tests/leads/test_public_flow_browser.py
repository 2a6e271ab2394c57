"""Issue 17 end to end in chromium, at 1280 and 390 px: the landing page, "Get started for free",
sign-up, the e-mailed link, a segment made with the pickers and its live count, activation, the
night (the management command against the sandbox), approving a lead on the phone layout and
finding it on the calendar. Then the cookie banner: nothing of a category runs before consent,
the choice persists, reopens from the footer, is withdrawn, and a new policy version asks again.
The whole flow once more in Swedish (the footer's language switch; every label read from the
shipped catalogue), and the public pages in Swedish."""

from __future__ import annotations

import io
import re
from functools import partial

import pytest
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import expect

from leads.models import Lead
from organizations.models import Organization
from privacy.models import ConsentRecord
from tests.organizations.test_browser import page  # noqa: F401 - the chromium page fixture
from tests.organizations.test_browser import pytestmark as browser_marks

from .world import world_build

pytestmark = browser_marks

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def world(sandbox, prefix):
    """Three British companies whose CEOs' mailboxes verify, served by the sandbox. Written
    before the browser starts (see the page fixture)."""
    built = world_build(prefix=prefix, size=3)
    sandbox(built.domains)
    return built


def _no_horizontal_scroll(pw_page) -> None:
    width = pw_page.viewport_size["width"]
    assert pw_page.evaluate("document.documentElement.scrollWidth") <= width


def _in(language: str, text: str) -> str:
    """`text` as the shipped catalogue of `language` has it (the English source for en-gb)."""
    with translation.override(language):
        return translation.gettext(text)


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("en-gb", DESKTOP), ("en-gb", PHONE), ("sv", PHONE)],
    ids=["1280", "390", "390-sv"],
)
def test_from_the_landing_page_to_a_lead_on_the_calendar(
    world,
    mailoutbox,
    page,  # noqa: F811
    language,
    viewport,
):
    t = partial(_in, language)
    page.set_viewport_size(viewport)
    page.goto("/")
    page.locator("#cookie-consent [data-consent=necessary]").click()
    if language != "en-gb":  # the footer's switch, as a Swedish visitor does
        page.locator(".site-footer").get_by_role("button", name="Svenska").click()
        expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("h1")).to_have_text(
        t("New B2B leads every morning, verified before you pay for them.")
    )
    _no_horizontal_scroll(page)
    page.locator(".hero").get_by_role("link", name=t("Get started for free")).click()
    page.wait_for_url("**/accounts/signup/")

    page.fill("input[name=organization_name]", "Fjordline Sales")
    page.fill("input[name=email]", "kari@fjordline.example")
    page.get_by_role("button", name=t("Sign up")).click()
    # The box is required: the form says so and nothing is mailed.
    expect(page.locator(".errorlist")).to_contain_text(
        t("Accept the terms and the privacy policy to sign up.")
    )
    assert mailoutbox == []
    page.get_by_label(t("I accept the terms of service and the privacy policy")).check()
    page.get_by_role("button", name=t("Sign up")).click()
    expect(page.locator("h1")).to_contain_text(t("Check your inbox"))

    (mail,) = mailoutbox
    link = re.search(r"https?://\S+/accounts/signup/\S+", mail.body).group(0)
    page.goto(re.sub(r"^https?://[^/]+", "", link))
    page.fill("input[name=full_name]", "Kari Nordmann")
    page.fill("input[name=password]", "a long enough pass phrase")
    page.get_by_role("button", name=t("Create account and organisation")).click()
    page.wait_for_url(re.compile(r".*/o/fjordline-sales/$"))
    slug = "fjordline-sales"

    # A segment with the pickers: the count follows the pick.
    page.goto(f"/o/{slug}/segments/new/")
    page.fill("input[name=name]", "British CEOs")
    countries = page.get_by_role("combobox", name=t("Countries"))
    countries.fill("(GB)")
    page.get_by_role("option", name=re.compile(r"\(GB\)$")).click()
    expect(page.locator("input[name=countries]")).to_have_value("GB")
    expect(page.get_by_test_id("companies")).to_have_text("3")
    page.get_by_role("button", name=t("Save as draft")).click()
    page.wait_for_url(f"**/o/{slug}/segments/*/")
    page.get_by_role("button", name=t("Activate"), exact=True).click()
    expect(page.locator(".messages")).to_contain_text(
        t("“%(name)s” is active: the nightly search will run it.") % {"name": "British CEOs"}
    )

    # The night: the management command, in this process, against the sandbox.
    out = io.StringIO()
    call_command("run_nightly", "--org", slug, "--sync", stdout=out)
    assert "leads=3" in out.getvalue(), out.getvalue()

    # Approve on the phone layout.
    page.set_viewport_size(PHONE)
    page.goto(f"/o/{slug}/queue/")
    _no_horizontal_scroll(page)
    first = page.locator("#queue tbody tr").first
    name = first.locator("td.card-title a").inner_text().strip()
    approve = first.get_by_role("button", name=t("Approve"))
    expect(approve).to_be_in_viewport(ratio=1)
    approve.click()
    expect(first.locator(".badge.ok")).to_have_text(t("approved"))

    org = Organization.objects.get(slug=slug)
    lead = Lead.objects.for_org(org).get(status="approved")
    assert lead.scheduled_date is not None
    page.goto(f"/o/{slug}/calendar/?month={lead.scheduled_date:%Y-%m}")
    expect(page.locator(".cal .lead:visible").first).to_be_visible()
    assert lead.person_name == name
    expect(page.locator(".cal .lead:visible", has_text=name)).to_be_visible()


def _cookie(pw_page, name: str) -> str | None:
    return next((c["value"] for c in pw_page.context.cookies() if c["name"] == name), None)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_cookie_choices_gate_the_statistics_script_persist_reopen_and_withdraw(
    db,
    settings,
    page,  # noqa: F811
    viewport,
):
    page.set_viewport_size(viewport)
    page.goto("/pricing/")
    banner = page.locator("#cookie-consent")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("corp. ID no." if settings.LEADPILOT_OPERATOR_REG_NO else "At ")
    # Equally prominent: the three buttons have the same size and style.
    buttons = [banner.locator(f"[data-consent={c}]") for c in ("all", "necessary", "selected")]
    boxes = [b.bounding_box() for b in buttons]
    assert len({(round(b["width"]), round(b["height"])) for b in boxes}) == 1, boxes
    colours = {b.evaluate("el => getComputedStyle(el).backgroundColor") for b in buttons}
    assert len(colours) == 1
    # Before consent the statistics script has not run.
    assert page.evaluate("document.documentElement.dataset.statsLoaded") is None
    assert _cookie(page, "lp_stats") is None

    banner.get_by_text("Choose categories").click()
    banner.get_by_label("Statistics").check()
    banner.locator("[data-consent=selected]").click()
    expect(banner).to_be_hidden()
    # Allowed: it runs at once, without a reload.
    expect(page.locator("html")).to_have_attribute("data-stats-loaded", "1")
    assert _cookie(page, "lp_stats") == "1"
    assert "statistics" in _cookie(page, "lp_consent")
    assert "functional" not in _cookie(page, "lp_consent")

    # The choice persists: another page, no banner, the script runs again.
    page.goto("/what-counts-as-a-lead/")
    expect(page.locator("#cookie-consent")).to_be_hidden()
    expect(page.locator("html")).to_have_attribute("data-stats-loaded", "1")
    assert _cookie(page, "lp_stats") == "2"

    # Reopen from the footer: the saved choice is ticked; withdraw it.
    page.locator(".site-footer").get_by_role("button", name="Cookie settings").click()
    expect(banner).to_be_visible()
    expect(banner.get_by_label("Statistics")).to_be_checked()
    expect(banner.get_by_label("Functional")).not_to_be_checked()
    with page.expect_navigation():  # a script that ran cannot be unloaded: the page restarts
        banner.locator("[data-consent=necessary]").click()
    expect(page.locator("#cookie-consent")).to_be_hidden()
    assert page.evaluate("document.documentElement.dataset.statsLoaded") is None
    assert _cookie(page, "lp_stats") is None

    assert list(
        ConsentRecord.objects.order_by("created_at").values_list("action", "categories")
    ) == [("selected", ["necessary", "statistics"]), ("necessary", ["necessary"])]

    # Accept all, then a new policy version: asked again, nothing optional runs until then.
    page.locator(".site-footer").get_by_role("button", name="Cookie settings").click()
    banner.locator("[data-consent=all]").click()
    expect(page.locator("html")).to_have_attribute("data-stats-loaded", "1")
    settings.LEADPILOT_POLICY_VERSION = "2027-01-01"
    page.reload()
    expect(page.locator("#cookie-consent")).to_be_visible()
    assert page.evaluate("document.documentElement.dataset.statsLoaded") is None


@pytest.fixture
def plans(transactional_db):
    """The plans migration 0005 seeds (a live-server test's flush removed them)."""
    import importlib

    from billing.models import Plan

    seeded = importlib.import_module("billing.migrations.0005_plans").PLANS
    for order, row in enumerate(seeded):
        code, name, kind, currency, quota, month, extra, hard_cap, trial, public = row
        Plan.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "currency": currency,
                "monthly_quota": quota,
                "price_per_month": month,
                "price_per_extra_lead": extra,
                "hard_cap": hard_cap,
                "free_trial_leads": trial,
                "is_public": public,
                "sort_order": order,
            },
        )


def test_the_public_pages_and_sign_up_in_swedish(plans, page):  # noqa: F811
    page.set_viewport_size(PHONE)
    page.goto("/")
    page.locator("#cookie-consent [data-consent=necessary]").click()
    page.locator(".site-footer").get_by_role("button", name="Svenska").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    hero = page.locator(".hero")
    expect(hero.get_by_role("link", name="Kom igång gratis")).to_be_visible()
    expect(page.locator(".site-footer")).to_contain_text("Cookieinställningar")
    expect(page.locator(".site-nav")).to_contain_text("Priser")
    hero.get_by_role("link", name="Kom igång gratis").click()
    page.wait_for_url("**/accounts/signup/")
    expect(page.locator("h1")).to_have_text("Skapa din organisation")
    _no_horizontal_scroll(page)
    # Kronor first on the Swedish pricing page, in the Swedish number format.
    page.goto("/pricing/")
    expect(page.locator(".currency-switch [aria-current=true]")).to_have_text("SEK")
    expect(page.locator(".plans")).to_contain_text("4\u00a0290")
