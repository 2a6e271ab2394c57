"""Celery entry points of the enrichment app: thin, named, JSON kwargs, idempotent."""

from __future__ import annotations

from celery import shared_task

from .people import site_decision_makers_discover
from .services import contact_points_recheck_due


@shared_task(
    name="enrichment.recheck_greylisted_contacts",
    acks_late=True,
    soft_time_limit=840,
    time_limit=900,
)
def recheck_greylisted_contacts(*, limit: int = 1000) -> dict:
    """Re-verify greylisted e-mail contacts whose re-check time has come (beat, every 5 min)."""
    return contact_points_recheck_due(limit=limit)


@shared_task(
    name="enrichment.discover_site_people",
    acks_late=True,
    soft_time_limit=1740,
    time_limit=1800,
)
def discover_site_people(*, limit: int = 500) -> dict:
    """Decision-makers from the company's own site for companies whose registry names none
    (beat, hourly; each company's site read at most once per LEADPILOT_SITE_PEOPLE_RECHECK_DAYS)."""
    return site_decision_makers_discover(limit=limit)
