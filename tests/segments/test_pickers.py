"""The segment editor's pickers (issue 17): countries, NACE codes at any level and places are
searched by name, the form still posts codes. The JSON endpoint here; the combobox in chromium
below (type "Oslo", pick it, the saved segment holds the registry's code 0301)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from enrichment.models import Company
from segments.models import Segment
from segments.pickers import picker_search
from tests.conftest import PASSWORD
from tests.organizations.test_browser import page  # noqa: F401 - the chromium page fixture
from tests.organizations.test_browser import pytestmark as browser_marks


def options(client, org, **params):
    response = client.get(reverse("segments:picker-options", kwargs={"org_slug": org.slug}), params)
    assert response.status_code == 200, response.content
    return [(o["value"], o["label"]) for o in response.json()["options"]]


@pytest.fixture
def places(db):
    """Norway's registry gives the region as the municipality number, the UK's as the county."""
    rows = [
        ("NO", "910000001", "OSLO", "0301"),
        ("NO", "910000002", "OSLO", "0301"),
        ("NO", "910000003", "BERGEN", "4601"),
        ("NO", "910000004", "BÆRUM", "3201"),
        ("GB", "00000001", "LONDON", "Greater London"),
    ]
    for country, registry_id, municipality, region in rows:
        Company.objects.create(
            country=country,
            registry_id=registry_id,
            name=f"Picker {municipality.title()} {registry_id}",
            municipality=municipality,
            region=region,
        )


def test_regions_are_found_by_name_and_answer_their_code(places, tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    assert options(client, tenant_a.org, field="regions", q="oslo") == [("0301", "Oslo (NO 0301)")]
    assert options(client, tenant_a.org, field="regions", q="4601") == [
        ("4601", "Bergen (NO 4601)")
    ]
    assert ("Greater London", "Greater London (GB)") in options(
        client, tenant_a.org, field="regions", q="london"
    )
    assert options(client, tenant_a.org, field="municipalities", q="bær") == [
        ("BÆRUM", "Bærum (NO)")
    ]
    # A saved segment's codes are named again when the editor opens.
    assert options(client, tenant_a.org, field="regions", values="4601,9999") == [
        ("4601", "Bergen (NO 4601)"),
        ("9999", "9999"),
    ]


def test_industries_are_found_by_words_at_every_level(tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    found = dict(options(client, tenant_a.org, field="industries", q="software development"))
    assert "Business and domestic software development" in found["62.01"]
    assert found["62.01"].startswith("Class 62.01:")
    assert found["62"].startswith("Division 62:")
    levels = dict(options(client, tenant_a.org, field="industries", q="J"))
    assert levels["J"] == "Section J: Information and communication"
    assert [v for v, _label in options(client, tenant_a.org, field="industries", q="62.0")][:2] == [
        "62.0",
        "62.01",
    ]


def test_countries_are_named_in_the_visitors_language(tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    assert options(client, tenant_a.org, field="countries", q="norw")[0] == ("NO", "Norway (NO)")
    with translation.override("sv"):
        swedish = picker_search(field="countries", query="storbrit")
    assert [(o.value, o.label) for o in swedish] == [("GB", "Storbritannien (GB)")]


def test_an_unknown_picker_is_refused_by_name(tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    response = client.get(
        reverse("segments:picker-options", kwargs={"org_slug": tenant_a.org.slug}),
        {"field": "secrets"},
    )
    assert response.status_code == 400
    assert "secrets" in response.json()["error"]


def test_the_pickers_need_a_membership(tenant_a, tenant_b):
    client = tenant_b.client_for(tenant_b.member)
    response = client.get(
        reverse("segments:picker-options", kwargs={"org_slug": tenant_a.org.slug}),
        {"field": "countries"},
    )
    assert response.status_code == 404


@browser_marks[0]
@browser_marks[1]
def test_pick_oslo_by_name_and_the_form_posts_its_code(places, tenant_a, tenant_b, page):  # noqa: F811
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.fill("input[name=username]", tenant_a.admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/o/alpha/")
    necessary = page.locator("[data-consent=necessary]:visible")
    if necessary.count():
        necessary.first.click()
    page.goto("/o/alpha/segments/new/")
    page.fill("input[name=name]", "Oslo CEOs")

    countries = page.get_by_role("combobox", name="Countries")
    countries.fill("norw")
    expect(page.get_by_role("option", name="Norway (NO)")).to_be_visible()
    page.keyboard.press("Enter")  # the only option: picked, the form is not submitted
    expect(page.locator("input[name=countries]")).to_have_value("NO")
    companies = page.get_by_test_id("companies")
    expect(companies).to_have_text("4")  # every Norwegian company, counted live

    regions = page.get_by_role("combobox", name="Regions")
    regions.fill("Oslo")
    option = page.get_by_role("option", name="Oslo (NO 0301)")
    expect(option).to_be_visible()
    expect(regions).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(regions).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    page.keyboard.press("Enter")
    expect(regions).to_have_attribute("aria-expanded", "false")
    expect(page.locator(".picker-chip", has_text="Oslo (NO 0301)")).to_be_visible()
    expect(page.locator("input[name=regions]")).to_have_value("0301")
    expect(companies).to_have_text("2")  # the count follows the pick

    # Removing a pick is one button with a name; the count follows again.
    page.get_by_role("button", name="Remove Oslo (NO 0301)").click()
    expect(page.locator("input[name=regions]")).to_have_value("")
    expect(companies).to_have_text("4")
    regions.fill("oslo")
    page.get_by_role("option", name="Oslo (NO 0301)").click()
    expect(companies).to_have_text("2")

    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url("**/o/alpha/segments/*/")
    segment = Segment.objects.for_org(tenant_a.org).get(name="Oslo CEOs")
    assert segment.criteria["regions"] == ["0301"]
    assert segment.criteria["countries"] == ["NO"]
    # Opened again, the editor names the saved code.
    expect(page.locator(".picker-chip", has_text="Oslo (NO 0301)")).to_be_visible()
