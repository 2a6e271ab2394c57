"""The cookie banner's endpoint: the choice goes into the consent cookie and is recorded as proof."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

from privacy.consent import consent_parse
from privacy.models import ConsentRecord

pytestmark = pytest.mark.django_db


@override_settings(LEADPILOT_POLICY_VERSION="v7")
def test_saving_choices_sets_the_cookie_and_records_the_proof(client: Client):
    response = client.post(
        "/privacy/consent/",
        {"choice": "selected", "category": ["statistics", "made_up"], "next": "/pricing/"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302 and response["Location"] == "/pricing/"
    cookie = response.cookies["lp_consent"]
    choice = consent_parse(cookie.value)
    assert choice is not None and choice.version == "v7"
    assert choice.categories == {"necessary", "statistics"}
    assert cookie["max-age"] == 365 * 24 * 3600 and cookie["samesite"] == "Lax"
    record = ConsentRecord.objects.get()
    assert record.categories == ["necessary", "statistics"]
    assert record.policy_version == "v7" and record.action == "selected" and record.user is None
    assert record.ip_hash and "203.0.113.9" not in record.ip_hash


def test_a_logged_in_users_choice_is_recorded_against_them(tenant_a):
    client = tenant_a.client_for(tenant_a.member)
    client.post("/privacy/consent/", {"choice": "all"})
    record = ConsentRecord.objects.get()
    assert record.user == tenant_a.member
    assert record.categories == [
        "necessary",
        "functional",
        "statistics",
        "ad_tracking",
        "ad_measurement",
        "personalised_ads",
    ]


def test_necessary_only_withdraws_and_deletes_the_optional_cookies(client: Client):
    client.post("/privacy/consent/", {"choice": "all"})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    client.cookies["lp_stats"] = "3"
    response = client.post("/privacy/consent/", {"choice": "necessary"})
    assert consent_parse(response.cookies["lp_consent"].value).categories == {"necessary"}
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == 0
    assert response.cookies["lp_stats"]["max-age"] == 0
    assert ConsentRecord.objects.count() == 2  # both choices kept as proof


def test_the_banner_script_gets_json(client: Client):
    response = client.post(
        "/privacy/consent/", {"choice": "necessary"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    assert response.json()["categories"] == ["necessary"]


def test_an_unknown_choice_is_refused_with_a_reason_and_records_nothing(client: Client):
    response = client.post("/privacy/consent/", {"choice": "everything"})
    assert response.status_code == 400
    assert "Accept all" in response.json()["error"]
    assert not ConsentRecord.objects.exists()
    assert "lp_consent" not in response.cookies


def test_next_cannot_send_the_visitor_elsewhere(client: Client):
    response = client.post("/privacy/consent/", {"choice": "all", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_get_is_not_allowed(client: Client):
    assert client.get("/privacy/consent/").status_code == 405


def test_the_banner_and_the_cookie_page_tick_what_was_chosen(client: Client):
    client.post("/privacy/consent/", {"choice": "selected", "category": ["functional"]})
    html = client.get("/cookies/").content.decode()
    assert 'value="functional" checked' in html
    assert 'value="statistics" checked' not in html
