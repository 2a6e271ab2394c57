"""Thin Celery entry points of privacy work."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="privacy.retention_sweep", acks_late=True, soft_time_limit=1800, time_limit=1900)
def retention_sweep() -> dict[str, int]:
    """Daily (beat): withdraw pending leads of suppressed people (the safety net), then delete
    what is held past its retention period. Idempotent."""
    withdrawn = services.suppressed_pending_withdraw()
    result = services.retention_sweep()
    return {
        "leads_withdrawn": withdrawn,
        "contact_points_deleted": result.contact_points_deleted,
        "evidence_cleared": result.evidence_cleared,
        "leads_pseudonymised": result.leads_pseudonymised,
        "optout_requests_deleted": result.optout_requests_deleted,
    }
