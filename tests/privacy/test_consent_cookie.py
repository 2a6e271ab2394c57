"""consent_allows: what a saved cookie choice allows, and that a stale one allows nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory, override_settings
from django.utils import timezone

from privacy.consent import CONSENT_COOKIE, ConsentChoice, consent_allows, consent_parse


def _request(cookie: str | None):
    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES[CONSENT_COOKIE] = cookie
    return request


def _cookie(*categories: str, version: str = "v1", age: dt.timedelta = dt.timedelta(0)) -> str:
    choice = ConsentChoice(
        version=version, given_at=timezone.now() - age, categories=frozenset(categories)
    )
    return choice.cookie_value()


@override_settings(LEADPILOT_POLICY_VERSION="v1")
def test_no_choice_allows_only_necessary():
    request = _request(None)
    assert consent_allows(request, "necessary")
    assert not consent_allows(request, "functional")
    assert not consent_allows(request, "statistics")


@override_settings(LEADPILOT_POLICY_VERSION="v1")
def test_a_saved_choice_allows_what_was_chosen_and_nothing_else():
    request = _request(_cookie("functional"))
    assert consent_allows(request, "functional")
    assert not consent_allows(request, "statistics")
    assert not consent_allows(request, "ad_tracking")


@override_settings(LEADPILOT_POLICY_VERSION="v2")
def test_a_choice_under_an_older_policy_version_allows_nothing_until_asked_again():
    request = _request(_cookie("functional", "statistics", version="v1"))
    assert not consent_allows(request, "functional")
    assert not consent_allows(request, "statistics")


@override_settings(LEADPILOT_POLICY_VERSION="v1")
def test_a_choice_older_than_a_year_is_asked_again():
    request = _request(_cookie("functional", age=dt.timedelta(days=366)))
    assert not consent_allows(request, "functional")


@override_settings(LEADPILOT_POLICY_VERSION="v1")
@pytest.mark.parametrize("value", ["", "garbage", "v1|notatime|functional", "v1|1|", "|||"])
def test_malformed_cookies_allow_nothing_and_do_not_raise(value):
    assert not consent_allows(_request(value), "functional")


def test_an_unknown_category_is_an_error_not_a_no():
    with pytest.raises(ValueError, match="statistcs"):
        consent_allows(_request(None), "statistcs")


def test_cookie_value_round_trips_with_only_unquoted_cookie_characters():
    value = _cookie("statistics", "functional")
    assert all(c.isalnum() or c in "|+-_." for c in value)
    choice = consent_parse(value)
    assert choice is not None
    assert choice.categories == {"necessary", "functional", "statistics"}
