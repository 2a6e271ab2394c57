"""The public site: landing, pricing from the plans, what counts as a lead, the policies, the
footer with the operator, ETags, and the cookie registry matching the cookies really set."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from billing.models import Plan
from privacy.cookies import cookies_registry

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/", "/pricing/", "/what-counts-as-a-lead/", "/terms/", "/privacy/", "/cookies/"]
OPERATOR = {
    "LEADPILOT_OPERATOR_NAME": "Nordleads AB",
    "LEADPILOT_OPERATOR_REG_NO": "559123-4567",
    "LEADPILOT_OPERATOR_ADDRESS": "Storgatan 1, 111 22 Stockholm",
    "LEADPILOT_OPERATOR_EMAIL": "privacy@nordleads.example",
    "LEADPILOT_POLICY_VERSION": "2026-12-07",
}


def text(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_landing_explains_the_product_and_leads_to_sign_up(client: Client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "verified" in text(response)
    assert re.search(
        r'<a class="button big" href="/accounts/signup/">Get started for free</a>', html
    )
    assert "25 leads a month" in text(response)  # the free plan's quota, from billing


def test_a_logged_in_user_goes_from_the_landing_page_to_their_dashboard(tenant_a):
    response = tenant_a.client_for(tenant_a.owner).get("/")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{tenant_a.org.slug}/"


@override_settings(**OPERATOR)
@pytest.mark.parametrize("url", [*PUBLIC_PAGES, "/accounts/signup/", "/accounts/login/"])
def test_every_public_page_names_the_operator_and_offers_cookie_settings(client: Client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    body = text(response)
    assert "Nordleads AB, corp. ID no. 559123-4567" in body
    assert "privacy@nordleads.example" in body
    assert "Cookie settings" in body
    # The banner names the operator too.
    assert "At Nordleads AB, corp. ID no. 559123-4567, we use the cookies" in body


@override_settings(**OPERATOR)
@pytest.mark.parametrize("url", ["/terms/", "/privacy/", "/cookies/"])
def test_policies_carry_the_operator_their_version_and_date(client: Client, url):
    body = text(client.get(url))
    assert "At Nordleads AB, corp. ID no. 559123-4567, we" in body
    assert "Version 2026-12-07, in force from 7 Dec 2026." in body


def test_pricing_shows_the_plans_in_the_chosen_currency_with_grouped_amounts(client: Client):
    sek = text(client.get("/pricing/?currency=SEK"))
    assert "4,290 SEK per month" in sek  # Growth SEK, grouped by the locale
    assert "Each extra lead 9.90 SEK" in sek
    assert "GBP per month" not in sek and "EUR per month" not in sek
    assert "Free" in sek and "25 leads included per month" in sek
    gbp = text(client.get("/pricing/?currency=GBP"))
    assert "335 GBP per month" in gbp and "SEK per month" not in gbp


def test_pricing_follows_the_plan_rows_staff_edit(client: Client):
    Plan.objects.filter(code="growth-eur").update(price_per_month="410.00", monthly_quota=600)
    body = text(client.get("/pricing/?currency=EUR"))
    assert "410 EUR per month" in body and "600 leads included per month" in body
    Plan.objects.filter(code="growth-eur").update(is_public=False)
    assert "410 EUR" not in text(client.get("/pricing/?currency=EUR"))


def test_pricing_in_swedish_defaults_to_kronor_in_the_swedish_number_format(client: Client):
    body = text(client.get("/pricing/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert re.search(r"4\xa0290 SEK|4 290 SEK", body), body[:2000]


def test_what_counts_names_the_kinds_what_is_free_and_how_to_dispute(client: Client):
    body = text(client.get("/what-counts-as-a-lead/"))
    for phrase in (
        "Found",
        "Enriched",
        "Verified",
        "Always free",
        "How to dispute a lead",
        "90 days",
    ):
        assert phrase in body


def test_public_pages_answer_304_to_a_browser_that_has_them(client: Client):
    client.get("/")  # a visitor who has the CSRF cookie by now
    first = client.get("/pricing/?currency=EUR")
    etag = first["ETag"]
    assert "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    again = client.get("/pricing/?currency=EUR", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    # Another currency, a changed plan or a policy version is another page.
    assert client.get("/pricing/?currency=SEK", HTTP_IF_NONE_MATCH=etag).status_code == 200
    Plan.objects.filter(code="growth-eur").update(price_per_month="400.00")
    assert client.get("/pricing/?currency=EUR", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_cookie_policy_lists_every_cookie_of_the_registry(client: Client):
    body = text(client.get("/cookies/"))
    for cookie in cookies_registry():
        assert cookie.name in body
        assert str(cookie.purpose) in body
    assert "Necessary" in body and "Functional" in body and "Statistics" in body


def test_every_cookie_the_app_sets_is_in_the_registry(tenant_a):
    """Walk what a visitor does (pages, sign-up, log in, cookie choice, language, log out) and
    collect every Set-Cookie: each must be listed on the cookie policy."""
    from tests.conftest import PASSWORD

    listed = {c.name for c in cookies_registry()}
    seen: set[str] = set()
    client = Client()

    def collect(response):
        seen.update(response.cookies.keys())
        return response

    for url in PUBLIC_PAGES:
        collect(client.get(url))
    collect(client.get("/accounts/signup/"))
    collect(client.post("/privacy/consent/", {"choice": "all"}))
    collect(client.post("/i18n/setlang/", {"language": "sv", "next": "/"}))
    collect(
        client.post("/accounts/login/", {"username": tenant_a.owner.email, "password": PASSWORD})
    )
    collect(client.get(f"/o/{tenant_a.org.slug}/"))
    collect(client.post("/privacy/consent/", {"choice": "necessary"}))
    collect(client.post("/accounts/logout/"))
    assert seen, "no cookie seen at all: the walk is broken"
    assert seen <= listed, f"set but not on the cookie policy: {sorted(seen - listed)}"
