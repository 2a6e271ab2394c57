"""The public site (no login): landing, pricing, what counts as a lead, terms (cached with an
ETag, website/caching.py). The privacy and cookie policies are the privacy app's."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from billing.plans import plan_free, plans_offered
from organizations.views import home as dashboard_home

from .caching import public_page

CURRENCIES = ("SEK", "EUR", "GBP")
# The currency a visitor sees first, by the page's language (they can switch).
CURRENCY_OF_LANGUAGE = {"sv": "SEK", "en-gb": "GBP", "nb": "EUR"}


def _plans_stamp(request: HttpRequest) -> str:
    rows = plans_offered().values_list(
        "code",
        "name",
        "currency",
        "monthly_quota",
        "price_per_month",
        "price_per_extra_lead",
        "hard_cap",
        "free_trial_leads",
    )
    return repr(list(rows))


def landing(request: HttpRequest) -> HttpResponse:
    """/ : the product in a few sentences for visitors; a logged-in user goes to their dashboard."""
    if request.user.is_authenticated:
        return dashboard_home(request)
    return _landing(request)


@public_page(_plans_stamp)
def _landing(request: HttpRequest) -> HttpResponse:
    return render(request, "website/landing.html", {"free_plan": plan_free()})


def _currency_of(request: HttpRequest) -> str:
    chosen = request.GET.get("currency", "").upper()
    if chosen in CURRENCIES:
        return chosen
    return CURRENCY_OF_LANGUAGE.get(get_language() or "", "EUR")


@public_page(_plans_stamp)
def pricing(request: HttpRequest) -> HttpResponse:
    """/pricing/: the plans on offer (billing's Plan rows) in the visitor's currency."""
    currency = _currency_of(request)
    plans = [
        p for p in plans_offered(currency=currency) if p.currency == currency or p.kind == "free"
    ]
    return render(
        request,
        "website/pricing.html",
        {"plans": plans, "currency": currency, "currencies": CURRENCIES},
    )


@public_page()
def what_counts(request: HttpRequest) -> HttpResponse:
    """/what-counts-as-a-lead/: found, enriched, verified; what is free; how to dispute."""
    return render(
        request,
        "website/what_counts.html",
        {"dispute_window_days": settings.LEADPILOT_DISPUTE_WINDOW_DAYS},
    )


@public_page()
def terms(request: HttpRequest) -> HttpResponse:
    """/terms/: the terms of service, with the operator and the policy version."""
    return render(request, "website/terms.html", {"free_plan": plan_free()})
