"""The language a person reads (issue 17): the profile's choice wins on every page after login,
the switch stores it on the profile, in the session, and in the `django_language` cookie only once
functional cookies are allowed; Accept-Language is the default. Pages, the API's errors and the
e-mails are in Swedish for a Swedish user, with dates and numbers formatted the Swedish way."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from organizations.services import api_key_create, invitation_create
from privacy.consent import FUNCTIONAL, NECESSARY, ConsentChoice, policy_version
from tests.conftest import Tenant

COOKIE = settings.LANGUAGE_COOKIE_NAME


def _consent(client: Client, *categories: str) -> None:
    choice = ConsentChoice(
        version=policy_version(),
        given_at=timezone.now(),
        categories=frozenset({NECESSARY, *categories}),
    )
    client.cookies["lp_consent"] = choice.cookie_value()


def _home(tenant: Tenant) -> str:
    return reverse("org-home", kwargs={"org_slug": tenant.org.slug})


def test_a_swedish_profile_reads_the_dashboard_in_swedish_whatever_the_browser_says(
    tenant_a: Tenant,
) -> None:
    tenant_a.owner.language = "sv"
    tenant_a.owner.save(update_fields=["language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    client.force_login(tenant_a.owner)
    page = client.get(_home(tenant_a))
    html = page.content.decode()
    assert page["Content-Language"] == "sv"
    assert '<html lang="sv">' in html
    assert "Väntar på godkännande" in html
    assert "Awaiting approval" not in html
    # Another person of the same organisation, with no choice, follows their browser.
    other = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    other.force_login(tenant_a.member)
    assert "Awaiting approval" in other.get(_home(tenant_a)).content.decode()


def test_without_a_choice_the_browsers_accept_language_decides(tenant_a: Tenant) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="sv-SE,sv;q=0.9,en;q=0.5")
    client.force_login(tenant_a.member)
    assert "Väntar på godkännande" in client.get(_home(tenant_a)).content.decode()
    # A language we do not ship falls back to English.
    german = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    german.force_login(tenant_a.member)
    assert "Awaiting approval" in german.get(_home(tenant_a)).content.decode()


def test_the_switch_stores_a_logged_in_persons_choice_on_the_profile(tenant_a: Tenant) -> None:
    client = tenant_a.client_for(tenant_a.admin)
    switched = client.post(reverse("set_language"), {"language": "sv", "next": _home(tenant_a)})
    assert switched.status_code == 302 and switched["Location"] == _home(tenant_a)
    tenant_a.admin.refresh_from_db()
    assert tenant_a.admin.language == "sv"
    # No functional consent: no long-lived cookie.
    assert COOKIE not in switched.cookies
    # A new login on another browser (a fresh session) still reads Swedish.
    fresh = tenant_a.client_for(tenant_a.admin)
    assert "Väntar på godkännande" in fresh.get(_home(tenant_a)).content.decode()


def test_the_profile_form_sets_and_clears_the_language(tenant_a: Tenant) -> None:
    client = tenant_a.client_for(tenant_a.member)
    form = {"full_name": "Mia", "wants_digest": "on", "language": "sv"}
    assert client.post(reverse("profile"), form).status_code == 302
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.language == "sv"
    page = client.get(reverse("profile")).content.decode()
    assert "Din profil" in page
    client.post(reverse("profile"), {**form, "language": ""})
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.language == ""
    bad = client.post(reverse("profile"), {**form, "language": "xx"})
    assert bad.status_code == 200
    assert "xx" in bad.content.decode()


def test_an_anonymous_choice_lasts_the_session_and_the_cookie_needs_functional_consent(
    db: None,
) -> None:
    visitor = Client(HTTP_ACCEPT_LANGUAGE="en-GB")
    switched = visitor.post(reverse("set_language"), {"language": "sv", "next": "/accounts/login/"})
    assert COOKIE not in switched.cookies
    assert "Logga in" in visitor.get("/accounts/login/").content.decode()

    allowed = Client(HTTP_ACCEPT_LANGUAGE="en-GB")
    _consent(allowed, FUNCTIONAL)
    switched = allowed.post(reverse("set_language"), {"language": "sv", "next": "/"})
    assert switched.cookies[COOKIE].value == "sv"
    assert int(switched.cookies[COOKIE]["max-age"]) >= 300 * 24 * 3600

    # The consent withdrawn: the cookie is not read any more, and is deleted.
    later = Client(HTTP_ACCEPT_LANGUAGE="en-GB")
    _consent(later)
    later.cookies[COOKIE] = "sv"
    page = later.get("/accounts/login/")
    assert "Log in to LeadPilot" in page.content.decode()
    assert page.cookies[COOKIE].value == ""


def test_the_switch_refuses_an_unknown_language_and_a_foreign_next(db: None) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en-GB")
    answer = client.post(
        reverse("set_language"), {"language": "xx", "next": "https://evil.example/"}
    )
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert "Log in to LeadPilot" in client.get("/accounts/login/").content.decode()


def test_the_dashboard_has_a_language_switch_in_the_user_menu(tenant_a: Tenant) -> None:
    html = tenant_a.client_for(tenant_a.owner).get(_home(tenant_a)).content.decode()
    assert f'action="{reverse("set_language")}"' in html
    assert re.search(r'<button[^>]*value="sv"[^>]*>Svenska</button>', html)


def test_an_invitation_is_written_in_the_invitees_language(
    tenant_a: Tenant, tenant_b: Tenant, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    tenant_b.member.language = "sv"
    tenant_b.member.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            organization=tenant_a.org,
            email=tenant_b.member.email,
            role="member",
            invited_by=tenant_a.owner,
        )
    (mail,) = mailoutbox
    assert "Du är inbjuden" in mail.subject
    assert "Hej," in mail.body


def test_api_errors_follow_accept_language(tenant_a: Tenant) -> None:
    _key, secret = api_key_create(
        organization=tenant_a.org, name="sync", scope="write", actor=tenant_a.owner
    )
    url = f"/api/v1/orgs/{tenant_a.org.slug}/segments/"
    swedish = Client(HTTP_ACCEPT_LANGUAGE="sv", HTTP_AUTHORIZATION=f"Api-Key {secret}")
    answer = swedish.post(url, {"name": ""}, content_type="application/json")
    assert answer.status_code == 400
    assert answer["Content-Language"] == "sv"
    assert "Det här fältet" in answer.content.decode()
    # No key at all: DRF's own message, in Swedish.
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="sv").get(url)
    assert anonymous.status_code in (401, 403)
    assert anonymous["Content-Language"] == "sv"


def test_dates_and_numbers_follow_the_locale(tenant_a: Tenant) -> None:
    from django.template import Context, Template
    from django.utils import translation

    template = Template(
        "{% load humanize %}{{ when|date:'DATE_FORMAT' }}|{{ n|intcomma }}|{{ x|floatformat:2 }}"
    )
    context = Context({"when": dt.date(2026, 12, 7), "n": 12345, "x": 1.5})
    with translation.override("sv"):
        assert template.render(context) == "7 december 2026|12\xa0345|1,50"
    with translation.override("en-gb"):
        assert template.render(context) == "7 Dec 2026|12,345|1.50"


def test_the_queue_and_the_segment_editor_read_in_swedish(tenant_a: Tenant) -> None:
    tenant_a.admin.language = "sv"
    tenant_a.admin.save(update_fields=["language"])
    client = tenant_a.client_for(tenant_a.admin)
    slug = tenant_a.org.slug
    queue = client.get(reverse("leads:queue", kwargs={"org_slug": slug})).content.decode()
    assert "<h1>Godkännandekö</h1>" in queue
    assert "Inga leads väntar på godkännande" in queue
    editor = client.get(reverse("segments:create", kwargs={"org_slug": slug})).content.decode()
    assert "Nytt segment" in editor
    assert "Länder" in editor and "Spara som utkast" in editor
    assert "Save as draft" not in editor


def test_a_norwegian_profile_reads_norwegian(tenant_a: Tenant) -> None:
    tenant_a.member.language = "nb"
    tenant_a.member.save(update_fields=["language"])
    page = tenant_a.client_for(tenant_a.member).get(_home(tenant_a))
    assert page["Content-Language"] == "nb"
    assert "Venter på godkjenning" in page.content.decode()
