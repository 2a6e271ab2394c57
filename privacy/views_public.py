"""The public policies (/privacy/, /cookies/) and the cookie banner's endpoint (/privacy/consent/).
The policies are cached with an ETag like the rest of the public site (website/caching.py)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.auth import client_ip
from website.caching import public_page

from .consent import (
    CATEGORIES,
    CONSENT_COOKIE,
    CONSENT_MAX_AGE,
    FUNCTIONAL,
    STATISTICS,
    consent_choice_from,
    consent_record,
)
from .cookies import STATS_COOKIE, cookies_registry


@public_page()
def privacy_policy(request: HttpRequest) -> HttpResponse:
    """/privacy/: what the operator processes about customers, visitors and the directory's
    people, why, how long, and their rights (links to the opt-out and the sub-processors)."""
    return render(
        request,
        "privacy/policy.html",
        {"dispute_window_days": settings.LEADPILOT_DISPUTE_WINDOW_DAYS},
    )


@public_page()
def cookie_policy(request: HttpRequest) -> HttpResponse:
    """/cookies/: every cookie the app sets (privacy/cookies.py), by category, and the settings."""
    names = {code: name for code, name, _description in CATEGORIES}
    cookies = [{"info": c, "category_name": names[c.category]} for c in cookies_registry()]
    return render(request, "privacy/cookies.html", {"cookies": cookies})


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


@require_POST
def consent_save(request: HttpRequest) -> HttpResponse:
    """The banner's three buttons (and the cookie policy's form without JavaScript): record the
    choice, put it in the consent cookie and delete the cookies of categories not allowed. Answers
    JSON to the banner's script, else goes back to `next`. An unknown choice is a 400."""
    action = request.POST.get("choice", "")
    try:
        categories = consent_choice_from(action=action, selected=request.POST.getlist("category"))
    except ValueError:
        message = _("Choose “Accept all”, “Necessary only” or “Save choices”.")
        return JsonResponse({"error": message}, status=400)
    choice = consent_record(
        action=action, categories=categories, user=request.user, ip=client_ip(request)
    )
    if request.headers.get("Accept", "").startswith("application/json"):
        response: HttpResponse = JsonResponse(
            {"version": choice.version, "categories": sorted(choice.categories)}
        )
    else:
        response = HttpResponseRedirect(_back(request))
    response.set_cookie(
        CONSENT_COOKIE,
        choice.cookie_value(),
        max_age=int(CONSENT_MAX_AGE.total_seconds()),
        secure=request.is_secure(),
        httponly=False,  # static/js/consent.js reads it to run the allowed categories' scripts
        samesite="Lax",
    )
    if FUNCTIONAL not in categories:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH)
    if STATISTICS not in categories:
        response.delete_cookie(STATS_COOKIE)
    return response
